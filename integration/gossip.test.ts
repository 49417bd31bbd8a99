// Replicated state on a 3-node cluster of containers. Each node uses the NATS server next to it
// (node-i → nats-i), as a production node would, so a partition can cut {node-2, nats-2} off from
// the rest while the test process still reaches both sides.
// Address plan: a free 10.214.X.0/24 per run (nats-i .10+i, node-i .100+i).
import { afterAll, beforeAll, describe, expect, jest, test } from "@jest/globals";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Packr } from "msgpackr";
import { startCluster, type Cluster } from "./harness/cluster.js";
import type { StartedNodeHost } from "./harness/node-host.js";
import { connectAdmin, within, type TestAdmin } from "./support/admin.js";
import { runDcnet } from "./support/dcnet-process.js";
import { TASK_RECORD_VERSION } from "../actors/catalogue/index.js";

jest.setTimeout(120_000);

const NODES = ["node-0", "node-1", "node-2"] as const;
// Longer than the 10 s partition below (a partition shorter than the grace removes nothing, as in
// production where the default is 30 s), short enough to watch a dead node's facts go.
const GRACE_MS = 12_000;

describe("gossip - replicated state across a 3-node cluster", () => {
  let cluster: Cluster;
  let confDir: string;
  let side: TestAdmin[]; // side[i]: a client on nats-i
  const node = (i: number): StartedNodeHost => cluster.nodes[i] as StartedNodeHost;
  const nats = (i: number): StartedNodeHost => cluster.nats[i] as StartedNodeHost;
  const admin = (i: number) => (side[i] as TestAdmin).admin;

  async function set(via: number, nodeId: string, key: string, field: string, value: unknown): Promise<void> {
    await admin(via).request(nodeId, "state-update", { key, ops: [{ op: "set", field, value: value as never }] }, 10_000);
  }
  async function valueOn(via: number, nodeId: string, key: string): Promise<unknown> {
    const r = await admin(via).request(nodeId, "state-get", { key }, 5000);
    return r.value;
  }
  async function keysOn(via: number, nodeId: string, prefix: string): Promise<string[]> {
    return [...(await admin(via).request(nodeId, "state-keys", { prefix }, 5000)).keys].sort();
  }

  beforeAll(async () => {
    confDir = mkdtempSync(join(tmpdir(), "dcnet-gossip-conf-"));
    writeFileSync(join(confDir, "node.yaml"), `admin:\n  allowCrash: true\ngossip:\n  deadGraceMs: ${GRACE_MS}\n`);
    cluster = await startCluster({
      nodes: 3,
      natsServers: 3,
      nodeReady: /dcnet node ready/,
      nodeCommand: (i, urls) => ["node", "/app/bin/dcnet.js", "node", "--config", "/conf/node.yaml", "--nats", urls[i] as string, "--id", `node-${i}`, "--insecure"],
      nodeOptions: { mounts: [{ source: confDir, target: "/conf" }] },
    });
    side = await Promise.all(cluster.natsUrls().map((u) => connectAdmin([u], 5000)));
    // Every node sees every other one before the scenarios start.
    await within(10_000, async () => {
      for (const n of NODES) {
        const m = await admin(0).request(n, "members", {});
        if (m.members.filter((x) => x.state === "alive").length !== 3) throw new Error(`${n}: ${JSON.stringify(m.members)}`);
      }
    });
  }, 120_000);

  afterAll(async () => {
    await Promise.all((side ?? []).map((s) => s.close()));
    await cluster?.stop();
    rmSync(confDir, { recursive: true, force: true });
  });

  test("a write on A is visible on B and C, and `dcnet ctl state get` agrees on all three", async () => {
    await set(0, "node-0", "demo/web", "port", 8080);
    await admin(0).request("node-0", "state-update", { key: "demo/web", ops: [{ op: "add", field: "backends", elem: "10.0.0.1:80" }, { op: "add", field: "backends", elem: "10.0.0.2:80" }] });
    await within(3000, async () => {
      for (const n of NODES) if (JSON.stringify(await valueOn(0, n, "demo/web")) === "null") throw new Error(`not on ${n} yet`);
    });
    const outputs = await Promise.all(NODES.map((n) => runDcnet(["ctl", "--nats", cluster.natsUrls()[0] as string, "--node", n, "state", "get", "demo/web", "--json"])));
    const values = outputs.map((o) => (JSON.parse(o.stdout) as { value: unknown }).value);
    expect(values[0]).toMatchObject({ port: { type: "lww", value: 8080 }, backends: { type: "set", values: ["10.0.0.1:80", "10.0.0.2:80"] } });
    expect(values[1]).toEqual(values[0]);
    expect(values[2]).toEqual(values[0]);
    // Every node's own facts are there too.
    expect(await keysOn(0, "node-1", "nodes/")).toEqual(["nodes/node-0", "nodes/node-1", "nodes/node-2"]);
  });

  test("undecodable, unknown-version and type-mismatched gossip messages are rejected and counted; state untouched", async () => {
    const packr = new Packr({ useRecords: false });
    const nc = (side[0] as TestAdmin).transport.nc;
    const keysBefore = await Promise.all(NODES.map((n) => keysOn(0, n, "")));
    const rejectedBefore = await Promise.all(NODES.map(async (n) => (await admin(0).request(n, "status", {})).rejected.reduce((x, r) => x + r.count, 0)));
    const env = (kind: string, body: unknown, v = 1) => packr.pack({ v, kind, from: "node-1", ts: Date.now(), body });
    const bad = [
      new Uint8Array([0xc1, 0x00, 0xff]),
      env("gossip.deltas", { replica: "node-1@1", deltas: [] }, 9),
      env("gossip.deltas", { replica: "node-1@1", deltas: [{ key: "demo/web", state: { entries: [[{ r: "node-1@1", n: -4 }, { f: "port", k: "lww", v: 1 }]], cc: { vv: {}, cloud: [] } } }] }),
      env("gossip.digest", { replica: "node-1@1", buckets: ["not", "64", "hashes"], keys: "many" }),
    ];
    for (let i = 0; i < 25; i++) for (const b of bad) nc.publish(i % 2 ? "dcnet.dcnet.gossip.delta.node-1" : "dcnet.dcnet.gossip.digest.node-1", b);
    await nc.flush();
    await within(3000, async () => {
      for (const [i, n] of NODES.entries()) {
        const total = (await admin(0).request(n, "status", {})).rejected.reduce((x, r) => x + r.count, 0);
        if (total - (rejectedBefore[i] ?? 0) < 100) throw new Error(`${n} counted ${total - (rejectedBefore[i] ?? 0)} of 100`);
      }
    });
    expect(await Promise.all(NODES.map((n) => keysOn(0, n, "")))).toEqual(keysBefore);
    expect(await valueOn(0, "node-2", "demo/web")).toMatchObject({ port: { type: "lww", value: 8080 } });
  });

  test("a burst of 10,000 updates/s for 10 s from one node converges everywhere, none dropped", async () => {
    const KEYS = 10_000;
    const ROUNDS = 10;
    const started = Date.now();
    for (let round = 0; round < ROUNDS; round++) {
      const roundStart = Date.now();
      const batches = Array.from({ length: 10 }, (_, b) =>
        admin(0).request(
          "node-0",
          "state-batch",
          { updates: Array.from({ length: 1000 }, (_, j) => ({ key: `burst/${b * 1000 + j}`, ops: [{ op: "set" as const, field: "v", value: round }] })) },
          30_000,
        ),
      );
      await Promise.all(batches);
      const spare = 1000 - (Date.now() - roundStart);
      if (spare > 0) await new Promise((r) => setTimeout(r, spare));
    }
    const writeSecs = (Date.now() - started) / 1000;
    const { ms } = await within(15_000, async () => {
      for (const n of NODES) {
        const keys = await keysOn(0, n, "burst/");
        if (keys.length !== KEYS) throw new Error(`${n} has ${keys.length} keys`);
      }
    }, 250);
    // Key by key, the last value everywhere.
    for (const n of NODES) {
      for (let k = 0; k < KEYS; k += 97) expect(await valueOn(0, n, `burst/${k}`)).toMatchObject({ v: { value: ROUNDS - 1 } });
    }
    const statuses = await Promise.all(NODES.map((n) => admin(0).request(n, "status", {})));
    console.log(`burst: ${KEYS * ROUNDS} updates in ${writeSecs.toFixed(1)} s, converged ${ms} ms after the last write; gossip counters: ${JSON.stringify(statuses.map((s) => s.gossip))}`);
  });

  test("the store actor crashes while writes flow: it restarts, rebuilds, and no update is lost", async () => {
    const written: string[] = [];
    let crashed = false;
    for (let i = 0; i < 300; i++) {
      if (i === 100) {
        await admin(0).request("node-0", "crash", { path: "/node/gossip/store", reason: "crash during writes" });
        crashed = true;
      }
      // A write that was in flight at the crash gets no reply: the writer retries (the set is idempotent).
      await within(10_000, () => set(0, "node-0", `crash/${i}`, "v", i), 50);
      written.push(`crash/${i}`);
    }
    expect(crashed).toBe(true);
    const s = await admin(0).request("node-0", "status", {});
    expect(s.actors.find((a) => a.path === "/node/gossip/store")?.restarts).toBe(1);
    await within(5000, async () => {
      for (const n of NODES) if ((await keysOn(0, n, "crash/")).length !== written.length) throw new Error(`${n} incomplete`);
    });
    for (const n of NODES) expect(await keysOn(0, n, "crash/")).toEqual([...written].sort());
    for (const n of NODES) expect(await valueOn(0, n, "crash/150")).toMatchObject({ v: { value: 150 } });
  });

  test("partition: node-2 cut off for 10 s while both sides write; after the heal all converge within 5 s, no write lost", async () => {
    const majority = [cluster.natsIp(0), cluster.natsIp(1), cluster.nodeIp(0), cluster.nodeIp(1)];
    const minority = [cluster.natsIp(2), cluster.nodeIp(2)];
    await node(2).partitionFrom(majority);
    await nats(2).partitionFrom(majority);
    for (const i of [0, 1]) await cluster.nodes[i]?.partitionFrom(minority);
    for (const i of [0, 1]) await cluster.nats[i]?.partitionFrom(minority);
    const expected = new Map<string, number>();
    const until = Date.now() + 10_000;
    let i = 0;
    while (Date.now() < until) {
      await set(0, "node-0", `part/a/${i}`, "v", i);
      expected.set(`part/a/${i}`, i);
      await set(2, "node-2", `part/b/${i}`, "v", i);
      expected.set(`part/b/${i}`, i);
      // Both sides also write the same key: last writer wins once healed, on every node alike.
      await set(i % 2 === 0 ? 0 : 2, i % 2 === 0 ? "node-0" : "node-2", "part/shared", "v", i);
      i++;
      await new Promise((r) => setTimeout(r, 100));
    }
    // The two sides really were apart: node-2 does not have the majority's writes.
    expect(await valueOn(2, "node-2", "part/a/0")).toBeNull();
    const healStart = Date.now();
    for (const h of [...cluster.nodes, ...cluster.nats]) await h.heal();
    await within(5000 - (Date.now() - healStart), async () => {
      for (const n of NODES) {
        const keys = await keysOn(0, n, "part/");
        if (keys.length !== expected.size + 1) throw new Error(`${n} has ${keys.length}/${expected.size + 1}`);
      }
    }, 100);
    // Every key present is not yet every value merged (a CI run saw one value missing right after the
    // counts matched): the values must converge within the same 5 s of the heal.
    await within(Math.max(100, 5000 - (Date.now() - healStart)), async () => {
      for (const n of NODES) {
        for (const [key, v] of expected) {
          const got = await valueOn(0, n, key);
          if ((got as { v?: { value?: unknown } } | null)?.v?.value !== v) throw new Error(`${n} has ${key} = ${JSON.stringify(got)}, not ${v}`);
        }
      }
    }, 100);
    console.log(`partition healed: converged ${Date.now() - healStart} ms after the heal (${expected.size} keys written during the partition)`);
    for (const n of NODES) {
      for (const [key, v] of expected) expect(await valueOn(0, n, key)).toMatchObject({ v: { value: v } });
    }
    const shared = await Promise.all(NODES.map((n) => valueOn(0, n, "part/shared")));
    expect(shared[1]).toEqual(shared[0]);
    expect(shared[2]).toEqual(shared[0]);
    // Node facts of both sides are back everywhere.
    for (const n of NODES) expect(await keysOn(0, n, "nodes/")).toEqual(["nodes/node-0", "nodes/node-1", "nodes/node-2"]);
  });

  test("kill -9 and restart: the node re-syncs the full state within 2 s and re-asserts its facts once", async () => {
    const before = await valueOn(0, "node-0", "nodes/node-1");
    const keysBefore = (await admin(0).request("node-0", "status", {})).gossip?.keys ?? 0;
    await node(1).kill();
    await node(1).start(); // waits for "dcnet node ready"
    const { ms } = await within(2000, async () => {
      const s = await admin(1).request("node-1", "status", {}, 1000);
      if (!s.gossip?.synced || (s.gossip.keys ?? 0) < keysBefore) throw new Error(`node-1: ${JSON.stringify(s.gossip)}`);
    }, 50);
    console.log(`node-1 re-synced ${keysBefore} keys ${ms} ms after it was ready`);
    const after = (await within(3000, async () => {
      const v = (await valueOn(0, "node-0", "nodes/node-1")) as { incarnation: { value: number }; addresses: { values: string[] } };
      if (v.incarnation.value === (before as { incarnation: { value: number } }).incarnation.value) throw new Error("old incarnation still");
      return v;
    })).value;
    expect(after.incarnation.value).toBeGreaterThan((before as { incarnation: { value: number } }).incarnation.value);
    expect(new Set(after.addresses.values).size).toBe(after.addresses.values.length);
    expect(after.addresses.values).toEqual([cluster.nodeIp(1)]);
  });

  test("a task registered over NATS on one node is in the catalogue of every node", async () => {
    const task = { id: "web-1", name: "web", framework: "demo", runtime: "native", agentIp: cluster.nodeIp(2), taskIps: [cluster.nodeIp(2)], state: "running" as const, ports: [{ name: "http", protocol: "tcp" as const, port: 8080, vips: ["/web:80"] }] };
    await admin(2).request("node-2", "task-add", { task }, 15_000);
    await within(3000, async () => {
      for (const n of NODES) {
        const ls = await admin(0).request(n, "task-ls", {});
        if (!ls.tasks.some((t) => t.owner === "node-2" && t.task.id === "web-1")) throw new Error(`${n}: ${JSON.stringify(ls.tasks)}`);
      }
    });
    const ls = await admin(0).request("node-0", "task-ls", {});
    // As registered, stamped with the record version the node writes.
    expect(ls.tasks.find((t) => t.task.id === "web-1")).toEqual({ owner: "node-2", task: { ...task, v: TASK_RECORD_VERSION } });
    // And its VIP, derived on every node from the replicated tasks.
    for (const n of NODES) {
      const vips = await admin(0).request(n, "vip-ls", {});
      const web = vips.vips.find((v) => v.backends.some((b) => b.taskId === "web-1"));
      expect(web?.vip).toContain("/web");
      expect(web?.backends).toEqual([{ owner: "node-2", taskId: "web-1", ip: cluster.nodeIp(2), port: 8080, state: "serving" }]);
    }
  });

  test("a node killed for good is declared dead everywhere and its facts are removed after the grace period", async () => {
    await set(2, "node-2", "owned/by-2", "v", 1);
    await within(3000, async () => {
      if ((await valueOn(0, "node-0", "owned/by-2")) === null) throw new Error("not replicated yet");
    });
    const killedAt = Date.now();
    await node(2).kill();
    const { ms: deadMs } = await within(5000, async () => {
      for (const n of ["node-0", "node-1"]) {
        const m = await admin(0).request(n, "members", {});
        if (m.members.find((x) => x.node === "node-2")?.state !== "dead") throw new Error(`${n} does not see node-2 dead`);
      }
    }, 50);
    console.log(`node-2 declared dead on both survivors ${deadMs} ms after the kill`);
    await within(GRACE_MS + 4000, async () => {
      for (const n of ["node-0", "node-1"]) {
        if ((await valueOn(0, n, "owned/by-2")) !== null || (await valueOn(0, n, "nodes/node-2")) !== null) throw new Error(`${n} still has node-2's facts`);
        if ((await admin(0).request(n, "task-ls", {})).tasks.some((t) => t.owner === "node-2")) throw new Error(`${n} still lists node-2's registration`);
      }
    }, 200);
    expect(Date.now() - killedAt).toBeGreaterThanOrEqual(GRACE_MS);
    expect(await keysOn(0, "node-1", "nodes/")).toEqual(["nodes/node-0", "nodes/node-1"]);
  });
});
