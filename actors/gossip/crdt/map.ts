// The observed-remove map: mutators that return deltas, and the read view.
//
// Every mutator removes what it has *observed* by putting those dots in the delta's context without
// their entries; a write adds one fresh dot. Concurrent writes that were not observed survive the
// merge: two LWW writes both stay until read picks the highest HLC (and the next write replaces
// both); a concurrent add and remove of one element leave the add (add-wins).
import { compareDots, contextOf, dotOf, setOwn, topOf } from "./dots.js";
import { hlcCompare } from "./hlc.js";
import { canonical, emptyKey } from "./kernel.js";
import type { Dot, Entry, FieldView, Hlc, KeyState, KeyView, ReplicaId, Value } from "./types.js";
import { canonicalValue, sameValue } from "./value.js";

type Pair = readonly [Dot, Entry];

/** Dots of the entries `match` selects, in dot order (entries of a canonical state are sorted). */
function observed(s: KeyState, match: (e: Entry) => boolean): Dot[] {
  const dots: Dot[] = [];
  for (const p of s.entries) if (match(p[1])) dots.push(p[0]);
  return dots;
}

/** A delta that removes `gone` (dots of s) and, when given, adds one entry under a fresh dot. */
function delta(s: KeyState, gone: Dot[], replica?: ReplicaId, entry?: Entry): KeyState {
  if (replica === undefined || entry === undefined) {
    return gone.length === 0 ? emptyKey() : { entries: [], cc: contextOf(gone) };
  }
  // The fresh dot is above everything this replica has written to the key, as long as the caller
  // merges each delta into its state before the next mutation (the store does).
  const dot: Dot = dotOf(replica, topOf(s.cc, replica) + 1);
  let at = gone.length;
  while (at > 0 && compareDots(gone[at - 1] as Dot, dot) > 0) at--;
  gone.splice(at, 0, dot);
  return { entries: [[dot, entry]], cc: contextOf(gone) };
}

/** LWW write: replaces every observed dot of the field (of either kind). */
export function setField(s0: KeyState, replica: ReplicaId, field: string, value: Value, ts: Hlc): KeyState {
  const s = canonical(s0);
  return delta(s, observed(s, (e) => e.f === field), replica, { f: field, k: "lww", v: value, ts });
}

/** Add-wins add: replaces the observed dots of the same element (same canonical value). */
export function addToSet(s0: KeyState, replica: ReplicaId, field: string, elem: Value): KeyState {
  const s = canonical(s0);
  return delta(s, observed(s, (e) => e.f === field && e.k === "set" && sameValue(e.e, elem)), replica, { f: field, k: "set", e: elem });
}

/** Removes the observed dots of the element; an add this state has not seen survives it. */
export function removeFromSet(s0: KeyState, field: string, elem: Value): KeyState {
  const s = canonical(s0);
  return delta(s, observed(s, (e) => e.f === field && e.k === "set" && sameValue(e.e, elem)));
}

export function removeField(s0: KeyState, field: string): KeyState {
  const s = canonical(s0);
  return delta(s, observed(s, (e) => e.f === field));
}

export function removeKey(s0: KeyState): KeyState {
  const s = canonical(s0);
  return delta(s, observed(s, () => true));
}

interface FieldAcc {
  lww?: Pair;
  set?: Map<string, Value>;
}

/**
 * The key's value, fields in name order; undefined when no entry is live. A register shows the
 * write with the highest HLC (ties, possible only with a misused clock, go to the higher dot). A set
 * shows its distinct elements in canonical-JSON order. A field holding both kinds — writers that
 * disagree on its type — reads as the register: one defined answer beats a merged guess.
 */
export function read(s: KeyState): KeyView | undefined {
  if (s.entries.length === 0) return undefined;
  const fields = new Map<string, FieldAcc>();
  for (const p of s.entries) {
    const e = p[1];
    let acc = fields.get(e.f);
    if (acc === undefined) fields.set(e.f, (acc = {}));
    if (e.k === "lww") {
      if (acc.lww === undefined || laterWrite(p, acc.lww)) acc.lww = p;
    } else {
      (acc.set ??= new Map()).set(canonicalValue(e.e), e.e);
    }
  }
  const view: Record<string, FieldView> = {};
  for (const f of [...fields.keys()].sort()) setOwn(view, f, viewOf(fields.get(f) as FieldAcc));
  return view;
}

function laterWrite(p: Pair, q: Pair): boolean {
  const a = p[1];
  const b = q[1];
  if (a.k !== "lww" || b.k !== "lww") return false;
  const c = hlcCompare(a.ts, b.ts);
  return c > 0 || (c === 0 && compareDots(p[0], q[0]) > 0);
}

function viewOf(acc: FieldAcc): FieldView {
  const w = acc.lww?.[1];
  if (w !== undefined && w.k === "lww") return { type: "lww", value: w.v, ts: w.ts };
  const set = acc.set ?? new Map<string, Value>();
  const keys = [...set.keys()].sort();
  return { type: "set", values: keys.map((k) => set.get(k) as Value) };
}
