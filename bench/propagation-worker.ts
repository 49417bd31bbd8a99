// Child process of bench/propagation.ts: hosts K store instances — each the real gossip subtree
// (membership + store, as in `dcnet node`) on its own NATS connection, without the admin service
// and the other node actors — watches `bench/` on each, and reports when each change became visible.
// Protocol over the IPC channel: parent → {type:"start", ...} | {type:"write", ...} | {type:"report"} | {type:"stop"}.
// With `creds` (a credentials folder holding `<id>.pem` for each instance id) every instance connects
// with its node credential (TLS, client certificate, its inbox prefix); without, to an open server.
import { pino } from "pino";
import { validateConfig } from "../actors/node/config.js";
import { createRegistry } from "../observability/metrics.js";
import { Transport } from "../transport/index.js";
import { startTree, type Tree } from "../supervisors/index.js";
import { gossipTreeSpec } from "../actors/gossip/index.js";
import { startNode } from "../actors/node/index.js";
import { createLogHub } from "../observability/logger.js";
import type { Member, MemberEvent, MembershipMsg, StoreMsg, StoreCounters, WatchEvent } from "../actors/gossip/index.js";
import type { KeyView } from "../actors/gossip/index.js";
import { Packr } from "msgpackr";
import { join } from "node:path";
import { freePort } from "../integration/harness/nats-local.js";
import { inboxPrefix, loadCredential } from "../transport/auth/index.js";
import { startMemberHost, type MemberHost } from "../testkit/gossip/members.js";

const packr = new Packr({ useRecords: false });

type FromParent =
  | { type: "start"; worker: number; count: number; servers: string[]; gossip: Record<string, number | string>; full: boolean; creds?: string; shared?: boolean }
  | { type: "write"; node: number; keys: number; fields: number; ratePerSec: number; prefix: string }
  | { type: "report" }
  | { type: "alive" }
  | { type: "stop" };

interface Instance {
  readonly tree: Tree;
  readonly transport: Transport;
  stop(reason: string): Promise<void>;
}

const nodes: Instance[] = [];
/** Per instance: peers alive in its membership view, kept from its events (asking costs nothing). */
const aliveCounts: Array<{ n: number }> = [];
/** key → (local node → time the timed field `t` first arrived there; absolute ms, sub-ms precision). */
const seen = new Map<string, Map<number, number>>();
const now = (): number => performance.timeOrigin + performance.now();
const send = (m: unknown): void => void process.send?.(m);

/** Where the gossip subtree sits: `/gossip` alone, `/node/gossip` in a whole node. */
let GOSSIP_AT = "/gossip";

/** A whole node, exactly as `dcnet node` runs it (admin service, facts, …). */
async function startFullNode(id: string, servers: string[], gossip: Record<string, number | string>, creds?: string): Promise<Instance> {
  GOSSIP_AT = "/node/gossip";
  // Its own DNS port and no metrics listener: several nodes share this machine.
  const nats = creds === undefined ? { servers, insecure: true } : { servers, credentials: join(creds, `${id}.pem`) };
  const config = validateConfig({ id, nats, log: { level: "error" }, gossip, dns: { listen: [`127.0.0.1:${await freePort()}`] }, metrics: { listen: "" } });
  const node = await startNode(config, { logs: createLogHub({ level: "error", bindings: {}, destination: pino.destination(2) }) });
  return { tree: node.tree, transport: node.transport, stop: (reason) => node.stop(reason) };
}

async function startInstance(id: string, servers: string[], gossip: Record<string, number | string>, creds?: string, host?: MemberHost): Promise<Instance> {
  const config = validateConfig({ id, nats: { servers }, log: { level: "error" }, gossip });
  const log = pino({ level: "error" }, pino.destination(2));
  const metrics = createRegistry({ node: id, cluster: config.cluster });
  const cred = creds === undefined ? undefined : loadCredential(join(creds, `${id}.pem`));
  const tls = cred === undefined ? {} : { tls: cred.tls, inboxPrefix: inboxPrefix(cred.cluster, cred.name) };
  const transport =
    host === undefined ? await Transport.connect({ servers, cluster: config.cluster, nodeId: id, logger: log, metrics, ...tls }) : await Transport.over(host.nc, { cluster: config.cluster, nodeId: id, logger: log, metrics });
  const slot: { tree?: Tree } = {};
  const spec = gossipTreeSpec({ config, transport, metrics, incarnation: Date.now(), child: () => log, lookup: (p) => slot.tree?.lookup(p), path: "/gossip" });
  const tree = await startTree(spec, { onCreated: (t) => (slot.tree = t) });
  return {
    tree,
    transport,
    stop: async () => {
      await tree.shutdown();
      await transport.close();
    },
  };
}

function store(n: Instance) {
  const ref = n.tree.lookup<StoreMsg>(`${GOSSIP_AT}/store`);
  if (!ref) throw new Error("no store");
  return ref;
}

/** `shared`: this process's instances ride on one NATS connection (testkit/gossip/members.ts), for hundreds per process. */
let host: MemberHost | undefined;

