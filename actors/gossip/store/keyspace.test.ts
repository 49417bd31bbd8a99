import { describe, expect, it } from "@jest/globals";
import { dropReplicas, emptyKey, hlcNow, merge, read, removeKey, setField } from "../crdt/index.js";
import type { KeyState } from "../crdt/types.js";
import { bucketOf, diffBuckets, EMPTY_BUCKET } from "./buckets.js";
import { Keyspace } from "./keyspace.js";
import { applyOps, isNoop, refusal } from "./ops.js";

const R = "a@1";
const set = (s: KeyState, f: string, v: string, t = 1): KeyState => merge(s, setField(s, R, f, v, hlcNow(undefined, R, t)));

describe("Keyspace", () => {
  it("keeps bucket hashes equal for equal contents, whatever the order of merges", () => {
    const a = new Keyspace();
    const b = new Keyspace();
    const states = Array.from({ length: 100 }, (_, i) => [`k${i}`, set(emptyKey(), "f", `v${i}`)] as const);
    for (const [k, s] of states) a.mergeIn(k, s, 0);
    for (const [k, s] of [...states].reverse()) b.mergeIn(k, s, 0);
    expect(diffBuckets(a.digest(), b.digest())).toEqual([]);
    expect(a.liveCount).toBe(100);
  });

  it("reports no change for a duplicate merge and a change for new information", () => {
    const ks = new Keyspace();
    const s = set(emptyKey(), "f", "v");
    expect(ks.mergeIn("k", s, 0).changed).toBe(true);
    expect(ks.mergeIn("k", s, 0).changed).toBe(false);
    expect(ks.mergeIn("k", set(s, "g", "w", 2), 0).changed).toBe(true);
  });

  it("keeps a deleted key as a tombstone outside the hashes, and forgets it after the TTL", () => {
    const ks = new Keyspace();
    const s = set(emptyKey(), "f", "v");
    ks.put("k", s, 0);
    const deleted = merge(s, removeKey(s));
    ks.put("k", deleted, 100);
    expect(ks.liveCount).toBe(0);
    expect(ks.size).toBe(1);
    expect(ks.digest().every((h) => h === EMPTY_BUCKET)).toBe(true);
    expect(ks.liveKeys("")).toEqual([]);
    // A tombstone still travels in pages: it carries the deletion.
    expect(ks.page([bucketOf("k")], undefined, 1 << 20).keys.map((x) => x.key)).toEqual(["k"]);
    expect(ks.sweep(150, 100)).toEqual([]);
    expect(ks.sweep(200, 100)).toEqual(["k"]);
    expect(ks.size).toBe(0);
  });

  it("a key whose every writer was dropped is forgotten at once (nothing left to remember)", () => {
    const ks = new Keyspace();
    ks.put("k", set(emptyKey(), "f", "v"), 0);
    const c = ks.put("k", dropReplicas(ks.get("k") ?? emptyKey(), () => true), 10);
    expect(c.changed).toBe(true);
    expect(ks.size).toBe(0);
    expect(ks.digest().every((h) => h === EMPTY_BUCKET)).toBe(true);
  });

  it("a tombstone revived by a concurrent write leaves the tombstone list", () => {
    const ks = new Keyspace();
    const s = set(emptyKey(), "f", "v");
    ks.put("k", merge(s, removeKey(s)), 0);
    const concurrent = merge(emptyKey(), setField(emptyKey(), "b@1", "g", "x", hlcNow(undefined, "b@1", 5)));
    ks.mergeIn("k", concurrent, 10);
    expect(ks.liveCount).toBe(1);
    expect(ks.sweep(1e9, 1)).toEqual([]);
  });

  it("pages keys of the requested buckets in order, at least one per page, with a cursor", () => {
    const ks = new Keyspace();
    for (let i = 0; i < 300; i++) ks.put(`key-${String(i).padStart(3, "0")}`, set(emptyKey(), "f", "x".repeat(100)), 0);
    const buckets = Array.from({ length: 64 }, (_, b) => b);
    const seen: string[] = [];
    let after: string | undefined;
    let pages = 0;
    for (;;) {
      const p = ks.page(buckets, after, 4096);
      pages++;
      seen.push(...p.keys.map((k) => k.key));
      if (!p.more) break;
      after = p.keys[p.keys.length - 1]?.key;
    }
    expect(pages).toBeGreaterThan(5);
    expect(seen).toEqual([...seen].sort());
    expect(new Set(seen).size).toBe(300);
    expect(ks.page(buckets, undefined, 1).keys).toHaveLength(1);
    const one = bucketOf("key-000");
    expect(ks.page([one], undefined, 1 << 20).keys.every((k) => bucketOf(k.key) === one)).toBe(true);
  });
});

describe("applyOps / refusal", () => {
  it("applies ops in order and returns one delta that reproduces the state", () => {
    const r = applyOps(emptyKey(), [
      { op: "set", field: "ip", value: "10.0.0.1" },
      { op: "add", field: "ports", elem: 80 },
      { op: "add", field: "ports", elem: 443 },
      { op: "remove", field: "ports", elem: 80 },
    ], R, undefined, 1000);
    expect(read(r.next)).toEqual({ ip: { type: "lww", value: "10.0.0.1", ts: { t: 1000, c: 0, r: R } }, ports: { type: "set", values: [443] } });
    expect(read(merge(emptyKey(), r.delta))).toEqual(read(r.next));
    expect(r.hlc).toEqual({ t: 1000, c: 0, r: R });
    expect(refusal("k", r)).toBeUndefined();
  });

  it("an op on nothing is a no-op delta", () => {
    const r = applyOps(emptyKey(), [{ op: "delete-key" }], R, undefined, 1);
    expect(isNoop(r.delta)).toBe(true);
  });

  it("refuses bad keys, bad values and states too large to travel", () => {
    const ok = applyOps(emptyKey(), [{ op: "set", field: "f", value: 1 }], R, undefined, 1);
    expect(refusal("", ok)).toMatch(/bad key/);
    expect(refusal("a\u0000b", ok)).toMatch(/bad key/);
    const longField = applyOps(emptyKey(), [{ op: "set", field: "f".repeat(200), value: 1 }], R, undefined, 1);
    expect(refusal("k", longField)).toMatch(/bad update/);
    const big = applyOps(emptyKey(), Array.from({ length: 12 }, (_, i) => ({ op: "set" as const, field: `f${i}`, value: "x".repeat(60_000) })), R, undefined, 1);
    expect(refusal("k", big)).toMatch(/limit is/);
  });
});
