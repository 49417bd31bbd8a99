// Dots and causal contexts. Every context this module returns is *compact*: `vv` has only counters
// ≥ 1, and `cloud` is sorted by (r, n), holds no dot that `vv` covers and no dot that would extend `vv`
// (n = vv[r] + 1). That form is unique for a set of dots, so contexts compare and hash structurally.
import type { CausalContext, Dot, ReplicaId } from "./types.js";

type MutableVv = Record<ReplicaId, number>;

/** Order of dots: replica id (UTF-16 code units), then counter. Entries and clouds are kept in it. */
export function compareDots(a: Dot, b: Dot): number {
  if (a.r !== b.r) return a.r < b.r ? -1 : 1;
  return a.n - b.n;
}

/**
 * vv[r], or 0. Reads through `typeof` because a replica id such as "constructor" or "__proto__"
 * would otherwise return an inherited member of Object.prototype.
 */
function vvGet(vv: Readonly<Record<ReplicaId, number>>, r: ReplicaId): number {
  const n = vv[r];
  return typeof n === "number" ? n : 0;
}

/** Own-property write. Plain assignment of "__proto__" would change the prototype instead. */
export function setOwn<T>(obj: Record<string, T>, key: string, value: T): void {
  if (key === "__proto__") Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
  else obj[key] = value;
}

export const EMPTY_CC: CausalContext = Object.freeze({ vv: Object.freeze({}), cloud: Object.freeze([]) });

/** The cloud of every context without one: one frozen array, not an empty array per key. */
const NO_CLOUD: readonly Dot[] = EMPTY_CC.cloud;

/**
 * Shared instances of what most keys hold: a dot of one replica, and a context of one replica with
 * no cloud (every key one node wrote). Dots and contexts are values — nothing changes one after
 * this module made it — so equal ones can be one frozen object; at 30,000 keys that saves a dot, a
 * context, its vv and its cloud per key (~4.5 MB). Bounded: the caches are cleared when full.
 */
const SHARED_MAX = 8192;
const sharedContexts = new Map<string, CausalContext>();
const sharedDots = new Map<string, Dot>();

function sharedKey(r: ReplicaId, n: number): string {
  return `${n}\u0000${r}`;
}

/** The dot (r, n), shared with every other holder of it. */
export function dotOf(r: ReplicaId, n: number): Dot {
  const key = sharedKey(r, n);
  let d = sharedDots.get(key);
  if (d === undefined) {
    if (sharedDots.size >= SHARED_MAX) sharedDots.clear();
    d = Object.freeze({ r, n });
    sharedDots.set(key, d);
  }
  return d;
}

/** A compact context made here (vv owned by the caller, not used by it again), shared when common. */
function made(vv: MutableVv, cloud: readonly Dot[]): CausalContext {
  if (cloud.length > 0) return { vv, cloud };
  let only: ReplicaId | undefined;
  for (const r in vv) {
    if (only !== undefined) return { vv, cloud: NO_CLOUD };
    only = r;
  }
  if (only === undefined) return EMPTY_CC;
  const key = sharedKey(only, vvGet(vv, only));
  let cc = sharedContexts.get(key);
  if (cc === undefined) {
    if (sharedContexts.size >= SHARED_MAX) sharedContexts.clear();
    cc = Object.freeze({ vv: Object.freeze(vv), cloud: NO_CLOUD });
    sharedContexts.set(key, cc);
  }
  return cc;
}

/** Binary search in a sorted cloud. */
function cloudHas(cloud: readonly Dot[], d: Dot): boolean {
  let lo = 0;
  let hi = cloud.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const c = compareDots(cloud[mid] as Dot, d);
    if (c === 0) return true;
    if (c < 0) lo = mid + 1;
    else hi = mid - 1;
  }
  return false;
}

/** Has this context seen dot d? (Requires a sorted cloud, as every compact context has.) */
export function covers(cc: CausalContext, d: Dot): boolean {
  return d.n <= vvGet(cc.vv, d.r) || (cc.cloud.length > 0 && cloudHas(cc.cloud, d));
}

/**
 * Folds a sorted list of dots into `vv` (mutated; the caller owns it) and returns the dots that stay
 * in the cloud. Dots already covered and duplicates are dropped. One pass: within one replica the
 * dots ascend, so once a gap is met no later dot of that replica can extend vv.
 */
function foldInto(vv: MutableVv, sorted: readonly Dot[]): Dot[] {
  const cloud: Dot[] = [];
  for (const d of sorted) {
    const top = vvGet(vv, d.r);
    if (d.n <= top) continue;
    if (d.n === top + 1) setOwn(vv, d.r, d.n);
    else if (cloud.length === 0 || compareDots(cloud[cloud.length - 1] as Dot, d) !== 0) cloud.push(d);
  }
  return cloud;
}

