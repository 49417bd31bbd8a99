// Store actors of several nodes in one process, each with its own Transport and tree, over a real
// nats-server on loopback; membership is a fake the tests drive. Timings: TEST_GOSSIP (anti-entropy
// every 200 ms, sync timeout 1 s). Each test runs in its own cluster id, so subjects never mix.
import { describe, expect, it } from "@jest/globals";
import { performance } from "node:perf_hooks";
import { Transport, encode } from "../../../transport/index.js";
import { emptyKey, hlcNow, setField } from "../crdt/index.js";
import { deltasKind, digestKind } from "./wire.js";
import { EMPTY_BUCKET } from "./buckets.js";
import type { WatchEvent } from "./types.js";
import { counters, getKey, keys, lww, setOp, silent, sleep, waitUntil, write, type NodeOptions, type StoreNode, useStoreLab } from "../../../testkit/gossip/store.js";

const lab = useStoreLab();
let clusterSeq = 0;


async function cluster(ids: readonly string[], opts: NodeOptions = {}): Promise<{ name: string; nodes: StoreNode[] }> {
  const name = `store${++clusterSeq}`;
  const nodes = await Promise.all(ids.map((id) => lab.start(name, id, opts)));
  return { name, nodes };
}

async function join(name: string, id: string, opts: NodeOptions = {}): Promise<StoreNode> {
  const n = await lab.start(name, id, opts);
  return n;
}

async function synced(nodes: readonly StoreNode[]): Promise<void> {
  await waitUntil("stores synced", async () => (await Promise.all(nodes.map(counters))).every((c) => c.synced), 5_000);
}

function pick<T>(xs: readonly T[], i: number): T {
  const x = xs[i];
  if (x === undefined) throw new Error(`no element ${i}`);
  return x;
}

