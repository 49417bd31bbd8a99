import { describe, expect, it } from "@jest/globals";
import fc from "fast-check";
import { compactWith, compareDots, contextOf, covers, dotOf, forget, includes, isCompact, joinContexts, sameContext, topOf } from "./dots.js";
import type { CausalContext, Dot } from "./types.js";

const dotArb = fc.record({ r: fc.constantFrom("a", "b", "c"), n: fc.integer({ min: 1, max: 8 }) });
const dotsArb = fc.array(dotArb, { maxLength: 16 });
const key = (d: Dot): string => `${d.r}:${d.n}`;
/** Every dot a context covers, over the small universe the arbitraries draw from. */
function expand(cc: CausalContext): Set<string> {
  const out = new Set<string>();
  for (const r of ["a", "b", "c"]) for (let n = 1; n <= 8; n++) if (covers(cc, { r, n })) out.add(key({ r, n }));
  return out;
}
const compact = (ds: readonly Dot[]): CausalContext => contextOf(ds.slice().sort(compareDots));

describe("causal contexts", () => {
  it("contextOf folds runs from 1 into the version vector and keeps the rest in the cloud", () => {
    const cc = compact([{ r: "a", n: 2 }, { r: "a", n: 1 }, { r: "a", n: 4 }, { r: "b", n: 2 }, { r: "a", n: 2 }]);
    expect(cc).toEqual({ vv: { a: 2 }, cloud: [{ r: "a", n: 4 }, { r: "b", n: 2 }] });
    expect(isCompact(cc)).toBe(true);
  });

  it("contextOf covers exactly the given dots, in compact form", () => {
    fc.assert(
      fc.property(dotsArb, (ds) => {
        const cc = compact(ds);
        expect(isCompact(cc)).toBe(true);
        expect(expand(cc)).toEqual(new Set(ds.map(key)));
      }),
    );
  });

  it("joinContexts is the union, compact, and gives back its first argument when the second adds nothing", () => {
    fc.assert(
      fc.property(dotsArb, dotsArb, (xs, ys) => {
        const a = compact(xs);
        const b = compact(ys);
        const j = joinContexts(a, b);
        expect(isCompact(j)).toBe(true);
        expect(expand(j)).toEqual(new Set([...xs, ...ys].map(key)));
        expect(sameContext(j, joinContexts(b, a))).toBe(true);
        expect(includes(j, a) && includes(j, b)).toBe(true);
        expect(joinContexts(j, a)).toBe(j);
      }),
    );
  });

  it("a gap that closes compacts the cloud into the vector", () => {
    const a = compact([{ r: "a", n: 1 }, { r: "a", n: 3 }, { r: "a", n: 4 }]);
    expect(joinContexts(a, compact([{ r: "a", n: 2 }]))).toEqual({ vv: { a: 4 }, cloud: [] });
  });

  it("forget drops a replica from vector and cloud", () => {
    fc.assert(
      fc.property(dotsArb, (ds) => {
        const cc = forget(compact(ds), (r) => r === "b");
        expect(expand(cc)).toEqual(new Set(ds.filter((d) => d.r !== "b").map(key)));
        expect(isCompact(cc)).toBe(true);
      }),
    );
  });

  it("compactWith repairs any context and topOf sees the cloud", () => {
    const messy: CausalContext = { vv: { a: 1, b: 0, c: -3 }, cloud: [{ r: "a", n: 3 }, { r: "a", n: 2 }, { r: "b", n: 5 }, { r: "a", n: 3 }] };
    expect(isCompact(messy)).toBe(false);
    const cc = compactWith(messy, [{ r: "c", n: 1 }]);
    expect(cc).toEqual({ vv: { a: 3, c: 1 }, cloud: [{ r: "b", n: 5 }] });
    expect(topOf(cc, "b")).toBe(5);
    expect(topOf(cc, "z")).toBe(0);
  });

  it("a one-replica context without cloud, and a dot, are one shared frozen object however they were made", () => {
    // What most keys of a store hold: sharing them is only sound because nothing changes a context
    // or a dot once made (frozen: a write to one would throw in strict mode instead of corrupting keys).
    const a = compact([{ r: "a", n: 1 }, { r: "a", n: 2 }]);
    expect(a).toEqual({ vv: { a: 2 }, cloud: [] });
    expect(compact([{ r: "a", n: 2 }, { r: "a", n: 1 }])).toBe(a);
    expect(joinContexts(compact([{ r: "a", n: 1 }]), compact([{ r: "a", n: 2 }]))).toBe(a);
    expect(compactWith({ vv: { a: 1 }, cloud: [] }, [{ r: "a", n: 2 }])).toBe(a);
    expect(forget(compact([{ r: "a", n: 1 }, { r: "a", n: 2 }, { r: "b", n: 1 }]), (r) => r === "b")).toBe(a);
    expect(Object.isFrozen(a) && Object.isFrozen(a.vv) && Object.isFrozen(a.cloud)).toBe(true);
    expect(() => {
      (a.vv as Record<string, number>)["a"] = 7;
    }).toThrow(TypeError);
    expect(dotOf("a", 3)).toBe(dotOf("a", 3));
    expect(dotOf("a", 3)).toEqual({ r: "a", n: 3 });
    expect(dotOf("a\u00003", 1)).not.toBe(dotOf("a", 31));
  });

  it("shared or not, every context made equals the one built from its dots alone", () => {
    fc.assert(
      fc.property(dotsArb, dotsArb, (xs, ys) => {
        const j = joinContexts(compact(xs), compact(ys));
        expect(isCompact(j)).toBe(true);
        expect(sameContext(j, compact([...xs, ...ys]))).toBe(true);
        expect(expand(forget(j, (r) => r === "c"))).toEqual(new Set([...xs, ...ys].filter((d) => d.r !== "c").map(key)));
      }),
      { numRuns: 500 },
    );
  });
});
