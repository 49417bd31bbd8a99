import { describe, expect, it } from "@jest/globals";
import { Packr } from "msgpackr";
import { addToSet, emptyKey, hlcNow, merge, setField } from "../crdt/index.js";
import type { KeyState } from "../crdt/types.js";
import { decode, encode } from "../../../transport/index.js";
import { EMPTY_BUCKET } from "./buckets.js";
import { bucketReplyKind, bucketRequestKind, checkedTrace, deltasKind, digestKind, digestRequestKind, estimateBytes, keySchema, keyedBytes, MAX_TRACESTATE_CHARS } from "./wire.js";

const R = "node-a@1700000000000";
const ts = hlcNow(undefined, R, 1_700_000_000_000);
const state: KeyState = setField(emptyKey(), R, "ip", "10.0.0.1", ts);
const all = [deltasKind, digestKind, digestRequestKind, bucketRequestKind, bucketReplyKind];

function roundTrip<B>(def: { kind: string }, body: B): ReturnType<typeof decode> {
  return decode(encode(def as never, "node-a", body), all);
}

describe("gossip wire kinds", () => {
  it("accept well-formed bodies of every kind", () => {
    expect(roundTrip(deltasKind, { replica: R, deltas: [{ key: "vips/a", state }] })).toMatchObject({ ok: true, env: { kind: "gossip.deltas" } });
    expect(roundTrip(digestKind, { replica: R, buckets: new Array(64).fill(EMPTY_BUCKET), keys: 0 })).toMatchObject({ ok: true });
    expect(roundTrip(digestRequestKind, { replica: R })).toMatchObject({ ok: true });
    expect(roundTrip(bucketRequestKind, { buckets: [0, 63], after: "k" })).toMatchObject({ ok: true });
    expect(roundTrip(bucketReplyKind, { keys: [{ key: "k", state }], more: false })).toMatchObject({ ok: true });
  });

  it("reject bad replicas, keys, bucket lists and states", () => {
    const bad = [
      [deltasKind, { replica: "node-a", deltas: [{ key: "k", state }] }],
      [deltasKind, { replica: R, deltas: [] }],
      [deltasKind, { replica: R, deltas: [{ key: "", state }] }],
      [deltasKind, { replica: R, deltas: [{ key: "a\nb", state }] }],
      [deltasKind, { replica: R, deltas: [{ key: "x".repeat(513), state }] }],
      [deltasKind, { replica: R, deltas: [{ key: "k", state: { entries: [[{ r: R, n: 5 }, { f: "x", k: "set", e: 1 }]], cc: { vv: {}, cloud: [] } } }] }],
      [digestKind, { replica: R, buckets: new Array(63).fill(EMPTY_BUCKET), keys: 0 }],
      [digestKind, { replica: R, buckets: new Array(64).fill("XYZ"), keys: 0 }],
      [bucketRequestKind, { buckets: [] }],
      [bucketRequestKind, { buckets: [64] }],
      [bucketRequestKind, { buckets: [1, 1] }],
      [bucketReplyKind, { keys: [], more: "yes" }],
    ] as const;
    for (const [def, body] of bad) {
      const r = roundTrip(def, body);
      expect(r).toMatchObject({ ok: false, reason: "invalid-body", kind: def.kind });
    }
  });

  it("keys: 1..512 printable characters", () => {
    expect(keySchema.safeParse("dns/zones/marathon.mesos").success).toBe(true);
    expect(keySchema.safeParse("ünïcode/ключ").success).toBe(true);
    expect(keySchema.safeParse("tab\there").success).toBe(false);
    expect(keySchema.safeParse("\u007f").success).toBe(false);
  });
});

const PARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

