import { describe, expect, it } from "@jest/globals";
import fc from "fast-check";
import { hashKey } from "./hash.js";
import { emptyKey, equalStates, merge } from "./kernel.js";
import { addToSet, setField } from "./map.js";
import { historyArb, scramble, statesOf } from "../../../testkit/gossip/crdt.js";
import type { KeyState, Value } from "./types.js";

const one = (v: Value): KeyState => addToSet(emptyKey(), "a@1", "x", v);

describe("hashKey", () => {
  it("is 16 hex digits", () => {
    expect(hashKey(emptyKey())).toMatch(/^[0-9a-f]{16}$/);
  });

  it("is equal iff the states are equal (all pairs of states of a history, and scrambled copies)", () => {
    const arb = fc.tuple(historyArb, fc.array(fc.nat(), { minLength: 1, maxLength: 6 }));
    fc.assert(
      fc.property(arb, ([h, rnd]) => {
        const all = statesOf(h);
        const withCopies = [...all, ...all.map((s) => scramble(s, rnd))];
        const hashes = withCopies.map(hashKey);
        for (let i = 0; i < withCopies.length; i++) {
          for (let j = i; j < withCopies.length; j++) {
            if ((hashes[i] === hashes[j]) !== equalStates(withCopies[i] as KeyState, withCopies[j] as KeyState)) return false;
          }
        }
        return true;
      }),
      { numRuns: 60 },
    );
  });

  it("separates values that print alike or concatenate alike, and joins what canonical JSON joins", () => {
    const distinct: Value[] = [1, "1", true, "true", null, "null", [], {}, [[]], [{}], ["ab", "c"], ["a", "bc"], { a: "b" }, { ab: "" }, 0.1, 1e21, -1, ""];
    const hashes = distinct.map((v) => hashKey(one(v)));
    expect(new Set(hashes).size).toBe(distinct.length);
    expect(hashKey(one(-0))).toBe(hashKey(one(0)));
    expect(hashKey(one({ p: 1, q: [2, { r: 3, s: 4 }] }))).toBe(hashKey(one({ q: [2, { s: 4, r: 3 }], p: 1 })));
    expect(hashKey(one({ p: 1, u: undefined } as unknown as Value))).toBe(hashKey(one({ p: 1 })));
  });

  it("separates register writes that differ only in their stamp, and set from register", () => {
    const ts = { t: 1, c: 0, r: "a@1" };
    const base = hashKey(setField(emptyKey(), "a@1", "x", 1, ts));
    expect(hashKey(setField(emptyKey(), "a@1", "x", 1, { ...ts, c: 1 }))).not.toBe(base);
    expect(hashKey(setField(emptyKey(), "a@1", "x", 1, { ...ts, r: "b@1" }))).not.toBe(base);
    expect(hashKey(one(1))).not.toBe(base);
  });

  it("has no collision over 20,000 similar keys, and its first digits spread evenly over 64 buckets", () => {
    const seen = new Set<string>();
    const buckets = new Array<number>(64).fill(0);
    for (let i = 0; i < 20_000; i++) {
      const s = i % 2 === 0 ? one(i) : one({ ip: `10.0.${i >> 8}.${i & 255}`, port: 80 });
      const h = hashKey(i % 4 === 1 ? merge(s, addToSet(emptyKey(), "b@1", "x", "x")) : s);
      seen.add(h);
      const b = parseInt(h.slice(0, 4), 16) % 64;
      buckets[b] = (buckets[b] ?? 0) + 1;
    }
    expect(seen.size).toBe(20_000);
    for (const n of buckets) expect(Math.abs(n - 20_000 / 64)).toBeLessThan(100); // ≈ 5.6 σ
  });
});
