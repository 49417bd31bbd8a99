// IP addresses as integers and back, for walking address ranges (named VIPs, overlay subnets); in
// the lower layer because the L4LB, the overlay and config validation all need it. Hand-written, not
// node:net (a pure folder does no socket imports, and net has no integer form anyway); the text
// written is the canonical form KernelVip.addr expects: dotted quad, and RFC 5952 IPv6 (lower case,
// no leading zeros, the longest run of two or more zero groups as "::", the first on a tie), the
// same text the WHATWG URL serialiser gives (the test compares them).
/** nftables' words for the families, which the L4LB and the overlay share: `ip` (IPv4), `ip6`. */
export type Family = "ip" | "ip6";

const V4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const HEXTET = /^[0-9a-fA-F]{1,4}$/;

export const V4_MAX = (1n << 32n) - 1n;
export const V6_MAX = (1n << 128n) - 1n;

export interface ParsedIp {
  readonly family: Family;
  readonly value: bigint;
}

/** A strict IPv4 dotted quad or an IPv6 address (`::` and an IPv4 tail allowed), else undefined. */
export function parseIp(s: string): ParsedIp | undefined {
  if (V4.test(s)) return { family: "ip", value: v4Value(s) };
  const v6 = parseV6(s);
  return v6 === undefined ? undefined : { family: "ip6", value: v6 };
}

export function formatIp(family: Family, value: bigint): string {
  return family === "ip" ? formatV4(value) : formatV6(value);
}

function v4Value(s: string): bigint {
  return s.split(".").reduce((acc, part) => (acc << 8n) | BigInt(Number(part)), 0n);
}

function formatV4(v: bigint): string {
  if (v < 0n || v > V4_MAX) throw new RangeError(`${v} is not an IPv4 address`);
  const n = Number(v);
  return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

function parseV6(s: string): bigint | undefined {
  if (s.length < 2 || s.length > 45) return undefined;
  const halves = s.split("::");
  if (halves.length > 2) return undefined;
  const groups = (part: string): number[] | undefined => {
    if (part === "") return [];
    const out: number[] = [];
    const tokens = part.split(":");
    for (let i = 0; i < tokens.length; i++) {
      const t = tokens[i] as string;
      if (i === tokens.length - 1 && t.includes(".")) {
        if (!V4.test(t)) return undefined;
        const v = Number(v4Value(t));
        out.push(v >>> 16, v & 0xffff);
      } else if (HEXTET.test(t)) out.push(parseInt(t, 16));
      else return undefined;
    }
    return out;
  };
  const head = groups(halves[0] as string);
  const tail = halves.length === 2 ? groups(halves[1] as string) : [];
  if (head === undefined || tail === undefined) return undefined;
  // An IPv4 tail is only allowed at the very end.
  if (halves.length === 2 && (halves[0] as string).includes(".")) return undefined;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined;
  const all = [...head, ...Array<number>(halves.length === 2 ? missing : 0).fill(0), ...tail];
  return all.reduce((acc, g) => (acc << 16n) | BigInt(g), 0n);
}

function formatV6(v: bigint): string {
  if (v < 0n || v > V6_MAX) throw new RangeError(`${v} is not an IPv6 address`);
  const g: number[] = [];
  for (let i = 7; i >= 0; i--) g.push(Number((v >> BigInt(i * 16)) & 0xffffn));
  // The longest run of zero groups (at least two), the first one on a tie.
  let bestAt = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      bestAt = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (xs: number[]) => xs.map((x) => x.toString(16)).join(":");
  if (bestAt < 0) return hex(g);
  return `${hex(g.slice(0, bestAt))}::${hex(g.slice(bestAt + bestLen))}`;
}
