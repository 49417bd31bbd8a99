// Prefixes and MACs for the overlay renderer, on top of config/ip.ts (addresses as integers). One
// canonical text per value — the kernel's own form: dotted quad, RFC 5952 IPv6, network address
// with its length (`fd01:b:0:0:7::/80`, as `ip -j route` prints what was added as
// `fd01:b::7:0:0:0/80`), lower-case MAC — so desired and read-back entries compare as strings.
import { formatIp, parseIp, type Family } from "../../../config/ip.js";

export type { Family };

export interface Prefix {
  readonly family: Family;
  /** Network address (host bits zero). */
  readonly net: bigint;
  readonly bits: number;
}

export const familyBits = (f: Family): number => (f === "ip" ? 32 : 128);

/** A literal of either family in its canonical text, or undefined. */
export function canonicalIp(s: unknown): string | undefined {
  if (typeof s !== "string") return undefined;
  const ip = parseIp(s);
  return ip && formatIp(ip.family, ip.value);
}

/**
 * `9.0.7.0/24` → a Prefix. `strict`: host bits must be zero (a subnet as the allocator writes it);
 * otherwise they are masked off (a route's destination). A bare address is a host prefix.
 */
export function parsePrefix(s: unknown, strict = true): Prefix | undefined {
  if (typeof s !== "string") return undefined;
  const slash = s.indexOf("/");
  const ip = parseIp(slash < 0 ? s : s.slice(0, slash));
  if (!ip) return undefined;
  const max = familyBits(ip.family);
  const bitsText = slash < 0 ? String(max) : s.slice(slash + 1);
  if (!/^(0|[1-9][0-9]{0,2})$/.test(bitsText) || Number(bitsText) > max) return undefined;
  const bits = Number(bitsText);
  const net = ip.value & mask(ip.family, bits);
  if (strict && net !== ip.value) return undefined;
  return { family: ip.family, net, bits };
}

export function formatPrefix(p: Prefix): string {
  return `${formatIp(p.family, p.net)}/${p.bits}`;
}

/** An address with a prefix length, as `ip addr` takes it: `44.128.0.7/20`. */
export function withPrefix(family: Family, value: bigint, bits: number): string {
  return `${formatIp(family, value)}/${bits}`;
}

export function mask(family: Family, bits: number): bigint {
  const max = familyBits(family);
  return ((1n << BigInt(bits)) - 1n) << BigInt(max - bits);
}

/** Last address of a prefix. */
export function lastOf(p: Prefix): bigint {
  return p.net | ((1n << BigInt(familyBits(p.family) - p.bits)) - 1n);
}

export function contains(p: Prefix, family: Family, value: bigint): boolean {
  return p.family === family && (value & mask(family, p.bits)) === p.net;
}

/** Two prefixes share an address (one holds the other). */
export function overlaps(a: Prefix, b: Prefix): boolean {
  if (a.family !== b.family) return false;
  const bits = Math.min(a.bits, b.bits);
  const m = mask(a.family, bits);
  return (a.net & m) === (b.net & m);
}

/** The two halves of a prefix (undefined for a host prefix). */
export function halves(p: Prefix): [Prefix, Prefix] | undefined {
  const max = familyBits(p.family);
  if (p.bits >= max) return undefined;
  const bits = p.bits + 1;
  return [
    { family: p.family, net: p.net, bits },
    { family: p.family, net: p.net | (1n << BigInt(max - bits)), bits },
  ];
}

const MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;

/** `70:B3:D5:00:00:07` → `70:b3:d5:00:00:07`; undefined when malformed. */
export function canonicalMac(s: unknown): string | undefined {
  if (typeof s !== "string") return undefined;
  const m = s.toLowerCase();
  return MAC.test(m) ? m : undefined;
}

/** A MAC a VTEP may have: not multicast (low bit of the first octet) and not all zero. */
export function isUnicastMac(mac: string): boolean {
  return (parseInt(mac.slice(0, 2), 16) & 1) === 0 && mac !== "00:00:00:00:00:00";
}
