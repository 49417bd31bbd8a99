// The dot kernel (Almeida, Shoker, Baquero, "Delta State Replicated Data Types", §6): live entries
// by dot plus the causal context of everything seen. Join keeps an entry iff both sides have it or
// the other side has not seen its dot; seen-but-absent means removed.
//
// Canonical form, which every function here returns and the fast paths rely on: entries sorted by
// dot with no duplicate dot, every entry's dot inside the context, and a compact context (dots.ts).
// Canonical states merge in one linear pass and hash without sorting. Other input (a hand-built or
// reordered state) is brought to canonical form first, at O(n log n) once.
import { compactWith, compareDots, covers, EMPTY_CC, forget, isCompact, joinContexts, sameContext } from "./dots.js";
import type { Dot, Entry, KeyState, ReplicaId } from "./types.js";
import { canonicalValue, sameValue } from "./value.js";

type Pair = readonly [Dot, Entry];

const NO_ENTRIES: readonly Pair[] = Object.freeze([]);
const EMPTY: KeyState = Object.freeze({ entries: NO_ENTRIES, cc: EMPTY_CC });

/** The state of a key nobody wrote. Frozen and shared: states are values. */
export function emptyKey(): KeyState {
  return EMPTY;
}

export function isEmpty(s: KeyState): boolean {
  return s.entries.length === 0;
}

export function isCanonical(s: KeyState): boolean {
  if (!isCompact(s.cc)) return false;
  const es = s.entries;
  for (let i = 0; i < es.length; i++) {
    const dot = (es[i] as Pair)[0];
    if (i > 0 && compareDots((es[i - 1] as Pair)[0], dot) >= 0) return false;
    if (!covers(s.cc, dot)) return false;
  }
  return true;
}

/** `s` itself when canonical, else its canonical copy (sorted, deduplicated, context completed). */
export function canonical(s: KeyState): KeyState {
  if (isCanonical(s)) return s;
  const sorted = s.entries.slice().sort((x, y) => compareDots(x[0], y[0]));
  const entries: Pair[] = [];
  for (const p of sorted) {
    const last = entries[entries.length - 1];
    if (last !== undefined && compareDots(last[0], p[0]) === 0) entries[entries.length - 1] = pick(last, p);
    else entries.push(p);
  }
  // A context that misses its own entries' dots would break associativity; the dots are added.
  const cc = compactWith(s.cc, entries.map((p) => p[0]));
  return { entries, cc };
}

function sameEntry(a: Entry, b: Entry): boolean {
  if (a === b) return true;
  if (a.f !== b.f) return false;
  if (a.k === "lww") return b.k === "lww" && a.ts.t === b.ts.t && a.ts.c === b.ts.c && a.ts.r === b.ts.r && sameValue(a.v, b.v);
  return b.k === "set" && sameValue(a.e, b.e);
}

function entryKey(e: Entry): string {
  return e.k === "lww" ? JSON.stringify([e.f, e.k, canonicalValue(e.v), e.ts.t, e.ts.c, e.ts.r]) : JSON.stringify([e.f, e.k, canonicalValue(e.e)]);
}

/**
 * One dot is one event, so two states never disagree on its entry — unless a writer is buggy or
 * hostile. Then the smaller canonical encoding wins on every node, which keeps merge commutative and
 * the replicas convergent (their hashes would otherwise differ forever).
 */
function pick(a: Pair, b: Pair): Pair {
  if (sameEntry(a[1], b[1])) return a;
  return entryKey(a[1]) <= entryKey(b[1]) ? a : b;
}

/** Join of two states: commutative, associative, idempotent. Returns `a` itself when `b` adds nothing. */
export function merge(a0: KeyState, b0: KeyState): KeyState {
  const a = canonical(a0);
  const b = canonical(b0);
  if (a === b) return a;
  const { entries, changed } = joinEntries(a, b);
  const cc = joinContexts(a.cc, b.cc);
  if (!changed && cc === a.cc) return a;
  // A merged state is kept (a store holds one per key): its entries at their exact size, not an
  // array grown by push with room for 16 more (~130 bytes a key).
  return { entries: entries.length === 0 ? NO_ENTRIES : entries.slice(), cc };
}

function joinEntries(a: KeyState, b: KeyState): { entries: Pair[]; changed: boolean } {
  const xs = a.entries;
  const ys = b.entries;
  const out: Pair[] = [];
  let changed = false;
  let i = 0;
  let j = 0;
  while (i < xs.length || j < ys.length) {
    const x = xs[i];
    const y = ys[j];
    const c = x === undefined ? 1 : y === undefined ? -1 : compareDots(x[0], y[0]);
    if (c < 0) {
      // Only in a: kept unless b has seen the dot (then b removed it).
      if (covers(b.cc, (x as Pair)[0])) changed = true;
      else out.push(x as Pair);
      i++;
    } else if (c > 0) {
      if (!covers(a.cc, (y as Pair)[0])) {
        out.push(y as Pair);
        changed = true;
      }
      j++;
    } else {
      const p = pick(x as Pair, y as Pair);
      if (p !== x) changed = true;
      out.push(p);
      i++;
      j++;
    }
  }
  return { entries: out, changed };
}

/**
 * Removes the entries of the replicas `drop` selects and forgets them in the context. For dead
 * replicas only: their dots would otherwise stay in every context forever. It is a homomorphism of
 * merge — dropReplicas(merge(a, b)) equals merge(dropReplicas(a), dropReplicas(b)) — but merging a
 * state that still holds a dropped replica brings it back, so the store filters input from, and
 * about, dead replicas before merging.
 */
export function dropReplicas(s0: KeyState, drop: (r: ReplicaId) => boolean): KeyState {
  const s = canonical(s0);
  const entries = s.entries.filter((p) => !drop(p[0].r));
  const cc = forget(s.cc, drop);
  if (cc === s.cc && entries.length === s.entries.length) return s;
  return { entries, cc };
}

/** Replicas that own live entries, sorted. */
export function replicasOf(s: KeyState): ReplicaId[] {
  const seen = new Set<ReplicaId>();
  for (const p of s.entries) seen.add(p[0].r);
  return [...seen].sort();
}

/** Same set of (dot, entry) pairs (values compared canonically) and same compacted context. */
export function equalStates(a0: KeyState, b0: KeyState): boolean {
  const a = canonical(a0);
  const b = canonical(b0);
  if (a === b) return true;
  if (a.entries.length !== b.entries.length || !sameContext(a.cc, b.cc)) return false;
  return a.entries.every((x, i) => {
    const y = b.entries[i] as Pair;
    return compareDots(x[0], y[0]) === 0 && sameEntry(x[1], y[1]);
  });
}
