import { describe, expect, it } from "@jest/globals";
import { emptyKey, merge, read, setField, addToSet, hlcNow } from "../crdt/index.js";
import type { KeyState } from "../crdt/types.js";
import { DeltaBatch } from "./batch.js";
import { ENVELOPE_OVERHEAD_BYTES, keyedBytes } from "./wire.js";

const R = "a@1";

/** Applies `mk` to the state and returns [next, delta]. */
function step(s: KeyState, mk: (s: KeyState) => KeyState): [KeyState, KeyState] {
  const d = mk(s);
  return [merge(s, d), d];
}

describe("DeltaBatch", () => {
  it("starts empty with only the envelope overhead", () => {
    const b = new DeltaBatch<string>();
    expect(b.isEmpty).toBe(true);
    expect(b.bytes).toBe(ENVELOPE_OVERHEAD_BYTES);
    expect(b.take()).toEqual({ deltas: [], waiters: [], updates: 0 });
  });

  it("coalesces deltas of one key by merging them; the merged delta reads like the state", () => {
    const b = new DeltaBatch<string>();
    let s = emptyKey();
    let d: KeyState;
    [s, d] = step(s, (x) => setField(x, R, "ip", "10.0.0.1", hlcNow(undefined, R, 1)));
    b.add("k", d, keyedBytes("k", d), "w1");
    [s, d] = step(s, (x) => setField(x, R, "ip", "10.0.0.2", hlcNow(undefined, R, 2)));
    b.add("k", d, keyedBytes("k", d), "w2");
    [s, d] = step(s, (x) => addToSet(x, R, "ports", 80));
    b.add("k", d, keyedBytes("k", d), "w3");
    expect(b.size).toBe(1);
    expect(b.updates).toBe(3);
    const out = b.take();
    expect(out.waiters).toEqual(["w1", "w2", "w3"]);
    expect(out.deltas).toHaveLength(1);
    expect(read((out.deltas[0] as { state: KeyState }).state)).toEqual(read(s));
    expect(b.isEmpty).toBe(true);
  });

  it("tracks the estimated size as deltas are added and coalesced", () => {
    const b = new DeltaBatch<never>();
    const [s1, d1] = step(emptyKey(), (x) => setField(x, R, "f", "x".repeat(1000), hlcNow(undefined, R, 1)));
    b.add("k1", d1, keyedBytes("k1", d1));
    expect(b.bytes).toBe(ENVELOPE_OVERHEAD_BYTES + keyedBytes("k1", d1));
    const [, d2] = step(s1, (x) => setField(x, R, "f", "y", hlcNow(undefined, R, 2)));
    b.add("k1", d2, keyedBytes("k1", d2));
    expect(b.bytes).toBe(ENVELOPE_OVERHEAD_BYTES + keyedBytes("k1", merge(d1, d2)));
    // The second write replaced the first: the big value is gone from the merged delta.
    expect(b.bytes).toBeLessThan(ENVELOPE_OVERHEAD_BYTES + keyedBytes("k1", d1));
  });

  it("keeps keys in first-insertion order", () => {
    const b = new DeltaBatch<never>();
    for (const k of ["c", "a", "b"]) {
      const d = setField(emptyKey(), R, "f", k, hlcNow(undefined, R, 1));
      b.add(k, d, keyedBytes(k, d));
    }
    expect(b.take().deltas.map((d) => d.key)).toEqual(["c", "a", "b"]);
  });

  it("carries a trace per key; a coalesced delta keeps its latest write's carrier; untraced deltas have no trace field", () => {
    const b = new DeltaBatch<never>();
    const t1 = { traceparent: "00-11111111111111111111111111111111-1111111111111111-01" };
    const t2 = { traceparent: "00-22222222222222222222222222222222-2222222222222222-01" };
    const [s1, d1] = step(emptyKey(), (x) => setField(x, R, "f", "1", hlcNow(undefined, R, 1)));
    b.add("k", d1, keyedBytes("k", d1, t1), undefined, t1);
    const [, d2] = step(s1, (x) => setField(x, R, "f", "2", hlcNow(undefined, R, 2)));
    b.add("k", d2, keyedBytes("k", d2, t2), undefined, t2);
    expect(b.bytes).toBe(ENVELOPE_OVERHEAD_BYTES + keyedBytes("k", merge(d1, d2), t2));
    // An untraced write coalesced after a traced one: the delta still stems from the traced one too.
    const [, d3] = step(emptyKey(), (x) => setField(x, R, "g", "3", hlcNow(undefined, R, 3)));
    b.add("k", d3, keyedBytes("k", d3));
    const [, d4] = step(emptyKey(), (x) => setField(x, R, "f", "4", hlcNow(undefined, R, 4)));
    b.add("plain", d4, keyedBytes("plain", d4));
    const out = b.take().deltas;
    expect(out.map((d) => d.trace)).toEqual([t2, undefined]);
    expect(Object.keys(out[1] ?? {})).toEqual(["key", "state"]);
  });
});
