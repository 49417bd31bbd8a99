import { describe, expect, it } from "@jest/globals";
import fc from "fast-check";
import { hashKey } from "./hash.js";
import { canonical, dropReplicas, emptyKey, equalStates, isCanonical, merge, replicasOf } from "./kernel.js";
import { addToSet, read, setField } from "./map.js";
import { deepFreeze, historyArb, scramble, stateArb, statesOf } from "../../../testkit/gossip/crdt.js";
import type { KeyState } from "./types.js";

const foldMerge = (xs: readonly KeyState[]): KeyState => xs.reduce((acc, x) => merge(acc, x), emptyKey());
const rnd = fc.array(fc.nat(), { minLength: 1, maxLength: 8 });

describe("merge is a join (on states and deltas of random 2–4 replica histories)", () => {
  it("is commutative", () => {
    fc.assert(fc.property(stateArb, stateArb, (a, b) => equalStates(merge(a, b), merge(b, a))));
  });

  it("is associative", () => {
    fc.assert(fc.property(stateArb, stateArb, stateArb, (a, b, c) => equalStates(merge(merge(a, b), c), merge(a, merge(b, c)))));
  });

  it("is idempotent, and returns its first argument when the second adds nothing", () => {
    fc.assert(
      fc.property(stateArb, stateArb, (a, b) => {
        expect(merge(a, a)).toBe(a);
        const ab = merge(a, b);
        expect(merge(ab, b)).toBe(ab);
        expect(merge(ab, a)).toBe(ab);
      }),
    );
  });

  it("commutes within one history (replicas that share dots)", () => {
    fc.assert(
      fc.property(historyArb, (h) => {
        const all = statesOf(h);
        for (const a of all) for (const b of all) if (!equalStates(merge(a, b), merge(b, a))) return false;
        return true;
      }),
      { numRuns: 50 },
    );
  });

  it("returns canonical states and does not mutate frozen inputs", () => {
    fc.assert(
      fc.property(stateArb, stateArb, rnd, (a, b, r) => {
        const x = deepFreeze(scramble(a, r));
        const y = deepFreeze(b);
        const before = JSON.stringify([x, y]);
        const m = merge(x, y);
        expect(isCanonical(m)).toBe(true);
        expect(JSON.stringify([x, y])).toBe(before);
      }),
    );
  });
});

describe("deltas", () => {
  it("in any order, with duplicates, give the state that merging the full states gives", () => {
    const arb = historyArb.chain((h) => fc.tuple(fc.constant(h), fc.shuffledSubarray([...h.deltas], { minLength: h.deltas.length }), fc.array(fc.nat(), { maxLength: 10 })));
    fc.assert(
      fc.property(arb, ([h, shuffled, dups]) => {
        const withDups = [...shuffled, ...dups.filter(() => h.deltas.length > 0).map((i) => h.deltas[i % h.deltas.length] as KeyState)];
        return equalStates(foldMerge(withDups), foldMerge(h.states));
      }),
    );
  });

  it("delivered late (after later deltas) still give the same state", () => {
    const arb = historyArb.chain((h) => fc.tuple(fc.constant(h), fc.array(fc.boolean(), { minLength: h.deltas.length, maxLength: h.deltas.length })));
    fc.assert(
      fc.property(arb, ([h, late]) => {
        const onTime = h.deltas.filter((_, i) => late[i] !== true);
        const delayed = h.deltas.filter((_, i) => late[i] === true);
        return equalStates(foldMerge([...onTime, ...delayed.reverse()]), foldMerge(h.deltas));
      }),
    );
  });

  it("exchanged between all replicas make them converge: equal states, hashes and reads", () => {
    const arb = historyArb.chain((h) => fc.tuple(fc.constant(h), fc.array(fc.shuffledSubarray([...h.deltas], { minLength: h.deltas.length }), { minLength: h.states.length, maxLength: h.states.length })));
    fc.assert(
      fc.property(arb, ([h, orders]) => {
        const finals = h.states.map((s, i) => (orders[i] as KeyState[]).reduce((acc, d) => merge(acc, d), s));
        const first = finals[0] as KeyState;
        for (const s of finals) {
          expect(equalStates(s, first)).toBe(true);
          expect(hashKey(s)).toBe(hashKey(first));
          expect(read(s)).toEqual(read(first));
        }
      }),
    );
  });
});

