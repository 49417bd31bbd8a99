// IP literals and CIDRs for the renderer: one canonical text per address (the kernel's and nft's
// own form, so desired and read-back elements compare as strings) and prefix tests for the
// forbidden ranges. Pure (`node:net`'s isIP and BlockList are off limits in a pure folder), and
// allocation-free for IPv4: desiredState reads 30,000 addresses per table.
import type { Family } from "../model.js";

export interface Ip {
  readonly family: Family;
  /** IPv4 dotted quad; IPv6 compressed lower case (RFC 5952, as nft and inet_ntop print it). */
  readonly text: string;
}

const IPV6_CHARS = /^[0-9a-fA-F:.]{2,45}$/;

/** Strict dotted quad (no leading zeros, no shorthand), by hand: a regex test allocates match state. */
export function isIpv4(s: string): boolean {
  const n = s.length;
  if (n < 7 || n > 15) return false;
  let parts = 0;
  let i = 0;
  while (i <= n) {
    let v = 0;
    let digits = 0;
    while (i < n) {
      const c = s.charCodeAt(i);
      if (c < 48 || c > 57) break;
      if (digits === 1 && v === 0) return false; // leading zero
      v = v * 10 + (c - 48);
      digits++;
      i++;
    }
    if (digits === 0 || digits > 3 || v > 255) return false;
    parts++;
    if (i === n) break;
    if (s.charCodeAt(i) !== 46 || parts === 4) return false;
    i++;
  }
  return parts === 4;
}

/** The family of a canonical text this module produced. */
export function familyOf(text: string): Family {
  return text.includes(":") ? "ip6" : "ip";
}

/** The canonical form of an IP literal, or undefined. IPv4-mapped IPv6 stays IPv6 (the kernel keeps families apart). */
export function canonicalIp(s: unknown): Ip | undefined {
  if (typeof s !== "string") return undefined;
  if (isIpv4(s)) return { family: "ip", text: s };
  const v6 = canonicalV6(s);
  return v6 === undefined ? undefined : { family: "ip6", text: v6 };
}

function canonicalV6(s: string): string | undefined {
  if (!s.includes(":") || !IPV6_CHARS.test(s)) return undefined;
  try {
    // The WHATWG URL host parser is the one IPv6 serialiser in the platform that needs no I/O module.
    return new URL(`http://[${s}]/`).hostname.slice(1, -1);
  } catch {
    return undefined;
  }
}

/**
 * Canonical text of an IP literal, for one pass over a table: IPv4 is its own canonical text (no
 * allocation); IPv6, which needs the URL parser, is memoised. Undefined when not an IP literal.
 */
export function ipCache(): (s: string) => string | undefined {
  const memo = new Map<string, string | null>();
  return (s) => {
    if (isIpv4(s)) return s;
    let hit = memo.get(s);
    if (hit === undefined) {
      hit = canonicalV6(s) ?? null;
      memo.set(s, hit);
    }
    return hit ?? undefined;
  };
}

export interface Cidr {
  readonly text: string;
  readonly family: Family;
  /** Address as 16-bit groups (2 for IPv4, 8 for IPv6), masked to the prefix. */
  readonly groups: readonly number[];
  /** Per group, the mask the prefix leaves. */
  readonly masks: readonly number[];
}

/** `9.0.0.0/8`, `fd01:c::/64` → a Cidr; undefined when malformed. */
export function parseCidr(text: string): Cidr | undefined {
  const slash = text.indexOf("/");
  const ip = canonicalIp(slash < 0 ? text : text.slice(0, slash));
  if (!ip) return undefined;
  const max = ip.family === "ip" ? 32 : 128;
  const bitsText = slash < 0 ? String(max) : text.slice(slash + 1);
  if (!/^[0-9]{1,3}$/.test(bitsText) || Number(bitsText) > max) return undefined;
  const masks: number[] = [];
  for (let left = Number(bitsText), i = 0; i < max / 16; i++, left -= 16) masks.push(left >= 16 ? 0xffff : left <= 0 ? 0 : (0xffff << (16 - left)) & 0xffff);
  const g = groupsOf(ip.text);
  return { text, family: ip.family, groups: g.map((x, i) => x & (masks[i] ?? 0)), masks };
}

/** True when the canonical address `text` lies inside `cidr` (same family only). */
export function inCidr(text: string, cidr: Cidr): boolean {
  return familyOf(text) === cidr.family && within(text, cidr);
}

/** The first of `cidrs` that holds the canonical address `text`. */
export function firstCidr(text: string, cidrs: readonly Cidr[]): Cidr | undefined {
  const family = familyOf(text);
  for (const c of cidrs) if (c.family === family && within(text, c)) return c;
  return undefined;
}

function within(text: string, cidr: Cidr): boolean {
  if (cidr.family === "ip") {
    // Two 16-bit groups straight from the dotted quad, without splitting it.
    let hi = 0;
    let lo = 0;
    let octet = 0;
    let k = 0;
    for (let i = 0; i <= text.length; i++) {
      const c = i < text.length ? text.charCodeAt(i) : 46;
      if (c !== 46) {
        octet = octet * 10 + (c - 48);
        continue;
      }
      if (k < 2) hi = (hi << 8) | octet;
      else lo = (lo << 8) | octet;
      k++;
      octet = 0;
    }
    return (hi & (cidr.masks[0] ?? 0)) === cidr.groups[0] && (lo & (cidr.masks[1] ?? 0)) === cidr.groups[1];
  }
  const g = groupsOf(text);
  for (let i = 0; i < 8; i++) if (((g[i] ?? 0) & (cidr.masks[i] ?? 0)) !== cidr.groups[i]) return false;
  return true;
}

function groupsOf(text: string): number[] {
  if (familyOf(text) === "ip") {
    const o = text.split(".").map(Number);
    return [((o[0] ?? 0) << 8) | (o[1] ?? 0), ((o[2] ?? 0) << 8) | (o[3] ?? 0)];
  }
  // Canonical text: at most one "::", IPv4-embedded tails written as hex groups by the URL parser.
  const [head = "", tail] = text.split("::");
  const parse = (part: string): number[] => (part === "" ? [] : part.split(":").map((h) => parseInt(h, 16)));
  const h = parse(head);
  const t = tail === undefined ? [] : parse(tail);
  return [...h, ...new Array<number>(8 - h.length - t.length).fill(0), ...t];
}
