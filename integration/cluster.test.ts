// A 3-node cluster on the harness: NATS cluster of 3 containers, 3 node containers running the
// real `dcnet node`. Address plan: a free 10.214.X.0/24 per run (nats-i .10+i, node-i .100+i).
import { afterAll, beforeAll, describe, expect, jest, test } from "@jest/globals";
import { Svcm } from "@nats-io/services";
import { startCluster, type Cluster } from "./harness/cluster.js";
import type { StartedNodeHost } from "./harness/node-host.js";
import { connectAdmin, within, type TestAdmin } from "./support/admin.js";
import { runDcnet, type LogLine } from "./support/dcnet-process.js";

async function jsonLogs(host: StartedNodeHost): Promise<LogLine[]> {
  return (await host.logLines()).flatMap((l) => {
    try {
      return [JSON.parse(l.text) as LogLine];
    } catch {
      return [];
    }
  });
}

jest.setTimeout(60_000);

describe("3-node cluster - supervision and NATS failover", () => {
  let cluster: Cluster;
  let t: TestAdmin;
  const node = (i: number): StartedNodeHost => {
    const n = cluster.nodes[i];
    if (!n) throw new Error(`no node ${i}`);
    return n;
  };

  beforeAll(async () => {
    cluster = await startCluster({
      nodes: 3,
      natsServers: 3,
      nodeReady: /dcnet node ready/,
      nodeOptions: { env: { DCNET_ADMIN_ALLOW_CRASH: "true" } },
    });
    t = await connectAdmin(cluster.natsUrls());
  }, 90_000);

  afterAll(async () => {
    await t?.close();
    await cluster?.stop();
  });

  test("every node answers ping and status through any NATS server", async () => {
    const replies = await t.admin.requestAll("ping", {}, { timeoutMs: 3000, expected: 3 });
    expect(replies.map((r) => [r.node, r.ok])).toEqual([["node-0", true], ["node-1", true], ["node-2", true]]);
  });

  test("standard NATS micro discovery finds the admin service of every node", async () => {
    const client = new Svcm(t.transport.nc).client({ strategy: "timer", maxWait: 1500 });
    const found: Array<{ name: string; metadata?: Record<string, string> }> = [];
    for await (const info of await client.info("dcnet-admin")) found.push(info);
    expect(found.map((i) => i.metadata?.node).sort()).toEqual(["node-0", "node-1", "node-2"]);
    expect(found.every((i) => i.name === "dcnet-admin" && i.metadata?.cluster === "dcnet")).toBe(true);
  });

  test("dcnet ctl --node node-1 crash /node/connection: restarts = 1, node still answers, others untouched", async () => {
    const r = await runDcnet(["ctl", "--nats", cluster.natsUrls().join(","), "--node", "node-1", "crash", "/node/connection", "--reason", "chaos test"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("node-1: crashed /node/connection");
    const { value: status } = await within(3000, async () => {
      const s = await t.admin.request("node-1", "status", {});
      const conn = s.actors.find((a) => a.path === "/node/connection");
      if (conn?.restarts !== 1 || conn.status !== "running") throw new Error(`connection actor: ${JSON.stringify(conn)}`);
      return s;
    });
    const conn = status.actors.find((a) => a.path === "/node/connection");
    expect(conn?.lastError?.message).toContain("chaos test");
    expect(status.actors.find((a) => a.path === "/node/admin")?.restarts).toBe(0);
    expect((await t.admin.request("node-1", "ping", {})).node).toBe("node-1");
    for (const other of ["node-0", "node-2"]) {
      const s = await t.admin.request(other, "status", {});
      expect(s.actors.every((a) => a.restarts === 0)).toBe(true);
    }
    const logs = await jsonLogs(node(1));
    expect(logs.some((l) => l.msg === "actor restarted" && l.actor === "/node/connection")).toBe(true);
  });

  test("a crash of the admin actor itself restarts the service and it answers again", async () => {
    await t.admin.request("node-0", "crash", { path: "/node/admin" });
    const { value } = await within(5000, () => t.admin.request("node-0", "status", {}, 500));
    expect(value.actors.find((a) => a.path === "/node/admin")?.restarts).toBe(1);
  });

  test("one of three NATS servers killed: every node reconnects and admin requests succeed within 5 s", async () => {
    // Kill the server node-2 is using, so at least one node must move.
    const before = await t.admin.request("node-2", "status", {});
    const victim = cluster.natsUrls().findIndex((u) => before.nats.server?.startsWith(u.replace(/:\d+$/, "")));
    expect(victim).toBeGreaterThanOrEqual(0);
    await cluster.killNats(victim);
    const deadIp = cluster.natsIp(victim);
    const { value: statuses, ms } = await within(5000, async () => {
      const all = await Promise.all(["node-0", "node-1", "node-2"].map((n) => t.admin.request(n, "status", {}, 1000)));
      for (const s of all) if (s.nats.state !== "connected" || s.nats.server?.includes(deadIp)) throw new Error(`${s.node} still on ${s.nats.server}`);
      return all;
    });
    console.log(`all nodes answering after NATS server ${victim} was killed: ${ms} ms`);
    expect(statuses.map((s) => s.node)).toEqual(["node-0", "node-1", "node-2"]);
    // The killed server stays down: the remaining tests run on the surviving two.
  });

  test("a crash loop past the root's intensity ends the node with exit code 1, naming the actor", async () => {
    // Default root intensity: 5 restarts in 10 s. The 6th crash inside the window gives up.
    for (let i = 0; i < 6; i++) {
      await within(3000, () => t.admin.request("node-2", "crash", { path: "/node/connection", reason: `loop ${i}` }, 500)).catch(() => undefined);
      await new Promise((r) => setTimeout(r, 150));
    }
    const code = await node(2).waitExit(15_000);
    expect(code).toBe(1);
    const lines = await jsonLogs(node(2));
    const fatal = lines.filter((l) => l.level === "fatal");
    expect(fatal).toHaveLength(1);
    expect(fatal[0]?.msg).toMatch(/^root supervisor gave up: actor \/node\/connection crash-looped/);
    expect(fatal[0]?.actor).toBe("/node/connection");
    // The rest of the cluster is unaffected.
    const replies = await t.admin.requestAll("ping", {}, { timeoutMs: 1500, expected: 2 });
    expect(replies.map((r) => r.node)).toEqual(["node-0", "node-1"]);
  });
});