describe("gossip store: replication", () => {
  it("a write on A reaches B and C (get and watch), after an initial snapshot in key order", async () => {
    const { nodes } = await cluster(["a", "b", "c"]);
    const [a, b, c] = [pick(nodes, 0), pick(nodes, 1), pick(nodes, 2)];
    await synced(nodes);
    expect(await write(a, "vips/2", [setOp("ip", "11.0.0.2")])).toEqual({ ok: true });
    expect(await write(a, "vips/1", [setOp("ip", "11.0.0.1"), { op: "add", field: "backends", elem: "10.0.0.5:80" }])).toEqual({ ok: true });
    await waitUntil("B has vips/1", async () => (await getKey(b, "vips/1")) !== undefined, 2_000);
    const seen: WatchEvent[] = [];
    // A throwing watcher next to a good one: logged, never crashes the store.
    await c.store.ask<number>((reply) => ({ type: "watch", prefix: "vips/", subscriber: () => { throw new Error("bad watcher"); }, reply }), 2_000);
    const id = await c.store.ask<number>((reply) => ({ type: "watch", prefix: "vips/", subscriber: (ev) => void seen.push(ev), reply }), 2_000);
    await waitUntil("C's snapshot", () => seen.length >= 2, 2_000);
    expect(seen.slice(0, 2).map((e) => [e.key, e.initial])).toEqual([["vips/1", true], ["vips/2", true]]);
    expect(await write(a, "vips/1", [{ op: "add", field: "backends", elem: "10.0.0.6:80" }])).toEqual({ ok: true });
    await waitUntil("C's change event", () => seen.length >= 3, 2_000);
    const last = pick(seen, 2);
    expect(last).toMatchObject({ key: "vips/1", initial: false, value: { backends: { type: "set", values: ["10.0.0.5:80", "10.0.0.6:80"] } } });
    expect(lww(await getKey(b, "vips/1"), "ip")).toBe("11.0.0.1");
    expect(await keys(c, "vips/")).toEqual(["vips/1", "vips/2"]);
    // Deleting a key: watchers get undefined, readers no longer see it.
    expect(await write(a, "vips/2", [{ op: "delete-key" }])).toEqual({ ok: true });
    await waitUntil("C sees the deletion", () => seen.some((e) => e.key === "vips/2" && e.value === undefined), 2_000);
    expect(await getKey(b, "vips/2")).toBeUndefined();
    c.store.tell({ type: "unwatch", id });
    expect(pick(c.tree.stats().filter((s) => s.path.endsWith("/store")), 0).restarts).toBe(0);
    const ca = await counters(a);
    expect(ca.deltasOut).toBeGreaterThanOrEqual(3);
    expect((await counters(b)).deltasIn).toBeGreaterThanOrEqual(3);
  }, 20_000);

  it("a delta batch B missed is repaired by anti-entropy within about two intervals", async () => {
    const { nodes } = await cluster(["a", "b", "c"]);
    const [a, b] = [pick(nodes, 0), pick(nodes, 1)];
    await synced(nodes);
    b.dropDeltas = true;
    for (let i = 0; i < 20; i++) expect(await write(a, `lost/${i}`, [setOp("v", i)])).toEqual({ ok: true });
    await sleep(50);
    expect(await keys(b, "lost/")).toEqual([]);
    const before = (await counters(b)).keysRepaired;
    b.dropDeltas = false;
    const ms = await waitUntil("B repaired", async () => (await keys(b, "lost/")).length === 20, 3_000, 10);
    const after = await counters(b);
    console.log(`anti-entropy repair: 20 missed keys repaired on B ${ms} ms after deltas flowed again (antiEntropyMs 200); keysRepaired ${after.keysRepaired - before}`);
    expect(after.keysRepaired - before).toBeGreaterThanOrEqual(20);
    expect(ms).toBeLessThan(3 * 200 + 300);
    for (let i = 0; i < 20; i++) expect(lww(await getKey(b, `lost/${i}`), "v")).toBe(i);
  }, 20_000);

  it("a store with no synced peer starts at once instead of waiting out syncTimeoutMs", async () => {
    const started = performance.now();
    const { nodes } = await cluster(["lone"], { gossip: { syncTimeoutMs: 10_000 } });
    const ack = await write(pick(nodes, 0), "svc/first", [setOp("port", 1)]);
    const ms = performance.now() - started;
    expect(ack).toEqual({ ok: true });
    expect((await counters(pick(nodes, 0))).synced).toBe(true);
    // No responder to its digest request means nobody to sync from: far below the 10 s timeout.
    expect(ms).toBeLessThan(5_000);
  }, 20_000);

  it("a late-joining store pulls the full state (1,000 keys) before it accepts a write", async () => {
    const { name, nodes } = await cluster(["a", "b"]);
    const [a, b] = [pick(nodes, 0), pick(nodes, 1)];
    await synced(nodes);
    const acks = await Promise.all(Array.from({ length: 1000 }, (_, i) => write(a, `svc/${String(i).padStart(4, "0")}`, [setOp("port", 1000 + i), { op: "add", field: "tags", elem: `t${i % 10}` }])));
    expect(acks.every((r) => r.ok)).toBe(true);
    await waitUntil("B has 1000 keys", async () => (await keys(b, "svc/")).length === 1000, 5_000);
    const started = performance.now();
    // A generous sync timeout: the test asserts that the sync completed, not that it timed out.
    const c = await join(name, "c", { gossip: { syncTimeoutMs: 5_000 } });
    // The first write is held until the sync is done: when its ack arrives, everything is there.
    const ack = await write(c, "svc/from-c", [setOp("port", 1)]);
    const ackMs = performance.now() - started;
    expect(ack).toEqual({ ok: true });
    const cc = await counters(c);
    expect(cc.synced).toBe(true);
    expect(cc.keys).toBe(1001);
    expect(cc.keysRepaired).toBeGreaterThanOrEqual(1000);
    const syncSeconds = (await c.registry.getSingleMetric("dcnet_gossip_sync_seconds")?.get())?.values[0]?.value ?? NaN;
    console.log(`initial sync: 1,000 keys pulled in ${(syncSeconds * 1000).toFixed(0)} ms (store start to synced); first write acked ${ackMs.toFixed(0)} ms after the node started`);
    expect(syncSeconds).toBeLessThan(5.0); // below syncTimeoutMs: the sync completed, it did not time out
    for (let i = 0; i < 1000; i += 37) expect(lww(await getKey(c, `svc/${String(i).padStart(4, "0")}`), "port")).toBe(1000 + i);
    await waitUntil("A has C's write", async () => lww(await getKey(a, "svc/from-c"), "port") === 1, 2_000);
  }, 20_000);

  it("refuses and counts messages that claim another node's identity", async () => {
    const { name, nodes } = await cluster(["a", "b"]);
    const [a, b] = [pick(nodes, 0), pick(nodes, 1)];
    await synced(nodes);
    const evil = await Transport.connect({ servers: [lab.url()], cluster: name, nodeId: "evil", logger: silent, metrics: new (await import("prom-client")).Registry() });
    try {
      const aReplica = `a@${a.incarnation}`;
      const forged = setField(emptyKey(), aReplica, "ip", "6.6.6.6", hlcNow(undefined, aReplica, Date.now()));
      // 1. replica of another node in the body
      evil.nc.publish(evil.subjects.gossipDelta("evil"), encode(deltasKind, "evil", { replica: aReplica, deltas: [{ key: "vips/x", state: forged }] }));
      // 2. own replica in the body, another node's entry inside
      evil.nc.publish(evil.subjects.gossipDelta("evil"), encode(deltasKind, "evil", { replica: "evil@1", deltas: [{ key: "vips/x", state: forged }] }));
      // 3. a digest in another node's name
      evil.nc.publish(evil.subjects.gossipDigest("evil"), encode(digestKind, "evil", { replica: aReplica, buckets: new Array(64).fill(EMPTY_BUCKET), keys: 0 }));
      await evil.nc.flush();
      await waitUntil("B counted 3 rejections", async () => (await counters(b)).rejected === 3, 2_000);
      expect(await getKey(b, "vips/x")).toBeUndefined();
      expect((await counters(a)).rejected).toBe(3);
      const metric = await b.registry.getSingleMetric("dcnet_gossip_rejected_messages_total")?.get();
      expect(metric?.values.map((v) => [v.labels.reason, v.value]).sort()).toEqual([["foreign-entry", 1], ["replica-mismatch", 2]]);
    } finally {
      await evil.close();
    }
  }, 20_000);

  it("10,000 updates in a burst from one store converge on the others, none lost", async () => {
    const { nodes } = await cluster(["a", "b", "c"]);
    const [a, b, c] = [pick(nodes, 0), pick(nodes, 1), pick(nodes, 2)];
    await synced(nodes);
    const N = 10_000;
    const started = performance.now();
    const acks = await Promise.all(Array.from({ length: N }, (_, i) => write(a, `burst/${i}`, [setOp("v", i), setOp("w", `value-${i}`)], 90_000)));
    const ackedMs = performance.now() - started;
    expect(acks.filter((r) => !r.ok)).toEqual([]);
    const convergedMs = await waitUntil("B and C have 10,000 keys", async () => {
      const [kb, kc] = await Promise.all([counters(b), counters(c)]);
      return kb.keys === N && kc.keys === N;
    }, 20_000, 10);
    const totalMs = performance.now() - started;
    for (const n of [b, c]) {
      const ks = await keys(n, "burst/");
      expect(ks).toHaveLength(N);
      for (let i = 0; i < N; i++) expect(lww(await getKey(n, `burst/${i}`), "v")).toBe(i);
    }
    const [ca, cb] = await Promise.all([counters(a), counters(b)]);
    console.log(
      `burst: ${N} updates acked in ${ackedMs.toFixed(0)} ms; B and C converged ${convergedMs} ms after the last ack (${totalMs.toFixed(0)} ms from the first write); ` +
        `A sent ${ca.deltasOut} deltas / ${(ca.bytesOut / 1024).toFixed(0)} KiB, B received ${cb.deltasIn} deltas, repaired ${cb.keysRepaired}`,
    );
  }, 150_000);

  it("back-pressure: above maxPendingBytes a write is acked only after a flush; every write is delivered", async () => {
    const { nodes } = await cluster(["a", "b"], { gossip: { maxPendingBytes: 2048 } });
    const [a, b] = [pick(nodes, 0), pick(nodes, 1)];
    await synced(nodes);
    let flushes = 0;
    const nc = a.transport.nc;
    const flush = nc.flush.bind(nc);
    nc.flush = () => {
      flushes++;
      return flush();
    };
    const acks = await Promise.all(Array.from({ length: 500 }, (_, i) => write(a, `bp/${i}`, [setOp("v", "x".repeat(200))])));
    expect(acks.every((r) => r.ok)).toBe(true);
    const afterBurst = flushes;
    for (let i = 0; i < 20; i++) expect(await write(a, `bp/seq/${i}`, [setOp("v", "y".repeat(3000))])).toEqual({ ok: true });
    expect(afterBurst).toBeGreaterThanOrEqual(1);
    expect(flushes - afterBurst).toBeGreaterThanOrEqual(20); // each 3 KB write alone exceeds the limit
    await waitUntil("B has 520 keys", async () => (await keys(b, "bp/")).length === 520, 5_000);
  }, 20_000);
});
