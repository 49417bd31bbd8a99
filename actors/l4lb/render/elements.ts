// The element view of layout D (dataplane.md §3–4): every VIP change is an element change in one of
// four sets/maps, the rules never change. Desired states, deltas and the kernel read back are all
// compared here as nft element text, so "equal" means "nft would print the same element".
import type { DesiredState, Endpoint, Family, KernelVip } from "../model.js";

/** `vips` (vmap → goto nb-N), `backends` (VIP . index → backend), `unavailable` (reject), `hairpin` (masquerade). */
export type SetName = "vips" | "backends" | "unavailable" | "hairpin";

export interface Element {
  readonly set: SetName;
  /** nft text of the key: `11.0.0.1 . tcp . 80`, `11.0.0.1 . tcp . 80 . 2`, `9.0.1.2 . 9.0.1.2`. */
  readonly key: string;
  /** nft text of the value (maps only): `goto nb-3`, `9.0.1.2 . 8080`. */
  readonly value?: string;
}

export interface ElementOps {
  readonly deletes: readonly Element[];
  readonly adds: readonly Element[];
}

/** The order nft must see them in one transaction: a key is deleted before it is added again. */
const DELETE_ORDER: readonly SetName[] = ["vips", "backends", "unavailable", "hairpin"];
const ADD_ORDER: readonly SetName[] = ["backends", "unavailable", "hairpin", "vips"];

export function vipElementKey(v: Pick<KernelVip, "addr" | "protocol" | "port">): string {
  return `${v.addr} . ${v.protocol} . ${v.port}`;
}

export function endpointText(e: Endpoint): string {
  return `${e.ip} . ${e.port}`;
}

export function hairpinElement(addr: string): Element {
  return { set: "hairpin", key: `${addr} . ${addr}` };
}

/**
 * The elements one VIP puts in the kernel. Serving backends: the vmap element and one backend
 * element per index; none serving: one `unavailable` element (rejected at once). A VIP with more
 * backends than the layout's chains gets nothing (desiredState skips those; never emit a goto to a
 * chain that does not exist).
 */
export function vipElements(v: KernelVip, maxBackends: number): Element[] {
  const key = vipElementKey(v);
  const n = v.backends.length;
  if (n === 0) return [{ set: "unavailable", key }];
  if (n > maxBackends) return [];
  const out: Element[] = [{ set: "vips", key, value: `goto nb-${n}` }];
  for (let i = 0; i < n; i++) {
    const b = v.backends[i];
    if (b) out.push({ set: "backends", key: `${key} . ${i}`, value: endpointText(b) });
  }
  return out;
}

/** Every element of one family's table for a desired state. */
export function stateElements(state: DesiredState, family: Family, maxBackends: number): Element[] {
  const out: Element[] = [];
  for (const v of state.vips.values()) if (v.family === family) for (const e of vipElements(v, maxBackends)) out.push(e);
  for (const a of state.hairpin[family]) out.push(hairpinElement(a));
  return out;
}

/** Same backends in the same order: the kernel holds the same elements (draining is not in the kernel). */
export function sameKernelVip(a: KernelVip, b: KernelVip): boolean {
  if (a === b) return true;
  if (a.backends.length !== b.backends.length) return false;
  for (let i = 0; i < a.backends.length; i++) {
    const x = a.backends[i];
    const y = b.backends[i];
    if (x?.ip !== y?.ip || x?.port !== y?.port) return false;
  }
  return true;
}

const id = (e: Element): string => `${e.set}\u0000${e.key}`;

/** What turns `from` into `to`: a changed value is a delete and an add of the same key. */
export function diffElements(from: Iterable<Element>, to: Iterable<Element>): ElementOps {
  const have = new Map<string, Element>();
  for (const e of from) have.set(id(e), e);
  const deletes: Element[] = [];
  const adds: Element[] = [];
  const wanted = new Set<string>();
  for (const e of to) {
    const k = id(e);
    wanted.add(k);
    const h = have.get(k);
    if (h && h.value === e.value) continue;
    if (h) deletes.push(h);
    adds.push(e);
  }
  for (const [k, h] of have) if (!wanted.has(k)) deletes.push(h);
  return { deletes, adds };
}

/** nft commands for element operations on one family's table, batched per set. "" when none. */
export function renderOps(family: Family, table: string, ops: ElementOps): string {
  const lines: string[] = [];
  for (const set of DELETE_ORDER) {
    const keys = ops.deletes.filter((e) => e.set === set).map((e) => e.key);
    if (keys.length > 0) lines.push(`delete element ${family} ${table} ${set} { ${keys.join(", ")} }`);
  }
  for (const set of ADD_ORDER) {
    const items = ops.adds.filter((e) => e.set === set).map(elementText);
    if (items.length > 0) lines.push(`add element ${family} ${table} ${set} { ${items.join(", ")} }`);
  }
  return lines.length > 0 ? `${lines.join("\n")}\n` : "";
}

export function elementText(e: Element): string {
  return e.value === undefined ? e.key : `${e.key} : ${e.value}`;
}
