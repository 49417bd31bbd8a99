// Helpers for the CRDT property tests (actors/gossip/crdt/*.test.ts): random operation histories on
// 2–4 replicas, and ways to rewrite a state into an equal but differently ordered one.
import fc from "fast-check";
import { hlcNow } from "../../actors/gossip/crdt/hlc.js";
import { merge, emptyKey } from "../../actors/gossip/crdt/kernel.js";
import { addToSet, removeField, removeFromSet, removeKey, setField } from "../../actors/gossip/crdt/map.js";
import type { CausalContext, Dot, Hlc, KeyState, Value } from "../../actors/gossip/crdt/types.js";

export const REPLICAS = ["a@1", "b@1", "c@1", "d@1"] as const;
export const FIELDS = ["f", "g", "s"] as const;
/** Few values, so that histories collide on them; two of them are the same element (key order). */
export const VALUES: readonly Value[] = [0, 1, "x", null, true, [1, 2], { p: 1, q: 2 }, { q: 2, p: 1 }];

type Op =
  | { readonly t: "set"; readonly at: number; readonly field: string; readonly value: Value; readonly wall: number }
  | { readonly t: "add" | "remove"; readonly at: number; readonly field: string; readonly elem: Value }
  | { readonly t: "removeField"; readonly at: number; readonly field: string }
  | { readonly t: "removeKey"; readonly at: number }
  /** Replica `at` merges the full state of replica `from` (a sync, or anti-entropy). */
  | { readonly t: "sync"; readonly at: number; readonly from: number }
  /** Replica `at` merges one delta produced so far (index modulo their number). */
  | { readonly t: "deliver"; readonly at: number; readonly pick: number };

interface History {
  readonly replicas: readonly string[];
  readonly states: readonly KeyState[];
  /** Every delta produced, in production order. */
  readonly deltas: readonly KeyState[];
}

const at = fc.nat(3);
const field = fc.constantFrom(...FIELDS);
const value = fc.constantFrom(...VALUES);

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { arbitrary: fc.record({ t: fc.constant("set" as const), at, field, value, wall: fc.nat(4) }), weight: 3 },
  { arbitrary: fc.record({ t: fc.constant("add" as const), at, field, elem: value }), weight: 3 },
  { arbitrary: fc.record({ t: fc.constant("remove" as const), at, field, elem: value }), weight: 2 },
  fc.record({ t: fc.constant("removeField" as const), at, field }),
  fc.record({ t: fc.constant("removeKey" as const), at }),
  { arbitrary: fc.record({ t: fc.constant("sync" as const), at, from: fc.nat(3) }), weight: 2 },
  { arbitrary: fc.record({ t: fc.constant("deliver" as const), at, pick: fc.nat() }), weight: 2 },
);

/** Replays `ops` on `n` replicas that start empty; each replica merges every delta it makes. */
function run(n: number, ops: readonly Op[]): History {
  const replicas = REPLICAS.slice(0, n);
  const states: KeyState[] = replicas.map(() => emptyKey());
  const clocks: (Hlc | undefined)[] = replicas.map(() => undefined);
  const deltas: KeyState[] = [];
  for (const op of ops) {
    const i = op.at % n;
    const s = states[i] as KeyState;
    if (op.t === "sync") states[i] = merge(s, states[op.from % n] as KeyState);
    else if (op.t === "deliver") states[i] = deltas.length === 0 ? s : merge(s, deltas[op.pick % deltas.length] as KeyState);
    else {
      const r = replicas[i] as string;
      if (op.t === "set") clocks[i] = hlcNow(clocks[i], r, op.wall);
      const d = mutate(op, s, r, clocks[i]);
      deltas.push(d);
      states[i] = merge(s, d);
    }
  }
  return { replicas, states, deltas };
}

function mutate(op: Exclude<Op, { t: "sync" | "deliver" }>, s: KeyState, r: string, clock: Hlc | undefined): KeyState {
  switch (op.t) {
    case "set":
      return setField(s, r, op.field, op.value, clock as Hlc);
    case "add":
      return addToSet(s, r, op.field, op.elem);
    case "remove":
      return removeFromSet(s, op.field, op.elem);
    case "removeField":
      return removeField(s, op.field);
    case "removeKey":
      return removeKey(s);
  }
}

export const historyArb: fc.Arbitrary<History> = fc
  .record({ n: fc.integer({ min: 2, max: 4 }), ops: fc.array(opArb, { maxLength: 40, size: "max" }) })
  .map(({ n, ops }) => run(n, ops));

/** Every state a history holds: the replicas' states and the deltas. */
export function statesOf(h: History): KeyState[] {
  return [...h.states, ...h.deltas, emptyKey()];
}

/** A random state of a random history. */
export const stateArb: fc.Arbitrary<KeyState> = historyArb.chain((h) => fc.constantFrom(...statesOf(h)));

/** Fisher–Yates with a given sequence of random numbers (so fast-check can shrink it). */
function permute<T>(xs: readonly T[], rnd: readonly number[]): T[] {
  const out = xs.slice();
  for (let i = out.length - 1; i > 0; i--) {
    const j = (rnd[i % Math.max(1, rnd.length)] ?? 0) % (i + 1);
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

/**
 * An equal state in a non-canonical layout: entries and cloud shuffled, vv keys reordered, part of
 * the vv spelled out as cloud dots, objects in values with keys reversed, all as fresh objects.
 */
export function scramble(s: KeyState, rnd: readonly number[]): KeyState {
  const entries = permute(s.entries, rnd).map(([d, e]) => [{ r: d.r, n: d.n }, e.k === "lww" ? { ...e, v: reverseKeys(e.v) } : { ...e, e: reverseKeys(e.e) }] as const);
  const vvKeys = permute(Object.keys(s.cc.vv), rnd);
  const vv: Record<string, number> = {};
  const cloud: Dot[] = s.cc.cloud.map((d) => ({ r: d.r, n: d.n }));
  for (const r of vvKeys) {
    const n = s.cc.vv[r] as number;
    // Spell the top one or two dots out; the compact form must fold them back.
    const spelled = Math.min(n, ((rnd[0] ?? 0) % 3));
    if (n - spelled > 0) vv[r] = n - spelled;
    for (let k = n - spelled + 1; k <= n; k++) cloud.push({ r, n: k });
  }
  const cc: CausalContext = { vv, cloud: permute(cloud, rnd) };
  return { entries, cc };
}

function reverseKeys(v: Value): Value {
  if (v === null || typeof v !== "object") return v;
  if (Array.isArray(v)) return v.map(reverseKeys);
  const o = v as { readonly [k: string]: Value };
  return Object.fromEntries(Object.keys(o).reverse().map((k) => [k, reverseKeys(o[k] as Value)]));
}

/** Deep Object.freeze, to prove that functions do not mutate their inputs. */
export function deepFreeze<T>(x: T): T {
  if (x !== null && typeof x === "object") {
    Object.freeze(x);
    for (const v of Object.values(x)) deepFreeze(v);
  }
  return x;
}
