// The piggyback queue: memberlist's order (least-sent, then newest) without walking the queue.
import { describe, expect, it } from "@jest/globals";
import { TransmitQueue } from "./transmit-queue.js";

describe("TransmitQueue", () => {
  it("hands out least-sent first, newest first among equals, and drops an entry after its limit", () => {
    const q = new TransmitQueue<string>();
    for (const k of ["a", "b", "c", "d"]) q.set(k, k);
    expect(q.take(2, 2)).toEqual(["d", "c"]);
    // b and a were never sent: they go before d and c's second round.
    expect(q.take(3, 2)).toEqual(["b", "a", "d"]);
    expect(q.take(8, 2)).toEqual(["c", "b", "a"]);
    expect(q.size).toBe(0);
    expect(q.take(8, 2)).toEqual([]);
  });

  it("a replaced entry starts over and its old version is never sent", () => {
    const q = new TransmitQueue<string>();
    q.set("a", "a1");
    q.set("b", "b1");
    expect(q.take(1, 3)).toEqual(["b1"]);
    q.set("b", "b2");
    expect(q.size).toBe(2);
    expect(q.take(8, 3)).toEqual(["b2", "a1"]);
    expect(q.take(8, 3)).toEqual(["b2", "a1"]);
    expect(q.take(8, 3)).toEqual(["b2", "a1"]);
    expect(q.take(8, 3)).toEqual([]);
  });

  it("deleted entries are skipped, and a queue of mostly deleted entries still answers", () => {
    const q = new TransmitQueue<number>();
    for (let i = 0; i < 1000; i++) q.set(String(i), i);
    for (let i = 0; i < 1000; i++) if (i % 100 !== 0) q.delete(String(i));
    q.deleteWhere((v) => v === 500);
    expect(q.size).toBe(9);
    expect(q.take(20, 1)).toEqual([900, 800, 700, 600, 400, 300, 200, 100, 0]);
    expect(q.size).toBe(0);
  });

  it("takes the same as a full sort of the queue would, over a long random run", () => {
    const q = new TransmitQueue<string>();
    const model = new Map<string, { sent: number; order: number }>();
    let order = 0;
    let seed = 7;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let step = 0; step < 5000; step++) {
      const r = rnd();
      const key = `k${Math.floor(rnd() * 60)}`;
      if (r < 0.4) {
        q.set(key, key);
        model.set(key, { sent: 0, order: ++order });
      } else if (r < 0.5) {
        q.delete(key);
        model.delete(key);
      } else {
        const limit = 3;
        const want = [...model].sort((a, b) => a[1].sent - b[1].sent || b[1].order - a[1].order).slice(0, 4).map(([k]) => k);
        for (const k of want) {
          const m = model.get(k) as { sent: number };
          m.sent += 1;
          if (m.sent >= limit) model.delete(k);
        }
        expect(q.take(4, limit)).toEqual(want);
      }
    }
  });
});
