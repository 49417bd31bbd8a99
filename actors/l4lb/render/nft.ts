// Desired state → nft text, layout D of dataplane.md §3–4 (one table per family): a vmap sends
// (VIP . proto . port) to the shared chain nb-N of its backend count, which reads the backend
// from one map keyed (VIP . proto . port . index) with `numgen random mod N` (or `jhash ip saddr
// mod N`). Every VIP change is an element change; the rules below are fixed per (family, options).
import type { DesiredState, Family, KernelVip, Selection } from "../model.js";
import { diffElements, elementText, hairpinElement, renderOps, sameKernelVip, stateElements, vipElements, type Element } from "./elements.js";

export interface RenderOptions {
  /** Table name in both families (L4LB_TABLE). */
  readonly table: string;
  readonly selection: Selection;
  /** Chains nb-1..nb-maxBackends. */
  readonly maxBackends: number;
  /** false: no `ip6` table at all (a host without IPv6 netfilter). Default true. */
  readonly ipv6?: boolean;
}

/**
 * Our NAT chains run before every other DNAT chain of the hook (iptables-nft, Docker, CNI portmap
 * use -100). The first chain that DNATs a new connection wins, and among chains of equal priority
 * the one registered last runs first, so at -100 a port-mapping rule on the VIP's port added after
 * our table would take the VIP's traffic (dcos-net PR #138, DCOS_OSS-4970; the integration test
 * shows both). VIP addresses are also never local addresses here, so `fib daddr type local` /
 * `addrtype LOCAL` port-mapping rules cannot match them at all. -101 still sorts after conntrack
 * (-200), which NAT needs.
 */
export const NAT_PRIORITY = -101;

/** One fixed rule of the table: typed, serialised only at the edge (text here, summary in readback). */
export type Rule =
  | { readonly kind: "dnat-map"; readonly n: number; readonly selection: Selection }
  | { readonly kind: "dispatch" }
  | { readonly kind: "hairpin-masquerade" }
  | { readonly kind: "reject-unavailable" }
  | { readonly kind: "reject-tcp" }
  | { readonly kind: "reject-other" };

export interface ChainSpec {
  readonly name: string;
  readonly hook?: { readonly type: "nat" | "filter"; readonly hook: "prerouting" | "output" | "postrouting" | "forward"; readonly priority: number };
  readonly rules: readonly Rule[];
}

export interface SetSpec {
  readonly name: "vips" | "backends" | "hairpin" | "unavailable";
  readonly map: boolean;
  /** The `type …` / `typeof …` line. */
  readonly decl: string;
}

export const familyWords = (f: Family) =>
  f === "ip" ? { addrType: "ipv4_addr", proto: "ip", icmp: "icmp" } : { addrType: "ipv6_addr", proto: "ip6", icmp: "icmpv6" };

export function setsOf(family: Family): SetSpec[] {
  const { addrType: a, proto: p } = familyWords(family);
  return [
    { name: "vips", map: true, decl: `type ${a} . inet_proto . inet_service : verdict` },
    // typeof, not type: the index is a bare integer. numgen, not jhash: nft 1.0.6 segfaults listing a
    // map declared `typeof … jhash …`, and both are 32-bit integers, so one map serves both selections.
    { name: "backends", map: true, decl: `typeof ${p} daddr . meta l4proto . th dport . numgen random mod 64 : ${p} daddr . th dport` },
    { name: "hairpin", map: false, decl: `type ${a} . ${a}` },
    { name: "unavailable", map: false, decl: `type ${a} . inet_proto . inet_service` },
  ];
}

export function chainsOf(opts: Pick<RenderOptions, "selection" | "maxBackends">): ChainSpec[] {
  const chains: ChainSpec[] = [];
  for (let n = 1; n <= opts.maxBackends; n++) chains.push({ name: `nb-${n}`, rules: [{ kind: "dnat-map", n, selection: opts.selection }] });
  chains.push(
    { name: "prerouting", hook: { type: "nat", hook: "prerouting", priority: NAT_PRIORITY }, rules: [{ kind: "dispatch" }] },
    { name: "output", hook: { type: "nat", hook: "output", priority: NAT_PRIORITY }, rules: [{ kind: "dispatch" }] },
    { name: "postrouting", hook: { type: "nat", hook: "postrouting", priority: 100 }, rules: [{ kind: "hairpin-masquerade" }] },
    // A VIP with backends but none serving: refuse new connections at once (RST / port unreachable)
    // instead of letting them hang towards an address nobody answers (kube-proxy does the same).
    { name: "reject-output", hook: { type: "filter", hook: "output", priority: 0 }, rules: [{ kind: "reject-unavailable" }] },
    { name: "reject-forward", hook: { type: "filter", hook: "forward", priority: 0 }, rules: [{ kind: "reject-unavailable" }] },
    { name: "reject-vip", rules: [{ kind: "reject-tcp" }, { kind: "reject-other" }] },
  );
  return chains;
}

