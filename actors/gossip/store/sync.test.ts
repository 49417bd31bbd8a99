import { describe, expect, it } from "@jest/globals";
import { BUCKETS, EMPTY_BUCKET } from "./buckets.js";
import { DiffMemory, Pulls, digestTurn } from "./sync.js";

const digest = (diff: number[]): string[] => Array.from({ length: BUCKETS }, (_, b) => (diff.includes(b) ? "00000000000000ff" : EMPTY_BUCKET));
const mine = digest([]);

describe("Pulls", () => {
  it("spreads buckets over the free slots and never exceeds the limit", () => {
    const p = new Pulls(4);
    const all = Array.from({ length: 64 }, (_, b) => b);
    const jobs = p.plan("b", all, "sync");
    expect(jobs).toHaveLength(4);
    expect(jobs.flatMap((j) => j.buckets)).toEqual(all);
    expect(p.plan("c", [1, 2], "repair")).toEqual([]);
    p.finish(jobs[0]?.id ?? 0);
    const more = p.plan("c", [0, 1, 2, 20], "repair");
    // Buckets 0..15 were in the finished job; 20 is still being pulled from b.
    expect(more).toHaveLength(1);
    expect(more[0]?.buckets).toEqual([0, 1, 2]);
    expect(p.inFlight).toBe(4);
  });
});

describe("DiffMemory (repair hysteresis)", () => {
  it("repairs a bucket only when it differed in the peer's previous digest too", () => {
    const m = new DiffMemory();
    expect(m.persistent("b", mine, digest([3, 9]))).toEqual([]);
    expect(m.persistent("b", mine, digest([3, 10]))).toEqual([3]);
    expect(m.persistent("c", mine, digest([10]))).toEqual([]);
    expect(m.persistent("b", mine, digest([]))).toEqual([]);
    expect(m.persistent("b", mine, digest([3]))).toEqual([]);
    m.forget("b");
    expect(m.peers).toBe(1);
  });
});

describe("DiffMemory at cluster size (any peer's digest, after settleMs)", () => {
  it("repairs a bucket that stayed different for settleMs across digests of different peers, not one that healed", () => {
    const m = new DiffMemory(500);
    expect(m.persistent("b", mine, digest([3, 9]), 1000)).toEqual([]);
    // Too soon after the first sighting (a delta in flight looks like this).
    expect(m.persistent("c", mine, digest([3, 9]), 1200)).toEqual([]);
    // Peer d agrees with us on 9: that difference is over; 3 has lasted 600 ms.
    expect(m.persistent("d", mine, digest([3]), 1600)).toEqual([3]);
    expect(m.persistent("e", mine, digest([3, 9]), 1700)).toEqual([]);
    // Pulled at 1600: 3 must last settleMs again before another pull.
    expect(m.persistent("f", mine, digest([3, 9]), 2000)).toEqual([]);
    expect(m.persistent("g", mine, digest([3, 9]), 2250)).toEqual([3, 9]);
  });
});

describe("digestTurn", () => {
  it("every member publishes up to fanIn members; above, each hears about fanIn digests per interval", () => {
    expect(digestTurn(16, 16, () => 0.99)).toBe(true);
    let published = 0;
    let x = 0;
    const random = (): number => ((x = (x * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let round = 0; round < 100; round++) for (let node = 0; node < 1000; node++) if (digestTurn(1000, 16, random)) published++;
    expect(published / 100).toBeGreaterThan(12);
    expect(published / 100).toBeLessThan(20);
  });
});
