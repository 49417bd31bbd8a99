import { describe, expect, it } from "@jest/globals";
import fc from "fast-check";
import { hlcCompare, hlcNow, hlcObserve, hlcObserveBounded, latestStamp, tooFarAhead } from "./hlc.js";
import { emptyKey } from "./kernel.js";
import { addToSet, setField } from "./map.js";
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

describe("bounded clocks", () => {
  const SKEW = 60_000;
  const now = 1_700_000_000_000;
  const DAY = 24 * 3600 * 1000;

  it("refuses a remote stamp a day ahead: the local clock stays exactly as it was", () => {
    const last: Hlc = { t: now, c: 3, r: "a@1" };
    const forged: Hlc = { t: now + DAY, c: 0, r: "evil@1" };
    expect(hlcObserveBounded(last, forged, "a@1", now, SKEW)).toEqual({ ok: false, aheadMs: DAY });
    // A local write afterwards is stamped from the wall clock, not from the forged stamp.
    expect(hlcNow(last, "a@1", now + 5)).toEqual({ t: now + 5, c: 0, r: "a@1" });
    // Unbounded, the same stamp would have moved the clock a day ahead for good.
    expect(hlcObserve(last, forged, "a@1", now).t).toBe(now + DAY);
  });

  it("accepts a stamp up to maxSkewMs ahead, and observes it as hlcObserve does", () => {
    const last: Hlc = { t: now, c: 0, r: "a@1" };
    for (const ahead of [-DAY, 0, 1, SKEW]) {
      const remote: Hlc = { t: now + ahead, c: 2, r: "b@1" };
      expect(hlcObserveBounded(last, remote, "a@1", now, SKEW)).toEqual({ ok: true, hlc: hlcObserve(last, remote, "a@1", now) });
    }
    expect(hlcObserveBounded(last, { t: now + SKEW + 1, c: 0, r: "b@1" }, "a@1", now, SKEW)).toEqual({ ok: false, aheadMs: SKEW + 1 });
  });

  it("tooFarAhead bounds times and incarnations alike; the largest safe integer is refused", () => {
    expect(tooFarAhead(now + SKEW, now, SKEW)).toBe(false);
    expect(tooFarAhead(now + SKEW + 1, now, SKEW)).toBe(true);
    expect(tooFarAhead(2 ** 53 - 1, now, SKEW)).toBe(true);
    expect(tooFarAhead(Infinity, now, SKEW)).toBe(true);
    expect(tooFarAhead(NaN, now, SKEW)).toBe(true);
    expect(tooFarAhead(now, NaN, SKEW)).toBe(true);
  });

  it("latestStamp is the highest register time of a state; sets carry none", () => {
    expect(latestStamp(emptyKey())).toBe(-Infinity);
    const s = setField(emptyKey(), "a@1", "x", 1, { t: 5, c: 0, r: "a@1" });
    const both = { entries: [...s.entries, ...setField(emptyKey(), "b@1", "y", 2, { t: 9, c: 0, r: "b@1" }).entries], cc: s.cc };
    expect(latestStamp(both)).toBe(9);
    expect(latestStamp(addToSet(emptyKey(), "a@1", "tags", "t"))).toBe(-Infinity);
  });
});
