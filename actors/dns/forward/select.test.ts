import { describe, expect, it } from "@jest/globals";
import fc from "fast-check";
import { bucketByFailures, takeUpstreams, type Candidate } from "./select.js";

const c = (key: string, failures = 0, healthy = true): Candidate => ({ key, failures, healthy });
const keys = (cs: readonly Candidate[]): string[] => cs.map((x) => x.key);
/** A Random that replays `values`. */
const seq = (...values: number[]): (() => number) => {
  let i = 0;
  return () => values[i++ % values.length] as number;
};

describe("takeUpstreams", () => {
  it("asks every upstream when there are fewer than 3", () => {
    expect(takeUpstreams([])).toEqual([]);
    expect(keys(takeUpstreams([c("a", 9)]))).toEqual(["a"]);
    expect(keys(takeUpstreams([c("a", 9), c("b", 0)]))).toEqual(["a", "b"]);
  });

  it("takes 2 distinct random upstreams from the lowest-failure bucket", () => {
    const ups = [c("a", 0), c("b", 0), c("c", 0), c("d", 3)];
    expect(keys(takeUpstreams(ups, seq(0, 0)))).toEqual(["a", "b"]);
    expect(keys(takeUpstreams(ups, seq(0.99, 0.99)))).toEqual(["c", "b"]);
    expect(keys(takeUpstreams(ups, seq(0.5, 0.4)))).toEqual(["b", "a"]);
    // Even when the random source keeps repeating itself, the two are distinct.
    expect(keys(takeUpstreams(ups, seq(0.7, 0.7)))).toEqual(["c", "b"]);
  });

  it("takes the single best plus 1 random from the next bucket", () => {
    const ups = [c("a", 5), c("b", 1), c("c", 0), c("d", 1), c("e", 9)];
    expect(keys(takeUpstreams(ups, seq(0)))).toEqual(["c", "b"]);
    expect(keys(takeUpstreams(ups, seq(0.99)))).toEqual(["c", "d"]);
  });

  it("skips unhealthy upstreams", () => {
    const ups = [c("a", 0, false), c("b", 4), c("c", 0, false), c("d", 7)];
    // 2 healthy left: both are asked, whatever their failures.
    expect(keys(takeUpstreams(ups, seq(0)))).toEqual(["b", "d"]);
    const more = [c("a", 0, false), c("b", 4), c("c", 2), c("d", 7)];
    expect(keys(takeUpstreams(more, seq(0)))).toEqual(["c", "b"]);
  });

  it("treats all as healthy when all are unhealthy", () => {
    const ups = [c("a", 1, false), c("b", 0, false), c("c", 0, false)];
    expect(keys(takeUpstreams(ups, seq(0, 0)))).toEqual(["b", "c"]);
    expect(keys(takeUpstreams([c("a", 0, false)]))).toEqual(["a"]);
  });

  it("buckets by failure count, lowest first, keeping order", () => {
    expect(bucketByFailures([c("a", 2), c("b", 0), c("c", 2), c("d", 1)]).map(keys)).toEqual([["b"], ["d"], ["a", "c"]]);
  });

  it("always returns distinct members of the pool, including a best one (property)", () => {
    const candidate = fc.record({ failures: fc.nat(4), healthy: fc.boolean() });
    fc.assert(
      fc.property(fc.array(candidate, { maxLength: 8 }), fc.array(fc.double({ min: 0, max: 0.9999999, noNaN: true }), { minLength: 1 }), (raw, randoms) => {
        const ups = raw.map((r, i) => c(`u${i}`, r.failures, r.healthy));
        const out = takeUpstreams(ups, seq(...randoms));
        const healthy = ups.filter((u) => u.healthy);
        const pool = healthy.length > 0 ? healthy : ups;
        expect(new Set(keys(out)).size).toBe(out.length);
        for (const u of out) expect(pool).toContain(u);
        if (pool.length < 3) expect(out).toEqual(pool);
        else {
          expect(out).toHaveLength(2);
          const best = Math.min(...pool.map((u) => u.failures));
          expect(out.some((u) => u.failures === best)).toBe(true);
        }
      }),
    );
  });
});
