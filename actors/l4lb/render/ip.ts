// IP literals and CIDRs for the renderer: one canonical text per address (the kernel's and nft's
// own form, so desired and read-back elements compare as strings) and prefix tests for the
// forbidden ranges. Pure; `node:net` (isIP, BlockList) is off limits in a pure folder.
import type { Family } from "../model.js";

export interface Ip {
  readonly family: Family;
  /** IPv4 dotted quad; IPv6 compressed lower case (RFC 5952, as nft and inet_ntop print it). */
  readonly text: string;
}

const IPV4 = /^(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(\.(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}$/;
const IPV6_CHARS = /^[0-9a-fA-F:.]{2,45}$/;

/** The canonical form of an IP literal, or undefined. IPv4-mapped IPv6 stays IPv6 (the kernel keeps families apart). */
export function canonicalIp(s: unknown): Ip | undefined {
  if (typeof s !== "string") return undefined;
  if (IPV4.test(s)) return { family: "ip", text: s };
  if (!s.includes(":") || !IPV6_CHARS.test(s)) return undefined;
  try {
    // The WHATWG URL host parser is the one IPv6 serialiser in the platform that needs no I/O module.
    const host = new URL(`http://[${s}]/`).hostname;
    return { family: "ip6", text: host.slice(1, -1) };
  } catch {
    return undefined;
  }
}

/**
 * canonicalIp for one pass over a table. IPv4 (nearly every address) costs one regex test and no
 * allocation beyond the result; IPv6, whose canonical form needs the URL parser, is memoised.
 */
export function ipCache(): (s: string) => Ip | undefined {
  const memo = new Map<string, Ip | null>();
  return (s) => {
    if (IPV4.test(s)) return { family: "ip", text: s };
    let hit = memo.get(s);
    if (hit === undefined) {
      hit = canonicalIp(s) ?? null;
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
  return { text, family: ip.family, groups: groupsOf(ip.text, ip.family).map((g, i) => g & (masks[i] ?? 0)), masks };
}

/** True when `ip` lies inside `cidr` (same family only). */
export function inCidr(ip: Ip, cidr: Cidr): boolean {
  return ip.family === cidr.family && within(groupsOf(ip.text, ip.family), cidr);
}

/** The first of `cidrs` that holds `ip`. */
export function firstCidr(ip: Ip, cidrs: readonly Cidr[]): Cidr | undefined {
  let g: number[] | undefined;
  for (const c of cidrs) {
    if (c.family !== ip.family) continue;
    g ??= groupsOf(ip.text, ip.family);
    if (within(g, c)) return c;
  }
  return undefined;
}

function within(g: readonly number[], cidr: Cidr): boolean {
  for (let i = 0; i < g.length; i++) if (((g[i] ?? 0) & (cidr.masks[i] ?? 0)) !== cidr.groups[i]) return false;
  return true;
}

function groupsOf(text: string, family: Family): number[] {
  if (family === "ip") {
    const a = text.indexOf(".");
    const b = text.indexOf(".", a + 1);
    const c = text.indexOf(".", b + 1);
    return [(Number(text.slice(0, a)) << 8) | Number(text.slice(a + 1, b)), (Number(text.slice(b + 1, c)) << 8) | Number(text.slice(c + 1))];
  }
  // Canonical text: at most one "::", IPv4-embedded tails written as hex groups by the URL parser.
  const [head = "", tail] = text.split("::");
  const parse = (part: string): number[] => (part === "" ? [] : part.split(":").map((h) => parseInt(h, 16)));
  const h = parse(head);
  const t = tail === undefined ? [] : parse(tail);
  return [...h, ...new Array<number>(8 - h.length - t.length).fill(0), ...t];
}
