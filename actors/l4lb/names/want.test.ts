import { describe, expect, it } from "@jest/globals";
import fc from "fast-check";
import { WantBook } from "./want.js";

describe("WantBook", () => {
  it("a name is due once unwanted for the grace period; wanted again, it is not", () => {
    const b = new WantBook();
    expect(b.want(["a", "b", "c"], 0)).toEqual({ added: ["a", "b", "c"], dropped: [] });
    expect(b.want(["a"], 10)).toEqual({ added: [], dropped: ["b", "c"] });
    expect(b.due(109, 100)).toEqual([]);
    expect(b.nextDue(100)).toBe(110);
    expect(b.want(["a", "c"], 50)).toEqual({ added: ["c"], dropped: [] });
    expect(b.due(110, 100)).toEqual(["b"]);
    b.forget("b");
    expect(b.due(1000, 100)).toEqual([]);
    expect(b.nextDue(100)).toBeUndefined();
    expect(b.inGrace()).toBe(0);
  });

  it("names never wanted are never due", () => {
    const b = new WantBook();
    b.want([], 0);
    expect(b.due(1e9, 0)).toEqual([]);
  });

  it("against a model: due = seen wanted, not wanted now, unwanted since at least grace", () => {
    const names = ["a", "b", "c", "d"];
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.subarray(names), fc.integer({ min: 0, max: 50 })), { maxLength: 30 }), fc.integer({ min: 0, max: 100 }), (steps, grace) => {
        const b = new WantBook();
        const since = new Map<string, number>();
        let wanted = new Set<string>();
        let t = 0;
        for (const [w, dt] of steps) {
          t += dt;
          for (const n of wanted) if (!w.includes(n)) since.set(n, t);
          for (const n of w) since.delete(n);
          wanted = new Set(w);
          b.want(w, t);
          const expected = [...since].filter(([, s]) => t - s >= grace).map(([n]) => n);
          expect(b.due(t, grace).sort()).toEqual(expected.sort());
        }
      }),
    );
  });
});
