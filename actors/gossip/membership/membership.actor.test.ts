// Three membership actors in one process, each with its own Transport and tree, over a real
// nats-server on loopback, with the default timings (heartbeat 200, suspect 800, dead 1600 ms).
import { afterAll, afterEach, beforeAll, describe, expect, it } from "@jest/globals";
import { performance } from "node:perf_hooks";
import { pino } from "pino";
import { Registry } from "prom-client";
import { z } from "zod";
import { startNatsServer, type NatsServerHandle } from "../../../integration/harness/nats-local.js";
import type { Config } from "../../../config/index.js";
import { startTree, supervisor, worker, type ActorRef, type Tree } from "../../../supervisors/index.js";
import { defineKind, encode, Transport } from "../../../transport/index.js";
import { membershipBehaviour, type MembershipActorMsg } from "./membership.actor.js";
import { heartbeatKind } from "./protocol.js";
import type { Member, MemberEvent } from "./types.js";

const GOSSIP: Config["gossip"] = {
  detector: "heartbeat",
  probeIntervalMs: 200,
  probeTimeoutMs: 80,
  indirectProbes: 3,
  suspicionMult: 2,
  syncIntervalMs: 5000,
  disconnectAdvisories: false,
  disconnectGraceMs: 500,
  heartbeatMs: 200,
  suspectAfterMs: 800,
  deadAfterMs: 1600,
  deadGraceMs: 5000,
  antiEntropyMs: 1000,
  digestFanIn: 16,
  syncTimeoutMs: 2000,
  tombstoneTtlMs: 600_000,
  maxPendingBytes: 8 * 1024 * 1024,
  repairConcurrency: 4,
  maxClockSkewMs: 60_000,
};
const silent = pino({ level: "silent" });
const PATH = "/node/membership";

interface Seen {
  readonly t: number;
  readonly ev: MemberEvent;
}

interface TestNode {
  readonly id: string;
  readonly incarnation: number;
  readonly transport: Transport;
  readonly tree: Tree;
  readonly ref: ActorRef<MembershipActorMsg>;
  readonly registry: Registry;
  readonly seen: Seen[];
  stop(): Promise<void>;
}

const running = new Set<TestNode>();

async function startNode(url: string, cluster: string, id: string, incarnation: number): Promise<TestNode> {
  const registry = new Registry();
  const transport = await Transport.connect({ servers: [url], cluster, nodeId: id, logger: silent, metrics: registry, reconnectWaitMs: 100 });
  const behaviour = membershipBehaviour({ transport, logger: silent, metrics: registry, config: GOSSIP, nodeId: id, incarnation });
  const tree = await startTree(supervisor("node", "one_for_one", [worker("membership", behaviour, { shutdownMs: 1000 })]));
  const ref = tree.lookup<MembershipActorMsg>(PATH);
  if (ref === undefined) throw new Error("membership actor missing");
  const seen: Seen[] = [];
  await ref.ask<{ id: number; members: readonly Member[] }>((reply) => ({ type: "watch", subscriber: (ev) => void seen.push({ t: performance.now(), ev }), reply }), 1000);
  let stopped = false;
  const node: TestNode = {
    id,
    incarnation,
    transport,
    tree,
    ref,
    registry,
    seen,
    stop: async () => {
      if (stopped) return;
      stopped = true;
      running.delete(node);
      await tree.shutdown();
      await transport.close();
    },
  };
  running.add(node);
  return node;
}

afterEach(async () => {
  await Promise.all([...running].map((n) => n.stop()));
});