describe("canonical form", () => {
  it("a scrambled layout is equal, hashes equal and canonicalises back", () => {
    fc.assert(
      fc.property(stateArb, rnd, (s, r) => {
        const x = scramble(s, r);
        expect(equalStates(x, s)).toBe(true);
        expect(hashKey(x)).toBe(hashKey(s));
        expect(canonical(x)).toEqual(canonical(s));
      }),
    );
  });

  it("adds missing entry dots to the context and keeps one entry per dot, whatever the order", () => {
    const e1 = { f: "x", k: "set", e: 1 } as const;
    const e2 = { f: "x", k: "set", e: 2 } as const;
    const a: KeyState = { entries: [[{ r: "a", n: 2 }, e1], [{ r: "a", n: 2 }, e2]], cc: { vv: {}, cloud: [] } };
    const b: KeyState = { entries: [[{ r: "a", n: 2 }, e2], [{ r: "a", n: 2 }, e1]], cc: { vv: {}, cloud: [] } };
    expect(canonical(a)).toEqual({ entries: [[{ r: "a", n: 2 }, e1]], cc: { vv: {}, cloud: [{ r: "a", n: 2 }] } });
    expect(equalStates(a, b)).toBe(true);
  });
});

describe("dropReplicas", () => {
  const victim = fc.constantFrom("a@1", "b@1", "c@1");
  const drop = (v: string) => (r: string) => r === v;

  it("removes the replica's entries and every trace of it in the context", () => {
    fc.assert(
      fc.property(stateArb, victim, (s, v) => {
        const d = dropReplicas(deepFreeze(s), drop(v));
        expect(d.entries.some(([dot]) => dot.r === v)).toBe(false);
        expect(Object.keys(d.cc.vv)).not.toContain(v);
        expect(d.cc.cloud.some((dot) => dot.r === v)).toBe(false);
        expect(replicasOf(d)).not.toContain(v);
        expect(isCanonical(d)).toBe(true);
      }),
    );
  });

  // What is proven: dropReplicas is a merge homomorphism, for any two states. Hence merging a state
  // that no longer mentions the replica (b = drop(b)) into a dropped state equals dropping after the
  // merge. Merging a state that still mentions it brings it back — the store must filter input.
  it("is a homomorphism: drop(merge(a, b)) = merge(drop(a), drop(b))", () => {
    fc.assert(fc.property(stateArb, stateArb, victim, (a, b, v) => equalStates(dropReplicas(merge(a, b), drop(v)), merge(dropReplicas(a, drop(v)), dropReplicas(b, drop(v))))));
  });

  it("commutes with merging states that do not mention the replica", () => {
    fc.assert(
      fc.property(stateArb, stateArb, victim, (a, b0, v) => {
        const b = dropReplicas(b0, drop(v));
        return equalStates(merge(dropReplicas(a, drop(v)), b), dropReplicas(merge(a, b), drop(v)));
      }),
    );
  });

  it("returns the state itself when the replica is unknown to it", () => {
    const s = merge(emptyKey(), addToSet(emptyKey(), "a@1", "x", 1));
    expect(dropReplicas(s, drop("z@1"))).toBe(s);
  });
});

describe("equalStates and replicasOf", () => {
  it("tell apart states that differ in one value, in the context only, or in kind", () => {
    const s = emptyKey();
    const ts = { t: 1, c: 0, r: "a@1" };
    const a = setField(s, "a@1", "f", 1, ts);
    expect(equalStates(a, setField(s, "a@1", "f", 2, ts))).toBe(false);
    expect(equalStates(a, { entries: [], cc: a.cc })).toBe(false);
    expect(equalStates(a, addToSet(s, "a@1", "f", 1))).toBe(false);
    expect(equalStates(a, setField(s, "a@1", "f", 1, { ...ts, c: 1 }))).toBe(false);
  });

  it("lists the owners of live entries, sorted and once each", () => {
    let s = emptyKey();
    for (const r of ["b@1", "a@1", "b@1"]) s = merge(s, addToSet(s, r, "x", r));
    expect(replicasOf(s)).toEqual(["a@1", "b@1"]);
  });
});
