// Where a named VIP's address is looked for: a start derived from the name, then every address of
// the range once, linearly, wrapping at the end (dcos-net's probe order). The allocator takes the
// first one no other name holds, so two nodes asking for one name walk the same sequence, and a name
// freed and claimed again usually gets its old address back.
//
// The start is SHA-1 of the DNS name, as a 160-bit integer, mod (max − min): exactly dcos-net's IPv6
// rule (min + SHA1(Name) mod Qty, Qty = max − min), so its test vector holds (`qux.ipv6` →
// fd01:c::6d6d:9c64:fd19:f251). dcos-net's IPv4 start is erlang:phash2(Name, Qty), an Erlang-term
// hash with no spec outside the BEAM; we use the SHA-1 rule for IPv4 too. Matching it buys nothing:
// dcos-net's addresses were per node and could disagree, ours come from the cluster's KV.
// node:crypto here is computation, not I/O (lint's pure-folder rule allows it).
import { createHash } from "node:crypto";
import { allocationName, type Family } from "../model.js";
import { formatIp } from "../../../config/ip.js";
import { rangeSize, type NamedRange } from "./range.js";

export interface NamedRanges {
  readonly v4: NamedRange;
  readonly v6: NamedRange;
}

/** The offset from `range.min` the probe for `dnsName` starts at (0 for a range of one address). */
export function startOffset(dnsName: string, range: NamedRange): bigint {
  const qty = range.max - range.min;
  if (qty === 0n) return 0n;
  return BigInt(`0x${createHash("sha1").update(dnsName, "utf8").digest("hex")}`) % qty;
}

/**
 * Every address of `range` once, in probe order for `dnsName`, as canonical text. Lazy: a /8 or a
 * 2^64 range costs only what the caller takes.
 */
export function* candidates(dnsName: string, range: NamedRange): Generator<string, void, undefined> {
  const size = rangeSize(range);
  let v = range.min + startOffset(dnsName, range);
  for (let i = 0n; i < size; i++) {
    yield formatIp(range.family, v);
    v = v === range.max ? range.min : v + 1n;
  }
}

/** `v4:mygroupmyapp.marathon` → family and DNS name (the inverse of model.ts allocationName). */
export function parseAllocationName(name: string): { readonly family: Family; readonly dnsName: string } | undefined {
  const m = /^(v4|v6):(.+)$/.exec(name);
  if (!m) return undefined;
  const family: Family = m[1] === "v4" ? "ip" : "ip6";
  const dnsName = m[2] as string;
  return allocationName(dnsName, family) === name ? { family, dnsName } : undefined;
}

/** The candidates of an allocation name in the range of its family; undefined for a name that is not one. */
export function candidatesFor(name: string, ranges: NamedRanges): Iterable<string> | undefined {
  const parsed = parseAllocationName(name);
  if (!parsed) return undefined;
  return candidates(parsed.dnsName, parsed.family === "ip" ? ranges.v4 : ranges.v6);
}
