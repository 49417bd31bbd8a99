import { describe, expect, it } from "@jest/globals";
import fc from "fast-check";
import { hlcCompare, hlcNow, hlcObserve } from "./hlc.js";
import type { Hlc } from "./types.js";

const hlcArb = fc.record({ t: fc.nat(10), c: fc.nat(3), r: fc.constantFrom("a@1", "b@1", "c@1") });
const after = (a: Hlc, b: Hlc): boolean => a.t > b.t || (a.t === b.t && a.c > b.c);

describe("hlcNow", () => {
  it("never goes backwards, even when the wall clock does, and follows the wall clock", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 20 }), { minLength: 1, maxLength: 30 }), (walls) => {
        let last: Hlc | undefined;
        for (const w of walls) {
          const next = hlcNow(last, "a@1", w);
          expect(next.t).toBe(Math.max(w, last?.t ?? w));
          if (last !== undefined) expect(after(next, last)).toBe(true);
          expect(next.c).toBe(last !== undefined && next.t === last.t ? last.c + 1 : 0);
          last = next;
        }
      }),
    );
  });

  it("ignores a wall reading that is not a number", () => {
    expect(hlcNow({ t: 5, c: 0, r: "a@1" }, "a@1", NaN)).toEqual({ t: 5, c: 1, r: "a@1" });
    expect(hlcNow(undefined, "a@1", Infinity)).toEqual({ t: 0, c: 0, r: "a@1" });
  });
});

describe("hlcObserve", () => {
  it("stamps after both the local clock and the remote stamp", () => {
    fc.assert(
      fc.property(fc.option(hlcArb, { nil: undefined }), hlcArb, fc.nat(12), (last, remote, wall) => {
        const next = hlcObserve(last, remote, "z@1", wall);
        expect(after(next, remote)).toBe(true);
        if (last !== undefined) expect(after(next, last)).toBe(true);
        expect(next.t).toBe(Math.max(wall, remote.t, last?.t ?? 0));
        expect(next.r).toBe("z@1");
      }),
    );
  });

  it("resets the counter when the wall clock is ahead of both", () => {
    expect(hlcObserve({ t: 1, c: 4, r: "a@1" }, { t: 2, c: 7, r: "b@1" }, "a@1", 3)).toEqual({ t: 3, c: 0, r: "a@1" });
    expect(hlcObserve({ t: 2, c: 4, r: "a@1" }, { t: 2, c: 7, r: "b@1" }, "a@1", 1)).toEqual({ t: 2, c: 8, r: "a@1" });
  });
});

describe("hlcCompare", () => {
  it("is a total order on (t, c, r)", () => {
    fc.assert(
      fc.property(hlcArb, hlcArb, hlcArb, (a, b, c) => {
        expect(Math.sign(hlcCompare(a, b)) === -Math.sign(hlcCompare(b, a))).toBe(true);
        expect(hlcCompare(a, b) === 0).toBe(a.t === b.t && a.c === b.c && a.r === b.r);
        if (hlcCompare(a, b) <= 0 && hlcCompare(b, c) <= 0) expect(hlcCompare(a, c)).toBeLessThanOrEqual(0);
      }),
    );
    expect(hlcCompare({ t: 1, c: 9, r: "z" }, { t: 2, c: 0, r: "a" })).toBeLessThan(0);
    expect(hlcCompare({ t: 1, c: 1, r: "a" }, { t: 1, c: 1, r: "b" })).toBeLessThan(0);
  });
});