export function ruleText(rule: Rule, family: Family): string {
  const { proto: p, icmp } = familyWords(family);
  const dispatchKey = `${p} daddr . meta l4proto . th dport`;
  switch (rule.kind) {
    case "dnat-map": {
      const pick = rule.selection === "random" ? `numgen random mod ${rule.n}` : `jhash ${p} saddr mod ${rule.n}`;
      return `meta l4proto { tcp, udp } dnat ${p} to ${dispatchKey} . ${pick} map @backends`;
    }
    case "dispatch":
      return `${dispatchKey} vmap @vips`;
    case "hairpin-masquerade":
      // A backend reaching its own VIP: without SNAT the reply would bypass the un-DNAT.
      return `ct status dnat ${p} saddr . ${p} daddr @hairpin masquerade`;
    case "reject-unavailable":
      return `${dispatchKey} @unavailable goto reject-vip`;
    case "reject-tcp":
      return "meta l4proto tcp reject with tcp reset";
    case "reject-other":
      return `reject with ${icmp} port-unreachable`;
  }
}

export function families(opts: Pick<RenderOptions, "ipv6">): Family[] {
  return opts.ipv6 === false ? ["ip"] : ["ip", "ip6"];
}

/**
 * Both tables replaced in one transaction: `table` (creates it if absent, so the delete cannot
 * fail), `delete table`, then the whole table. Packets see the old or the new table, never a mix.
 */
export function renderFull(state: DesiredState, opts: RenderOptions): string {
  return families(opts)
    .map((f) => renderTable(state, f, opts))
    .join("");
}

function renderTable(state: DesiredState, family: Family, opts: RenderOptions): string {
  const t = `${family} ${opts.table}`;
  const out: string[] = [`table ${t}`, `delete table ${t}`, `table ${t} {`];
  const elements = stateElements(state, family, opts.maxBackends);
  for (const s of setsOf(family)) {
    out.push(`\t${s.map ? "map" : "set"} ${s.name} {`, `\t\t${s.decl}`);
    const items = elements.filter((e) => e.set === s.name).map(elementText);
    if (items.length > 0) out.push(`\t\telements = {\n\t\t\t${items.join(",\n\t\t\t")}\n\t\t}`);
    out.push("\t}");
  }
  for (const c of chainsOf(opts)) {
    out.push(`\tchain ${c.name} {`);
    if (c.hook) out.push(`\t\ttype ${c.hook.type} hook ${c.hook.hook} priority ${c.hook.priority}; policy accept;`);
    for (const r of c.rules) out.push(`\t\t${ruleText(r, family)}`);
    out.push("\t}");
  }
  out.push("}");
  return `${out.join("\n")}\n`;
}

export interface Delta {
  /** One nft transaction; "" when nothing changed. */
  readonly text: string;
  /** Element operations in it. */
  readonly ops: number;
  /** The same operations per kernelVipKey (and `hairpin ip` / `hairpin ip6`), to retry VIP by VIP. */
  readonly parts: ReadonlyArray<{ readonly key: string; readonly text: string }>;
}

/**
 * Element operations from `prev` to `next` (same options). Only VIPs whose kernel elements differ
 * are rendered: unchanged ones cost one comparison, so a change costs O(changed VIPs).
 */
export function renderDelta(prev: DesiredState, next: DesiredState, opts: RenderOptions): Delta {
  const fams = new Set(families(opts));
  const parts: Array<{ key: string; text: string }> = [];
  const all: Record<Family, { deletes: Element[]; adds: Element[] }> = { ip: { deletes: [], adds: [] }, ip6: { deletes: [], adds: [] } };
  let ops = 0;
  const emit = (key: string, family: Family, from: Element[], to: Element[]): void => {
    const d = diffElements(from, to);
    const n = d.deletes.length + d.adds.length;
    if (n === 0) return;
    ops += n;
    all[family].deletes.push(...d.deletes);
    all[family].adds.push(...d.adds);
    parts.push({ key, text: renderOps(family, opts.table, d) });
  };
  const elems = (v: KernelVip | undefined): Element[] => (v ? vipElements(v, opts.maxBackends) : []);
  for (const [key, p] of prev.vips) {
    if (!fams.has(p.family)) continue;
    const n = next.vips.get(key);
    if (n && sameKernelVip(p, n)) continue;
    emit(key, p.family, elems(p), elems(n));
  }
  for (const [key, n] of next.vips) {
    if (fams.has(n.family) && !prev.vips.has(key)) emit(key, n.family, [], elems(n));
  }
  for (const f of fams) {
    const before = prev.hairpin[f];
    const after = next.hairpin[f];
    if (before === after) continue;
    // Set membership, not element lists: a node may hold thousands of local backends.
    const gone: Element[] = [];
    const added: Element[] = [];
    for (const a of before) if (!after.has(a)) gone.push(hairpinElement(a));
    for (const a of after) if (!before.has(a)) added.push(hairpinElement(a));
    emit(`hairpin ${f}`, f, gone, added);
  }
  const text = [...fams].map((f) => renderOps(f, opts.table, all[f])).join("");
  return { text, ops, parts };
}

/** Removes both tables; succeeds also when they are absent (each is created first, then deleted). */
export function renderCleanup(opts: Pick<RenderOptions, "table"> & Partial<RenderOptions>): string {
  return families(opts).map((f) => `table ${f} ${opts.table}\ndelete table ${f} ${opts.table}\n`).join("");
}
