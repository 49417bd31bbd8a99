// Subnets as integers (config/ip.ts does the addresses): parsing a CIDR, the addresses a container
// may get from it, and the derived MACs. Pure.
import { formatIp, parseIp, type Family } from "../../config/ip.js";

export interface Cidr {
  readonly family: Family;
  /** The network address (host bits zero). */
  readonly base: bigint;
  readonly prefix: number;
}

const BITS: Record<Family, number> = { ip: 32, ip6: 128 };

/** `9.0.7.0/25` → Cidr, or a reason; host bits must be zero (a typo'd subnet is refused, not rounded). */
export function parseCidr(s: string, family: Family): Cidr | string {
  const m = /^([^/]+)\/(\d{1,3})$/.exec(s);
  const ip = m ? parseIp(m[1] as string) : undefined;
  if (!m || !ip || ip.family !== family) return `not an ${family === "ip" ? "IPv4" : "IPv6"} CIDR`;
  const prefix = Number(m[2]);
  const bits = BITS[family];
  if (prefix > bits) return `prefix /${prefix} is longer than ${bits} bits`;
  const hostMask = (1n << BigInt(bits - prefix)) - 1n;
  if ((ip.value & hostMask) !== 0n) return `host bits are set (the network is ${formatIp(family, ip.value & ~hostMask)}/${prefix})`;
  return { family, base: ip.value, prefix };
}

export function cidrText(c: Cidr): string {
  return `${formatIp(c.family, c.base)}/${c.prefix}`;
}

export function size(c: Cidr): bigint {
  return 1n << BigInt(BITS[c.family] - c.prefix);
}

export function contains(c: Cidr, value: bigint): boolean {
  return value >= c.base && value < c.base + size(c);
}

/**
 * The addresses a container may get: the subnet without its network address, without the IPv4
 * broadcast address, and without the gateway. Lowest and highest, inclusive (empty when first > last).
 */
export function hostRange(c: Cidr): { readonly first: bigint; readonly last: bigint } {
  const end = c.base + size(c) - 1n;
  return { first: c.base + 1n, last: c.family === "ip" ? end - 1n : end };
}

/** The number of addresses a container may get from `c` with `gateway` taken out. */
export function poolSize(c: Cidr, gateway: bigint): bigint {
  const { first, last } = hostRange(c);
  if (last < first) return 0n;
  return last - first + 1n - (gateway >= first && gateway <= last ? 1n : 0n);
}

/**
 * MACs derived from the container's IPv4 address: stable per address, so a peer's stale ARP entry
 * for a reused address still points at the right interface. Container end 0a:58:<ip> (what the
 * reference bridge plugin and kubenet used), host end fe:58:<ip>: a Linux bridge without a MAC set
 * by hand takes the lowest of its ports' MACs, and fe… is never the lowest (libvirt's trick for taps).
 */
export function derivedMacs(v4: bigint): { readonly container: string; readonly host: string } {
  const tail = [24n, 16n, 8n, 0n].map((s) => Number((v4 >> s) & 255n).toString(16).padStart(2, "0")).join(":");
  return { container: `0a:58:${tail}`, host: `fe:58:${tail}` };
}
