// Ownership cleanup and restarts: a dead node's entries go after the grace, a rejoined node's older
// incarnation goes, and a crashed store actor rebuilds from its peers without losing a write. Real
// nats-server on loopback; membership is a fake the tests drive (TEST_GOSSIP: grace 300 ms).
import { describe, expect, it } from "@jest/globals";
import { performance } from "node:perf_hooks";
import type { Value } from "../crdt/types.js";
import type { MemberEvent } from "../membership/types.js";
import { counters, getKey, keys, lww, setOp, sleep, STORE_PATH, TEST_GOSSIP, waitUntil, write, type StoreNode, useStoreLab } from "../../../testkit/gossip/store.js";
import type { UpdateResult } from "./types.js";

const lab = useStoreLab();


async function node(cluster: string, id: string, incarnation?: number): Promise<StoreNode> {
  const n = await lab.start(cluster, id, incarnation === undefined ? {} : { incarnation });
  return n;
}

async function synced(nodes: readonly StoreNode[]): Promise<void> {
  await waitUntil("stores synced", async () => (await Promise.all(nodes.map(counters))).every((c) => c.synced), 5_000);
}

function tellAll(nodes: readonly StoreNode[], ev: MemberEvent): void {
  for (const n of nodes) n.membership.emit(ev);
}

describe("gossip store: ownership", () => {
  it("a dead member's entries are removed from every store after the grace; others' stay", async () => {
    const cluster = "own1";
    const [a, b, c] = [await node(cluster, "a"), await node(cluster, "b"), await node(cluster, "c")];
    const x = await node(cluster, "x");
    await synced([a, b, c, x]);
    expect(await write(x, "nodes/x", [setOp("ip", "10.0.0.9")])).toEqual({ ok: true });
    expect(await write(x, "vips/shared", [{ op: "add", field: "backends", elem: "x:80" }])).toEqual({ ok: true });
    await waitUntil("A has x's backend", async () => (await getKey(a, "vips/shared")) !== undefined, 2_000);
    expect(await write(a, "vips/shared", [{ op: "add", field: "backends", elem: "a:80" }])).toEqual({ ok: true });
    const all = [a, b, c];
    await waitUntil("everyone has both backends", async () => {
      const views = await Promise.all(all.map((n) => getKey(n, "vips/shared")));
      return views.every((v) => v?.backends?.type === "set" && v.backends.values.length === 2);
    }, 2_000);
    await x.stop();
    const deadAt = performance.now();
    tellAll(all, { type: "dead", node: "x", incarnation: x.incarnation });
    await sleep(TEST_GOSSIP.deadGraceMs / 2);
    const early = await getKey(b, "nodes/x");
    // Still within the grace (checked only if this process was not stalled past it meanwhile).
    if (performance.now() - deadAt < TEST_GOSSIP.deadGraceMs) expect(early).toBeDefined();
    const ms = await waitUntil("x's entries gone everywhere", async () => (await Promise.all(all.map((n) => getKey(n, "nodes/x")))).every((v) => v === undefined), 3_000);
    console.log(`dead member: entries gone on all stores ${(performance.now() - deadAt).toFixed(0)} ms after the dead event (grace ${TEST_GOSSIP.deadGraceMs} ms; waited ${ms} ms after half the grace)`);
    for (const n of all) expect(await getKey(n, "vips/shared")).toMatchObject({ backends: { type: "set", values: ["a:80"] } });
    // Digests agree again afterwards: no repair churn caused by the cleanup.
    await sleep(3 * TEST_GOSSIP.antiEntropyMs);
    const before = await Promise.all(all.map(counters));
    await sleep(3 * TEST_GOSSIP.antiEntropyMs);
    const after = await Promise.all(all.map(counters));
    expect(after.map((c) => c.keysRepaired)).toEqual(before.map((c) => c.keysRepaired));
  }, 20_000);

  it("rejoin: the old incarnation's entries are removed, the new incarnation's are kept", async () => {
    const cluster = "own2";
    const [a, b] = [await node(cluster, "a"), await node(cluster, "b")];
    const old = await node(cluster, "x", 1_000);
    await synced([a, b, old]);
    expect(await write(old, "nodes/x", [setOp("ip", "10.0.0.1"), setOp("zone", "old-only")])).toEqual({ ok: true });
    await waitUntil("B has x's old facts", async () => lww(await getKey(b, "nodes/x"), "zone") === "old-only", 2_000);
    await old.stop();
    // The process restarts: a new incarnation, which first syncs the old facts back from its peers.
    const freshAt = performance.now();
    const fresh = await node(cluster, "x", 2_000);
    await synced([fresh]);
    const pulled = await getKey(fresh, "nodes/x");
    if (performance.now() - freshAt < TEST_GOSSIP.deadGraceMs) expect(lww(pulled, "zone")).toBe("old-only");
    // It re-asserts what is still true (its writes replace the old dots of the same fields).
    expect(await write(fresh, "nodes/x", [setOp("ip", "10.0.0.2")])).toEqual({ ok: true });
    tellAll([a, b], { type: "rejoin", node: "x", incarnation: 2_000, previous: 1_000 });
    const all = [a, b, fresh];
    // The new incarnation applies the same rule to its own older incarnation, without any event.
    await waitUntil("old-only field gone everywhere", async () => (await Promise.all(all.map((n) => getKey(n, "nodes/x")))).every((v) => v !== undefined && v.zone === undefined), 3_000);
    for (const n of all) expect(await getKey(n, "nodes/x")).toMatchObject({ ip: { type: "lww", value: "10.0.0.2", ts: { r: "x@2000" } } });
  }, 20_000);
});

