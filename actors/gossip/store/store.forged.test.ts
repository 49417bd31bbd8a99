// Forged input on the store's subjects, over a real nats-server on loopback: a message in another
// node's name (the sender token of its subject says otherwise), and stamps from far in the future
// (gossip.maxClockSkewMs, 60 s here). Nothing of it may reach the key space or the local clock.
// Publishing under another node's own subject is the server's to refuse (NATS permissions).
import { describe, expect, it } from "@jest/globals";
import { Registry } from "prom-client";
import { Transport, encode } from "../../../transport/index.js";
import { emptyKey, setField } from "../crdt/index.js";
import type { KeyState } from "../crdt/types.js";
import { bucketReplyKind, bucketRequestKind, deltasKind, digestKind } from "./wire.js";
import { EMPTY_BUCKET } from "./buckets.js";
import { counters, getKey, lww, setOp, silent, sleep, waitUntil, write, type StoreNode, useStoreLab } from "../../../testkit/gossip/store.js";

const DAY = 24 * 3600 * 1000;
const lab = useStoreLab();
let seq = 0;


async function pair(): Promise<{ name: string; a: StoreNode; b: StoreNode; evil: Transport }> {
  const name = `forged${++seq}`;
  const [a, b] = await Promise.all(["a", "b"].map((id) => lab.start(name, id)));
  if (a === undefined || b === undefined) throw new Error("no nodes");
  await waitUntil("stores synced", async () => (await counters(a)).synced && (await counters(b)).synced, 5_000);
  const evil = await Transport.connect({ servers: [lab.url()], cluster: name, nodeId: "evil", logger: silent, metrics: new Registry() });
  lab.track({ stop: () => evil.close() });
  return { name, a, b, evil };
}

async function rejectedBy(n: StoreNode, metric: string): Promise<Array<[string, number]>> {
  const values = (await n.registry.getSingleMetric(metric)?.get())?.values ?? [];
  return values.map((v): [string, number] => [Object.values(v.labels).join("/"), v.value]).sort();
}

/** The stamp (ms) of a register this node writes now: its HLC's time. */
async function localStamp(n: StoreNode, key: string): Promise<number> {
  expect(await write(n, key, [setOp("probe", 1)])).toEqual({ ok: true });
  const f = (await getKey(n, key))?.probe;
  if (f?.type !== "lww") throw new Error("no stamp");
  return f.ts.t;
}

describe("gossip store: forged senders", () => {
  it("a delta or digest whose from is not its subject's sender token is rejected as forged-sender, counted, never merged; B's entries stay", async () => {
    const { a, b, evil } = await pair();
    expect(await write(b, "tasks/b/web", [setOp("ip", "10.0.0.2")])).toEqual({ ok: true });
    await waitUntil("A has B's task", async () => lww(await getKey(a, "tasks/b/web"), "ip") === "10.0.0.2", 2_000);
    const bReplica = `b@${b.incarnation}`;
    // A removal of every entry B wrote so far, in B's name, sent from evil's subject.
    const removal: KeyState = { entries: [], cc: { vv: { [bReplica]: 100 }, cloud: [] } };
    for (let i = 0; i < 10; i++) evil.nc.publish(evil.subjects.gossipDelta("evil"), encode(deltasKind, "b", { replica: bReplica, deltas: [{ key: "tasks/b/web", state: removal }] }));
    evil.nc.publish(evil.subjects.gossipDigest("evil"), encode(digestKind, "b", { replica: bReplica, buckets: new Array(64).fill(EMPTY_BUCKET), keys: 0 }));
    await evil.nc.flush();
    await waitUntil("A counted 11 forged", () => a.transport.rejects.snapshot().reduce((n, r) => n + r.count, 0) >= 11, 2_000);
    expect(a.transport.rejects.snapshot()).toEqual([
      { kind: "gossip.deltas", reason: "forged-sender", count: 10 },
      { kind: "gossip.digest", reason: "forged-sender", count: 1 },
    ]);
    expect(await rejectedBy(a, "dcnet_transport_rejected_messages_total")).toEqual([["gossip.deltas/forged-sender", 10], ["gossip.digest/forged-sender", 1]]);
    await sleep(300); // several anti-entropy rounds: nothing comes back through repair either
    for (const n of [a, b]) expect(lww(await getKey(n, "tasks/b/web"), "ip")).toBe("10.0.0.2");
    expect((await counters(a)).deltasIn).toBe(1); // B's write only
  }, 20_000);
});