async function start(m: Extract<FromParent, { type: "start" }>): Promise<void> {
  if (m.shared === true) host = await startMemberHost(m.servers[m.worker % m.servers.length] as string, `bench-stores-${m.worker}`);
  for (let i = 0; i < m.count; i++) {
    const servers = [m.servers[(m.worker + i) % m.servers.length] as string];
    const node = m.full ? await startFullNode(`w${m.worker}-n${i}`, servers, m.gossip, m.creds) : await startInstance(`w${m.worker}-n${i}`, servers, m.gossip, m.creds, host);
    const index = nodes.length;
    nodes.push(node);
    const counted = { n: 0 };
    aliveCounts.push(counted);
    const up = new Map<string, boolean>();
    const membership = node.tree.lookup<MembershipMsg>(`${GOSSIP_AT}/membership`);
    if (!membership) throw new Error("no membership");
    const seenUp = (node: string, isUp: boolean): void => {
      if (isUp !== (up.get(node) === true)) counted.n += isUp ? 1 : -1;
      up.set(node, isUp);
    };
    const w = await membership.ask<{ members: readonly Member[] }>((reply) => ({ type: "watch", subscriber: (ev: MemberEvent) => seenUp(ev.node, ev.type === "join" || ev.type === "alive" || ev.type === "rejoin"), reply }), 60_000);
    for (const mb of w.members) if (!mb.self && !up.has(mb.node)) seenUp(mb.node, mb.state === "alive");
    await store(node).ask<number>(
      (reply) => ({
        type: "watch",
        prefix: "bench/",
        subscriber: (ev: WatchEvent) => {
          if (ev.initial || !ev.value?.t) return;
          const at = now();
          const perNode = seen.get(ev.key) ?? new Map<number, number>();
          if (!perNode.has(index)) perNode.set(index, at);
          seen.set(ev.key, perNode);
        },
        reply,
      }),
      // The watch answers once the store's initial sync is over; 50 nodes booting in one process
      // on a 2-core machine take a while.
      120_000,
    );
  }
}

async function write(m: Extract<FromParent, { type: "write" }>): Promise<void> {
  const node = nodes[m.node] as Instance;
  const ref = store(node);
  const gap = 1000 / m.ratePerSec;
  const written: Array<{ key: string; at: number }> = [];
  // Pre-fill every key to its size first (not timed), so each timed change is one field of a big key.
  if (m.fields > 1) {
    const fill = Array.from({ length: m.fields - 1 }, (_, f) => ({ op: "set" as const, field: `f${f}`, value: `v${f}-${"x".repeat(16)}` }));
    for (let k = 0; k < m.keys; k++) await ref.ask((reply) => ({ type: "update", key: `bench/${m.prefix}/${k}`, ops: fill, reply }), 10_000);
    await new Promise((r) => setTimeout(r, 500));
  }
  const before = await ref.ask<StoreCounters>((reply) => ({ type: "counters", reply }), 60_000);
  // On a shared connection the writer's own messages are its delta batches (the connection's count is everyone's).
  const outMsgs = (): number => (host === undefined ? node.transport.nc.stats().outMsgs : 0);
  const msgsBefore = outMsgs();
  const t0 = now();
  for (let k = 0; k < m.keys; k++) {
    const key = `bench/${m.prefix}/${k}`;
    const due = t0 + k * gap;
    const wait = due - now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const at = now();
    written.push({ key, at });
    await ref.ask((reply) => ({ type: "update", key, ops: [{ op: "set", field: "t", value: at }], reply }), 60_000);
  }
  const after = await ref.ask<StoreCounters>((reply) => ({ type: "counters", reply }), 60_000);
  const msgsOut = host === undefined ? outMsgs() - msgsBefore : null;
  // What whole-key replication (lashup) would send for each change: the key's full value.
  const full = await ref.ask<KeyView | undefined>((reply) => ({ type: "get", key: `bench/${m.prefix}/0`, reply }), 60_000);
  const wholeKeyBytes = packr.pack({ key: `bench/${m.prefix}/0`, value: full }).length;
  send({ type: "written", written, deltas: after.deltasOut - before.deltasOut, bytes: after.bytesOut - before.bytesOut, msgsOut, wholeKeyBytes });
}

async function counters(): Promise<StoreCounters[]> {
  return Promise.all(nodes.map((n) => store(n).ask<StoreCounters>((reply) => ({ type: "counters", reply }), 60_000)));
}

// BENCH_PROGRESS=1: every 5 s, this process's event-loop delay and RSS (where a slow change waited).
if (process.env.BENCH_PROGRESS) {
  const { monitorEventLoopDelay } = await import("node:perf_hooks");
  const delay = monitorEventLoopDelay({ resolution: 20 });
  delay.enable();
  setInterval(() => {
    console.log(`[${process.pid} ${new Date().toISOString().slice(11, 19)}] ${nodes.length} instances; loop delay p50 ${(delay.percentile(50) / 1e6).toFixed(0)} ms max ${(delay.max / 1e6).toFixed(0)} ms; rss ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MB`);
    delay.reset();
  }, 5000).unref();
}

// Orphaned by a parent that died: stop, don't linger.
process.on("disconnect", () => process.exit(1));

process.on("message", (raw) => {
  const m = raw as FromParent;
  const run = async () => {
    switch (m.type) {
      case "start":
        await start(m);
        return send({ type: "started" });
      case "write":
        return write(m);
      case "alive":
        return send({ type: "alive", min: Math.min(...aliveCounts.map((c) => c.n)) });
      case "report":
        return send({ type: "report", seen: [...seen.entries()].map(([k, v]) => [k, [...v.values()]]), counters: await counters(), rss: process.memoryUsage().rss });
      case "stop":
        await Promise.all(nodes.map((n) => n.stop("bench done")));
        await host?.close();
        send({ type: "stopped" });
        process.exit(0);
    }
  };
  run().catch((err: unknown) => {
    send({ type: "error", message: (err as Error).stack ?? String(err) });
    process.exit(1);
  });
});
