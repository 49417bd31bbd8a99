import { describe, it, expect } from "@jest/globals";
import fc from "fast-check";
import { Backoff, backoffBase } from "./backoff.js";

describe("backoff", () => {
  it("doubles from 2 s to the 30 s ceiling without jitter", () => {
    const b = new Backoff({ jitter: 0 });
    expect(Array.from({ length: 7 }, () => b.next())).toEqual([2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000]);
    expect(b.failures).toBe(7);
  });

  it("starts again at 2 s after reset", () => {
    const b = new Backoff({ random: () => 0 });
    b.next();
    b.next();
    b.reset();
    expect(b.failures).toBe(0);
    expect(b.next()).toBe(2000);
  });

  it("jitter takes at most half of the delay by default", () => {
    expect(new Backoff({ random: () => 0.999999 }).next()).toBe(1000);
    expect(new Backoff({ random: () => 0.5 }).next()).toBe(1500);
  });

  it("rejects nonsense options", () => {
    expect(() => new Backoff({ initialMs: 0 })).toThrow(RangeError);
    expect(() => new Backoff({ initialMs: 5000, maxMs: 1000 })).toThrow(RangeError);
    expect(() => new Backoff({ jitter: 2 })).toThrow(RangeError);
  });

  it("property: every delay lies in [base × (1 − jitter), base] and never exceeds the ceiling", () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.constant("fail" as const), fc.constant("ok" as const)), { maxLength: 100 }), fc.double({ min: 0, max: 1, noNaN: true }), fc.double({ min: 0, max: 0.9999, noNaN: true }), (steps, jitter, r) => {
        const b = new Backoff({ jitter, random: () => r });
        let attempt = 0;
        for (const step of steps) {
          if (step === "ok") {
            b.reset();
            attempt = 0;
            continue;
          }
          const base = backoffBase(attempt++);
          const d = b.next();
          expect(d).toBeLessThanOrEqual(Math.min(base, 30_000));
          expect(d).toBeGreaterThanOrEqual(Math.floor(base * (1 - jitter)));
        }
      }),
    );
  });

  it("backoffBase stays finite for huge attempt counts", () => {
    expect(backoffBase(1e9)).toBe(30_000);
    expect(backoffBase(1e9, { factor: 10, maxMs: 60_000 })).toBe(60_000);
  });
});