describe("gossip store: bounded clocks", () => {
  it("a delta stamped a day ahead is rejected as clock-skew and counted; the victim's key and the local clock are untouched", async () => {
    const { a, b, evil } = await pair();
    expect(await write(b, "vips/web", [setOp("ip", "11.0.0.1")])).toEqual({ ok: true });
    await waitUntil("A has B's VIP", async () => lww(await getKey(a, "vips/web"), "ip") === "11.0.0.1", 2_000);
    const evilReplica = `evil@${Date.now() - 1000}`;
    const at = (t: number): KeyState => setField(emptyKey(), evilReplica, "ip", "6.6.6.6", { t, c: 0, r: evilReplica });
    // Evil's own subject and name: only the stamp is wrong. LWW would let it win every read for a day.
    evil.publish(evil.subjects.gossipDelta("evil"), deltasKind, { replica: evilReplica, deltas: [{ key: "vips/web", state: at(Date.now() + DAY) }] });
    // A replica (start time) of 2^53-1 ms in a digest and in a delta.
    const far = `evil@${2 ** 53 - 1}`;
    evil.publish(evil.subjects.gossipDigest("evil"), digestKind, { replica: far, buckets: new Array(64).fill(EMPTY_BUCKET), keys: 0 });
    evil.publish(evil.subjects.gossipDelta("evil"), deltasKind, { replica: far, deltas: [{ key: "evil/x", state: setField(emptyKey(), far, "v", 1, { t: Date.now(), c: 0, r: far }) }] });
    // Within the bound (1 s ahead): accepted, so the refusals above are the clock's doing.
    evil.publish(evil.subjects.gossipDelta("evil"), deltasKind, { replica: evilReplica, deltas: [{ key: "evil/ok", state: at(Date.now() + 1000) }] });
    await evil.nc.flush();
    for (const n of [a, b]) {
      await waitUntil(`${n.id} merged evil/ok`, async () => lww(await getKey(n, "evil/ok"), "ip") === "6.6.6.6", 2_000);
      expect(await rejectedBy(n, "dcnet_gossip_rejected_messages_total")).toEqual([["clock-skew", 3]]);
      expect((await counters(n)).rejected).toBe(3);
      expect(lww(await getKey(n, "vips/web"), "ip")).toBe("11.0.0.1");
      expect(await getKey(n, "evil/x")).toBeUndefined();
      // The next local write is stamped near the wall clock: the forged stamp moved nothing.
      expect(await localStamp(n, `probe/${n.id}`)).toBeLessThan(Date.now() + 2000);
    }
    expect(stampOf(await getKey(a, "vips/web"), "ip")).toBeLessThan(Date.now() + 1000);
  }, 20_000);

  it("a bucket page carrying a stamp a day ahead is refused whole and counted; its keys are not merged", async () => {
    const { a, evil } = await pair();
    const evilReplica = `evil@${Date.now() - 1000}`;
    const future = setField(emptyKey(), evilReplica, "v", 1, { t: Date.now() + DAY, c: 0, r: evilReplica });
    const fine = setField(emptyKey(), evilReplica, "v", 2, { t: Date.now(), c: 0, r: evilReplica });
    let asked = 0;
    evil.subscribe(evil.subjects.gossipBucket("evil"), [bucketRequestKind], (_env, msg) => {
      asked++;
      evil.respond(msg, bucketReplyKind, { keys: [{ key: "evil/fine", state: fine }, { key: "evil/future", state: future }], more: false });
    });
    await evil.nc.flush();
    // A digest that differs from A's in every bucket, twice (repair pulls persistent differences only).
    for (let i = 0; i < 3; i++) {
      evil.publish(evil.subjects.gossipDigest("evil"), digestKind, { replica: evilReplica, buckets: new Array(64).fill("ffffffffffffffff"), keys: 2 });
      await sleep(100);
    }
    await waitUntil("A pulled from evil and refused", async () => asked > 0 && (await counters(a)).rejected > 0, 3_000);
    expect((await rejectedBy(a, "dcnet_gossip_rejected_messages_total"))[0]?.[0]).toBe("clock-skew");
    expect(await getKey(a, "evil/future")).toBeUndefined();
    expect(await getKey(a, "evil/fine")).toBeUndefined();
    expect(await localStamp(a, "probe/a")).toBeLessThan(Date.now() + 2000);
    expect(a.tree.stats().find((s) => s.path.endsWith("/store"))?.restarts).toBe(0);
  }, 20_000);
});

function stampOf(view: Awaited<ReturnType<typeof getKey>>, field: string): number {
  const f = view?.[field];
  return f?.type === "lww" ? f.ts.t : NaN;
}