describe("gossip store: restart", () => {
  it("the store actor crashes while a writer runs: it restarts, re-syncs, and no write is lost", async () => {
    const cluster = "crash1";
    const [a, b, c] = [await node(cluster, "a"), await node(cluster, "b"), await node(cluster, "c")];
    await synced([a, b, c]);
    const N = 300;
    const WRITERS = 4;
    let retries = 0;
    let done = 0;
    const writeOne = async (i: number): Promise<void> => {
      // A write in flight at the crash may get no reply, or a "retry" error: the writer retries (set is idempotent).
      for (;;) {
        const r: UpdateResult | "timeout" = await write(a, `crash/${i}`, [setOp("v", i)], 2_000).catch(() => "timeout" as const);
        if (r !== "timeout" && r.ok) break;
        retries++;
      }
      done++;
    };
    // A watch made before the crash keeps working after it, and catches up on what changed meanwhile.
    const seen = new Map<string, Value | undefined>();
    await a.store.ask<number>((reply) => ({ type: "watch", prefix: "crash/", subscriber: (ev) => void seen.set(ev.key, lww(ev.value, "v")), reply }), 5_000);
    expect(await write(b, "crash/gone", [setOp("v", -1)])).toEqual({ ok: true });
    await waitUntil("A's watch saw crash/gone", () => seen.get("crash/gone") === -1, 2_000);
    // Four writers keep several writes in flight, so the crash lands in the middle of the stream.
    const writers = Array.from({ length: WRITERS }, async (_, w) => {
      for (let i = w; i < N; i += WRITERS) await writeOne(i);
    });
    await waitUntil("100 writes acked", () => done >= 100, 10_000, 1);
    expect(a.tree.crash(STORE_PATH, "crash during writes")).toBe(true);
    const crashedAt = done;
    expect(await write(b, "crash/gone", [{ op: "delete-key" }])).toEqual({ ok: true });
    await Promise.all(writers);
    const stats = a.tree.stats().find((s) => s.path === STORE_PATH);
    expect(stats?.restarts).toBe(1);
    const all = [a, b, c];
    await waitUntil("all nodes have every key", async () => (await Promise.all(all.map((n) => keys(n, "crash/")))).every((ks) => ks.length === N && !ks.includes("crash/gone")), 5_000);
    for (const n of all) {
      for (let i = 0; i < N; i++) expect(lww(await getKey(n, `crash/${i}`), "v")).toBe(i);
    }
    await waitUntil("A's watch saw every write and the deletion", () => seen.has("crash/gone") && seen.get("crash/gone") === undefined && Array.from({ length: N }, (_, i) => seen.get(`crash/${i}`) === i).every(Boolean), 5_000);
    const ca = await counters(a);
    console.log(`crash: ${N} writes by ${WRITERS} writers, store crashed after ${crashedAt} acks and restarted once (${retries} retried writes); A re-synced ${ca.keysRepaired} keys from its peers`);
    expect(ca.synced).toBe(true);
    expect(ca.keysRepaired).toBeGreaterThanOrEqual(crashedAt);
  }, 20_000);
});
