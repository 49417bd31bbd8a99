import { describe, expect, it } from "@jest/globals";
import { BUCKETS, EMPTY_BUCKET } from "./buckets.js";
import { DiffMemory, Pulls } from "./sync.js";

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