describe("trace carriers on delta entries", () => {
  it("accept a delta with or without a carrier, per entry", () => {
    const deltas = [
      { key: "tasks/a", state, trace: { traceparent: PARENT } },
      { key: "tasks/b", state, trace: { traceparent: PARENT, tracestate: "vendor=abc,other=x-1" } },
      { key: "tasks/c", state },
    ];
    const r = roundTrip(deltasKind, { replica: R, deltas });
    expect(r).toMatchObject({ ok: true, env: { body: { deltas } } });
  });

  it("reject a batch carrying a malformed or oversized carrier", () => {
    const bad: unknown[] = [
      {},
      { traceparent: "" },
      { traceparent: PARENT.toUpperCase() },
      { traceparent: `${PARENT}-extra` },
      { traceparent: "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01" },
      { traceparent: "00-00000000000000000000000000000000-00f067aa0ba902b7-01" },
      { traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01" },
      { traceparent: PARENT, tracestate: "x".repeat(MAX_TRACESTATE_CHARS + 1) },
      { traceparent: PARENT, tracestate: "a=\u0000" },
      { traceparent: PARENT, tracestate: "" },
      { traceparent: PARENT, baggage: "k=v" },
      { traceparent: 42 },
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
      [PARENT],
    ];
    for (const trace of bad) {
      const r = roundTrip(deltasKind, { replica: R, deltas: [{ key: "tasks/a", state }, { key: "tasks/b", state, trace }] });
      expect(r).toMatchObject({ ok: false, reason: "invalid-body", kind: "gossip.deltas" });
    }
    // The longest accepted tracestate.
    expect(roundTrip(deltasKind, { replica: R, deltas: [{ key: "k", state, trace: { traceparent: PARENT, tracestate: "x".repeat(MAX_TRACESTATE_CHARS) } }] })).toMatchObject({ ok: true });
  });

  it("checkedTrace keeps what peers accept and drops the rest, never the write", () => {
    const good = { traceparent: PARENT, tracestate: "v=1" };
    expect(checkedTrace(good)).toBe(good); // no copy on the common path
    expect(checkedTrace(undefined)).toBeUndefined();
    expect(checkedTrace({ traceparent: "garbage" })).toBeUndefined();
    expect(checkedTrace({ tracestate: "v=1" })).toBeUndefined();
    expect(checkedTrace({ traceparent: PARENT, tracestate: "x".repeat(MAX_TRACESTATE_CHARS + 1) })).toEqual({ traceparent: PARENT });
    expect(checkedTrace({ traceparent: PARENT, tracestate: "" })).toEqual({ traceparent: PARENT });
    expect(checkedTrace({ traceparent: PARENT, tracestate: "v=1", baggage: "k=v" })).toEqual(good);
    // Whatever it returns passes the border.
    for (const c of [good, { traceparent: PARENT, tracestate: "é=1" }, { traceparent: PARENT, other: "x" }]) {
      const trace = checkedTrace(c);
      expect(roundTrip(deltasKind, { replica: R, deltas: [{ key: "k", state, ...(trace ? { trace } : {}) }] })).toMatchObject({ ok: true });
    }
  });

  it("keyedBytes counts the carrier: untraced entries cost nothing more", () => {
    const packr = new Packr({ useRecords: false });
    const trace = { traceparent: PARENT, tracestate: "x".repeat(MAX_TRACESTATE_CHARS) };
    expect(keyedBytes("k", state, undefined)).toBe(keyedBytes("k", state));
    expect(keyedBytes("k", state, trace)).toBeGreaterThanOrEqual(packr.pack({ key: "k", state, trace }).length);
    expect(keyedBytes("k", state, trace) - keyedBytes("k", state)).toBeGreaterThan(MAX_TRACESTATE_CHARS);
  });
});

describe("estimateBytes", () => {
  const packr = new Packr({ useRecords: false });
  it("never under-estimates what msgpack encodes", () => {
    let s = emptyKey();
    for (let i = 0; i < 50; i++) {
      s = merge(s, setField(s, R, `f${i % 7}`, { n: i * 1.5, s: "é".repeat(i), arr: [true, null, i] }, hlcNow(undefined, R, i)));
      s = merge(s, addToSet(s, R, "set", `elem-${i}`));
    }
    const item = { key: "some/key", state: s };
    expect(keyedBytes(item.key, s)).toBeGreaterThanOrEqual(packr.pack(item).length);
    expect(estimateBytes(s)).toBeGreaterThanOrEqual(packr.pack(s).length);
    // …and is not wildly above it either.
    expect(estimateBytes(s)).toBeLessThan(packr.pack(s).length * 3);
  });
});