/** The compact context of a sorted set of dots (e.g. the dots a removal observed). */
export function contextOf(sorted: readonly Dot[]): CausalContext {
  if (sorted.length === 0) return EMPTY_CC;
  const vv: MutableVv = {};
  const cloud = foldInto(vv, sorted);
  return made(vv, cloud);
}

/** Merges two sorted dot lists (duplicates kept; foldInto drops them). */
function mergeSorted(a: readonly Dot[], b: readonly Dot[]): Dot[] {
  if (a.length === 0) return b.slice();
  if (b.length === 0) return a.slice();
  const out: Dot[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    if (compareDots(a[i] as Dot, b[j] as Dot) <= 0) out.push(a[i++] as Dot);
    else out.push(b[j++] as Dot);
  }
  while (i < a.length) out.push(a[i++] as Dot);
  while (j < b.length) out.push(b[j++] as Dot);
  return out;
}

/** Is every dot of compact `b` seen by compact `a`? (A vv counter above a's is never in a's cloud.) */
export function includes(a: CausalContext, b: CausalContext): boolean {
  for (const r in b.vv) if (vvGet(b.vv, r) > vvGet(a.vv, r)) return false;
  for (const d of b.cloud) if (!covers(a, d)) return false;
  return true;
}

/** Union of two compact contexts, compacted. Returns `a` itself when `b` adds nothing. */
export function joinContexts(a: CausalContext, b: CausalContext): CausalContext {
  if (includes(a, b)) return a;
  if (includes(b, a)) return b;
  const vv: MutableVv = { ...a.vv };
  for (const r in b.vv) if (vvGet(b.vv, r) > vvGet(vv, r)) setOwn(vv, r, vvGet(b.vv, r));
  const cloud = foldInto(vv, mergeSorted(a.cloud, b.cloud));
  return made(vv, cloud);
}

/** Highest counter of replica r this context has seen (its next dot is this + 1). */
export function topOf(cc: CausalContext, r: ReplicaId): number {
  let top = vvGet(cc.vv, r);
  for (const d of cc.cloud) if (d.r === r && d.n > top) top = d.n;
  return top;
}

/** Forgets every dot of the replicas `drop` selects. Returns `cc` itself when none is known. */
export function forget(cc: CausalContext, drop: (r: ReplicaId) => boolean): CausalContext {
  const vv: MutableVv = {};
  let changed = false;
  for (const r in cc.vv) {
    if (drop(r)) changed = true;
    else setOwn(vv, r, vvGet(cc.vv, r));
  }
  const cloud = cc.cloud.filter((d) => !drop(d.r));
  if (!changed && cloud.length === cc.cloud.length) return cc;
  return made(vv, cloud);
}

/** Is this context in compact form (see the top of this file)? */
export function isCompact(cc: CausalContext): boolean {
  for (const r in cc.vv) {
    const n = cc.vv[r];
    if (typeof n !== "number" || !Number.isSafeInteger(n) || n < 1) return false;
  }
  const cloud = cc.cloud;
  for (let i = 0; i < cloud.length; i++) {
    const d = cloud[i] as Dot;
    if (d.n <= vvGet(cc.vv, d.r) + 1) return false;
    if (i > 0 && compareDots(cloud[i - 1] as Dot, d) >= 0) return false;
  }
  return true;
}

/** Compact form of any context, plus extra dots it must include (entry dots a sender left out). */
export function compactWith(cc: CausalContext, extra: readonly Dot[]): CausalContext {
  const vv: MutableVv = {};
  for (const r in cc.vv) {
    const n = cc.vv[r];
    if (typeof n === "number" && Number.isFinite(n) && n >= 1) setOwn(vv, r, Math.floor(n));
  }
  const dots = cc.cloud.concat(extra).sort(compareDots);
  return made(vv, foldInto(vv, dots));
}

/** Structural equality of two compact contexts. */
export function sameContext(a: CausalContext, b: CausalContext): boolean {
  if (a === b) return true;
  if (a.cloud.length !== b.cloud.length) return false;
  let count = 0;
  for (const r in a.vv) {
    count++;
    if (vvGet(a.vv, r) !== vvGet(b.vv, r)) return false;
  }
  for (const _ in b.vv) count--;
  if (count !== 0) return false;
  return a.cloud.every((d, i) => compareDots(d, b.cloud[i] as Dot) === 0);
}