async function waitFor(cond: () => boolean, what: string, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const has = (n: TestNode, type: MemberEvent["type"], node: string): boolean => n.seen.some((s) => s.ev.type === type && s.ev.node === node);
const events = (n: TestNode, node: string): string[] => n.seen.filter((s) => s.ev.node === node).map((s) => s.ev.type);
const members = (n: TestNode): Promise<readonly Member[]> => n.ref.ask<readonly Member[]>((reply) => ({ type: "members", reply }), 1000);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function trio(url: string, cluster: string, inc = 1000): Promise<[TestNode, TestNode, TestNode]> {
  const nodes = await Promise.all([startNode(url, cluster, "a", inc), startNode(url, cluster, "b", inc + 1), startNode(url, cluster, "c", inc + 2)]);
  await waitFor(() => nodes.every((n) => nodes.every((o) => o === n || has(n, "join", o.id))), "everyone joined", 2000);
  return nodes;
}

describe("membership actor", () => {
  let server: NatsServerHandle;
  beforeAll(async () => {
    server = await startNatsServer();
  }, 15_000);
  afterAll(async () => {
    await server.stop();
  });

  it("three nodes see each other join within 1 s, and answer members", async () => {
    const t0 = performance.now();
    const nodes = await Promise.all(["a", "b", "c"].map((id, i) => startNode(server.url, "join", id, 1000 + i)));
    await waitFor(() => nodes.every((n) => nodes.every((o) => o === n || has(n, "join", o.id))), "everyone joined", 1000);
    expect(performance.now() - t0).toBeLessThan(1000);
    const a = nodes[0]!;
    const list = await members(a);
    expect(list.map((m) => [m.node, m.state, m.self, m.incarnation])).toEqual([
      ["a", "alive", true, 1000],
      ["b", "alive", false, 1001],
      ["c", "alive", false, 1002],
    ]);
    expect(list[1]!.lastHeardAt).toBeGreaterThan(Date.now() - 1000);
    const metrics = await a.registry.metrics();
    expect(metrics).toContain('dcnet_gossip_members{state="alive"} 3');
    expect(metrics).toContain('dcnet_gossip_members{state="dead"} 0');
    expect(metrics).toContain('dcnet_gossip_member_events_total{type="join"} 2');
  }, 10_000);

  it("a stopped node is suspect then dead within 2 s of its last heartbeat; restarted with a higher incarnation it rejoins", async () => {
    const [a, b, c] = await trio(server.url, "stop");
    // Tap the heartbeat subject to know when c's last beat arrived.
    let lastFromC = 0;
    const tap = a.transport.nc.subscribe(a.transport.subjects.gossipHeartbeat("c"), {
      callback: (_err, msg) => {
        const r = a.transport.decode(msg.data, [heartbeatKind]);
        if (r.ok && r.env.from === "c") lastFromC = performance.now();
      },
    });
    await sleep(300);
    await c.stop();
    await waitFor(() => has(a, "dead", "c") && has(b, "dead", "c"), "c dead on a and b", 4000);
    tap.unsubscribe();
    for (const n of [a, b]) {
      expect(events(n, "c")).toEqual(["join", "suspect", "dead"]);
      const dead = n.seen.find((s) => s.ev.type === "dead" && s.ev.node === "c")!;
      const detectMs = dead.t - lastFromC;
      console.log(`membership: ${n.id} declared c dead ${detectMs.toFixed(0)} ms after c's last heartbeat arrived`);
      expect(detectMs).toBeGreaterThan(1600);
      expect(detectMs).toBeLessThan(2000);
    }
    expect(events(a, "b")).toEqual(["join"]);
    expect((await members(a)).find((m) => m.node === "c")?.state).toBe("dead");

    await startNode(server.url, "stop", "c", 5000);
    await waitFor(() => has(a, "rejoin", "c") && has(b, "rejoin", "c"), "c rejoined", 2000);
    expect(a.seen.find((s) => s.ev.type === "rejoin")?.ev).toEqual({ type: "rejoin", node: "c", incarnation: 5000, previous: 1002 });
    expect((await members(b)).find((m) => m.node === "c")).toMatchObject({ state: "alive", incarnation: 5000 });
  }, 15_000);

  // 1.5 s is the brief's figure; 2.5 s is past deadAfterMs, so without the stall allowance it would kill everyone.
  it.each([1500, 2500])("does not declare anyone suspect or dead when this process's event loop is blocked for %i ms", async (blockMs) => {
    const nodes = await trio(server.url, `stall${blockMs}`);
    await sleep(400);
    const busyUntil = performance.now() + blockMs;
    while (performance.now() < busyUntil) {
      // Blocking on purpose: every node in this process stalls at once, as under a CPU-bound burst.
    }
    await sleep(2500);
    for (const n of nodes) {
      expect(n.seen.filter((s) => s.ev.type === "dead")).toEqual([]);
      expect(n.seen.filter((s) => s.ev.type === "suspect")).toEqual([]);
      expect((await members(n)).every((m) => m.state === "alive")).toBe(true);
      const stall = await n.registry.getSingleMetricAsString("dcnet_gossip_event_loop_stall_seconds_total");
      expect(Number(/ ([\d.]+)$/m.exec(stall)?.[1])).toBeGreaterThan((blockMs - 200) / 1000);
    }
  }, 15_000);

  it("a throwing watcher neither crashes membership nor stops other watchers", async () => {
    const a = await startNode(server.url, "watchers", "a", 1);
    let calls = 0;
    await a.ref.ask((reply) => ({ type: "watch", subscriber: () => {
      calls += 1;
      throw new Error("watcher bug");
    }, reply }), 1000);
    await startNode(server.url, "watchers", "b", 2);
    await waitFor(() => has(a, "join", "b"), "b joined", 2000);
    expect(calls).toBe(1);
    expect(a.tree.stats().find((s) => s.path === PATH)).toMatchObject({ status: "running", restarts: 0 });
  }, 10_000);

  it("unwatch stops events", async () => {
    const a = await startNode(server.url, "unwatch", "a", 1);
    const got: MemberEvent[] = [];
    const { id, members: initial } = await a.ref.ask<{ id: number; members: readonly Member[] }>((reply) => ({ type: "watch", subscriber: (ev) => void got.push(ev), reply }), 1000);
    expect(initial.map((m) => m.node)).toEqual(["a"]);
    a.ref.tell({ type: "unwatch", id });
    await startNode(server.url, "unwatch", "b", 2);
    await waitFor(() => has(a, "join", "b"), "b joined", 2000);
    expect(got).toEqual([]);
  }, 10_000);

  it("rejects and counts malformed heartbeats; a heartbeat from the reserved id _all is rejected too", async () => {
    const a = await startNode(server.url, "bad", "a", 1);
    // Raw subjects: the builder refuses the reserved id `_all`, an attacker's client does not.
    const subject = (from: string): string => `dcnet.bad.gossip.hb.${from}`;
    const loose = defineKind("gossip.heartbeat", z.unknown());
    const nc = a.transport.nc;
    nc.publish(subject("x"), new Uint8Array([0xc1, 0x00]));
    nc.publish(subject("x"), encode(loose, "x", { incarnation: 1, seq: 0, intervalMs: -5 }));
    nc.publish(subject("y"), encode(loose, "y", { incarnation: "one", seq: 0, intervalMs: 200 }));
    nc.publish(subject("_all"), encode(loose, "_all", { incarnation: 1, seq: 0, intervalMs: 200 }));
    await nc.flush();
    await waitFor(() => a.transport.rejects.snapshot().reduce((n, r) => n + r.count, 0) >= 4, "4 rejections", 2000);
    expect(a.transport.rejects.snapshot()).toEqual(
      expect.arrayContaining([
        { kind: "unknown", reason: "undecodable", count: 1 },
        { kind: "gossip.heartbeat", reason: "invalid-body", count: 2 },
        { kind: "gossip.heartbeat", reason: "not-an-envelope", count: 1 },
      ]),
    );
    await sleep(100);
    expect(a.seen).toEqual([]);
  }, 10_000);
});

describe("membership actor - forged heartbeats", () => {
  let server: NatsServerHandle;
  beforeAll(async () => {
    server = await startNatsServer();
  }, 15_000);
  afterAll(async () => {
    await server.stop();
  });

  const rejected = async (n: TestNode, metric: string): Promise<string[][]> =>
    ((await n.registry.getSingleMetric(metric)?.get())?.values ?? []).map((v) => [...Object.values(v.labels).map(String), String(v.value)]).sort();

  it("a heartbeat whose from is not its subject's sender token is rejected as forged-sender, counted, and changes nothing", async () => {
    const [a, b] = await trio(server.url, "forged");
    const evil = await Transport.connect({ servers: [server.url], cluster: "forged", nodeId: "evil", logger: silent, metrics: new Registry() });
    try {
      const before = (await members(a)).map((m) => [m.node, m.state, m.incarnation]);
      // Evil's own subject, b's name in the envelope, a newer incarnation: would be a rejoin of b.
      for (let i = 0; i < 20; i++) evil.nc.publish(evil.subjects.gossipHeartbeat("evil"), encode(heartbeatKind, "b", { incarnation: 9000, seq: i, intervalMs: 200 }));
      await evil.nc.flush();
      await waitFor(() => (a.transport.rejects.snapshot().find((r) => r.reason === "forged-sender")?.count ?? 0) >= 20, "20 forged-sender rejections on a", 2000);
      expect(a.transport.rejects.snapshot()).toEqual([{ kind: "gossip.heartbeat", reason: "forged-sender", count: 20 }]);
      expect(await rejected(a, "dcnet_transport_rejected_messages_total")).toEqual([["gossip.heartbeat", "forged-sender", "20"]]);
      await sleep(300);
      expect(events(a, "b")).toEqual(["join"]);
      expect(events(a, "evil")).toEqual([]);
      expect((await members(a)).map((m) => [m.node, m.state, m.incarnation])).toEqual(before);
      expect((await members(b)).find((m) => m.node === "a")?.state).toBe("alive");
    } finally {
      await evil.close();
    }
  }, 10_000);

  it("a heartbeat with incarnation 2^53-1 (far ahead of the clock) is rejected as clock-skew and counted; the victim stays alive with its incarnation", async () => {
    const [a, b, c] = await trio(server.url, "future", Date.now() - 5000);
    const evil = await Transport.connect({ servers: [server.url], cluster: "future", nodeId: "b", logger: silent, metrics: new Registry() });
    try {
      // On b's own subject, in b's name: only NATS permissions stop this publish (the server's
      // part); here the bound on incarnations must keep b alive on every node.
      for (let i = 0; i < 10; i++) evil.publish(evil.subjects.gossipHeartbeat("b"), heartbeatKind, { incarnation: 2 ** 53 - 1, seq: i, intervalMs: 200 });
      evil.publish(evil.subjects.gossipHeartbeat("b"), heartbeatKind, { incarnation: Date.now() + 24 * 3600 * 1000, seq: 10, intervalMs: 200 });
      await evil.nc.flush();
      await sleep(300);
      for (const n of [a, c]) {
        expect(await rejected(n, "dcnet_gossip_rejected_messages_total")).toEqual([["clock-skew", "11"]]);
        expect(events(n, "b")).toEqual(["join"]);
        expect((await members(n)).find((m) => m.node === "b")).toMatchObject({ state: "alive", incarnation: b.incarnation });
      }
      // Past the dead-after time: b's real heartbeats still count (they would be "stale" had the forged incarnation been taken).
      await sleep(GOSSIP.deadAfterMs);
      for (const n of [a, c]) expect((await members(n)).find((m) => m.node === "b")).toMatchObject({ state: "alive", incarnation: b.incarnation });
      expect(events(a, "b")).toEqual(["join"]);
    } finally {
      await evil.close();
    }
  }, 10_000);
});

describe("membership actor - own disconnection", () => {
  it("peers become unknown, never dead, while our server is down; after the reconnect they are alive again", async () => {
    const first = await startNatsServer();
    let second: NatsServerHandle | undefined;
    try {
      const nodes = await trio(first.url, "cut");
      await first.stop();
      await waitFor(() => nodes.every((n) => nodes.every((o) => o === n || has(n, "unknown", o.id))), "everyone unknown", 2000);
      await sleep(2500); // longer than deadAfterMs
      for (const n of nodes) expect((await members(n)).filter((m) => !m.self).map((m) => m.state)).toEqual(["unknown", "unknown"]);
      second = await startNatsServer({ port: first.port });
      await waitFor(() => nodes.every((n) => nodes.every((o) => o === n || has(n, "alive", o.id))), "everyone alive again", 5000);
      for (const n of nodes) {
        for (const o of nodes) if (o !== n) expect(events(n, o.id)).toEqual(["join", "unknown", "alive"]);
        expect((await members(n)).every((m) => m.state === "alive")).toBe(true);
      }
    } finally {
      await Promise.all([...running].map((n) => n.stop()));
      await second?.stop();
      await first.stop();
    }
  }, 20_000);
});
