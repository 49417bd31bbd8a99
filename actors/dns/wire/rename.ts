// dcos-dns name aliases (dns.md §2): a query under an alias suffix is looked up under the real
// suffix, and every name in the answer that ends with the real suffix is written back under the
// suffix the client asked, so resolvers see answers for the name they queried.
import { isAtOrBelow, lowerAscii } from "./names.js";

export interface RenameRule {
  /** Alias suffix the client may ask under, lower-case: "thisdcos.global". */
  readonly from: string;
  /** Suffix the zones are stored under: "thisdcos.directory". */
  readonly to: string;
}

/**
 * dcos-net's fixed aliases. The third dcos-net alias, `<label>.<cluster-crypto-id>.dcos.directory`,
 * depends on the cluster id: add `{ from: "<id>.dcos.directory", to: "thisdcos.directory" }`.
 */
export const DCOS_RENAMES: readonly RenameRule[] = Object.freeze([
  { from: "dclb.thisdcos.directory", to: "l4lb.thisdcos.directory" },
  { from: "dclb.thisdcos.global", to: "l4lb.thisdcos.directory" },
  { from: "thisdcos.global", to: "thisdcos.directory" },
]);

interface Renamed {
  /** The lower-case name to look up. */
  readonly lookup: string;
  /** Undoes the rename on one answer name; absent when no rule applied. */
  readonly back?: (name: string) => string;
}

/** Applies the longest matching rule to a question name (case as sent). */
export function renameQuery(name: string, rules: readonly RenameRule[] = DCOS_RENAMES): Renamed {
  const lower = lowerAscii(name);
  let rule: RenameRule | undefined;
  for (const r of rules) if (isAtOrBelow(lower, r.from) && (!rule || r.from.length > rule.from.length)) rule = r;
  if (!rule) return { lookup: lower };
  const head = lower.slice(0, lower.length - rule.from.length);
  // The client's own spelling of the alias suffix, so 0x20-randomised case survives the round trip.
  const asked = name.slice(name.length - rule.from.length);
  return { lookup: head + rule.to, back: (n) => renameBack(n, rule.to, asked) };
}

/** `name` with a trailing `to` suffix (label boundary, any case) replaced by `asked`; else unchanged. */
export function renameBack(name: string, to: string, asked: string): string {
  const lower = lowerAscii(name);
  if (!isAtOrBelow(lower, to)) return name;
  return name.slice(0, name.length - to.length) + asked;
}
