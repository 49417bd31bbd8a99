// Helpers for this folder's tests: store nodes in one process (own Transport, own tree, a fake
// membership the test drives) on a real nats-server. Kept out of index.ts on purpose.
import { afterAll, afterEach, beforeAll } from "@jest/globals";
import { performance } from "node:perf_hooks";
import { startNatsServer, type NatsServerHandle } from "../../integration/harness/nats-local.js";
import { pino } from "pino";
import { Registry } from "prom-client";
import type { Tracer } from "@opentelemetry/api";
import type { Config } from "../../config/index.js";
import { startTree, supervisor, worker, type ActorRef, type Tree } from "../../supervisors/index.js";
import { ANY, Transport, type BodyOf, type Handler, type KindDef, type SubscribeOptions, type TransportSubscription } from "../../transport/index.js";
import type { KeyView, Value } from "../../actors/gossip/crdt/types.js";
import type { Member, MemberEvent } from "../../actors/gossip/membership/types.js";
import type { MembershipSource } from "../../actors/gossip/store/messages.js";
import { storeBehaviour } from "../../actors/gossip/store/store.actor.js";
import { STORE_PATH } from "../../actors/gossip/index.js";
import type { StoreCounters, StoreMsg, UpdateOp, UpdateResult } from "../../actors/gossip/store/types.js";

// The tree below mounts the store where the node does (/node/gossip/store).
export { STORE_PATH };
export const silent = pino({ level: "silent" });
/** DCNET_TEST_LOG=debug shows the stores' logs when a test needs explaining. */
const storeLogger = process.env.DCNET_TEST_LOG === undefined ? silent : pino({ level: process.env.DCNET_TEST_LOG });

/** Fast timings so a test sees several anti-entropy rounds and a grace period in about a second. */
export const TEST_GOSSIP: Config["gossip"] = {
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
  deadGraceMs: 300,
  antiEntropyMs: 200,
  digestFanIn: 16,
  syncTimeoutMs: 1000,
  tombstoneTtlMs: 60_000,
  maxPendingBytes: 8 * 1024 * 1024,
  repairConcurrency: 4,
  maxClockSkewMs: 60_000,
};

export class FakeMembership implements MembershipSource {
  readonly #subs = new Map<number, (ev: MemberEvent) => void>();
  #next = 1;
  members: Member[] = [];

  async watch(subscriber: (ev: MemberEvent) => void): Promise<{ id: number; members: readonly Member[] }> {
    const id = this.#next++;
    this.#subs.set(id, subscriber);
    return { id, members: [...this.members] };
  }

  unwatch(id: number): void {
    this.#subs.delete(id);
  }

  emit(ev: MemberEvent): void {
    for (const s of this.#subs.values()) s(ev);
  }
}

export interface StoreNode {
  readonly id: string;
  readonly incarnation: number;
  readonly transport: Transport;
  readonly registry: Registry;
  readonly tree: Tree;
  readonly membership: FakeMembership;
  readonly store: ActorRef<StoreMsg>;
  /** Fault injection: while true, this node's store receives no delta batches. */
  dropDeltas: boolean;
  stop(): Promise<void>;
}

export interface NodeOptions {
  readonly incarnation?: number;
  readonly gossip?: Partial<Config["gossip"]>;
  /** Traces the store's turns and its per-change publish/arrival spans, as a tracing node does. */
  readonly tracer?: Tracer;
}

/** Wraps `subscribe` so a test can make the store miss delta batches (as a lossy network would). */
function lossyDeltas(t: Transport, node: { dropDeltas: boolean }): void {
  const subscribe = t.subscribe.bind(t);
  const deltaSubject = t.subjects.gossipDelta(ANY);
  t.subscribe = <D extends KindDef<unknown>>(subject: string, defs: readonly D[], handler: Handler<BodyOf<D>>, opts?: SubscribeOptions): TransportSubscription => {
    const lossy: Handler<BodyOf<D>> = (env, msg) => (node.dropDeltas ? undefined : handler(env, msg));
    return subscribe(subject, defs, subject === deltaSubject ? lossy : handler, opts);
  };
}

export async function startStoreNode(url: string, cluster: string, id: string, opts: NodeOptions = {}): Promise<StoreNode> {
  const registry = new Registry();
  const transport = await Transport.connect({ servers: [url], cluster, nodeId: id, logger: silent, metrics: registry });
  const membership = new FakeMembership();
  const incarnation = opts.incarnation ?? Date.now();
  const switches = { dropDeltas: false };
  lossyDeltas(transport, switches);
  const behaviour = storeBehaviour({ transport, logger: storeLogger.child({ node: id }), metrics: registry, config: { ...TEST_GOSSIP, ...opts.gossip }, nodeId: id, incarnation, membership, ...(opts.tracer ? { tracer: opts.tracer } : {}) });
  const tree = await startTree(supervisor("node", "one_for_one", [supervisor("gossip", "rest_for_one", [worker("store", behaviour)])]), { handlerDeadlineMs: 20_000, ...(opts.tracer ? { tracer: opts.tracer } : {}) });
  const store = tree.lookup<StoreMsg>(STORE_PATH);
  if (store === undefined) throw new Error("no store actor");
  let stopped = false;
  const node: StoreNode = {
    id,
    incarnation,
    transport,
    registry,
    tree,
    membership,
    store,
    get dropDeltas() {
      return switches.dropDeltas;
    },
    set dropDeltas(v: boolean) {
      switches.dropDeltas = v;
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await tree.shutdown();
      await transport.close();
    },
  };
  return node;
}

export async function write(n: StoreNode, key: string, ops: readonly UpdateOp[], timeoutMs = 10_000): Promise<UpdateResult> {
  return n.store.ask<UpdateResult>((reply) => ({ type: "update", key, ops, reply }), timeoutMs);
}

export const setOp = (field: string, value: Value): UpdateOp => ({ op: "set", field, value });

export async function getKey(n: StoreNode, key: string): Promise<KeyView | undefined> {
  return n.store.ask<KeyView | undefined>((reply) => ({ type: "get", key, reply }), 10_000);
}

export async function keys(n: StoreNode, prefix: string): Promise<readonly string[]> {
  return n.store.ask<readonly string[]>((reply) => ({ type: "keys", prefix, reply }), 10_000);
}

export async function counters(n: StoreNode): Promise<StoreCounters> {
  return n.store.ask<StoreCounters>((reply) => ({ type: "counters", reply }), 10_000);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `check` every `everyMs` until it returns true; returns the time waited (ms). */
export async function waitUntil(what: string, check: () => Promise<boolean> | boolean, timeoutMs: number, everyMs = 20): Promise<number> {
  const started = performance.now();
  for (;;) {
    if (await check()) return Math.round(performance.now() - started);
    if (performance.now() - started > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

/** The value of an LWW field in a read view. */
export function lww(view: KeyView | undefined, field: string): Value | undefined {
  const f = view?.[field];
  return f?.type === "lww" ? f.value : undefined;
}

/** A test file's nats-server and what its tests start on it, stopped after each test (and the server after the file). */
export interface StoreLab {
  /** The server's URL (valid once the file's beforeAll ran). */
  readonly url: () => string;
  /** A store node on the lab's server, stopped after the test. */
  start(cluster: string, id: string, opts?: NodeOptions): Promise<StoreNode>;
  /** Anything else to stop after the test (a raw transport, a tree). */
  track<T extends { stop(): Promise<void> }>(x: T): T;
}

/** Registers the jest hooks of a store test file; call once at its top level. */
export function useStoreLab(): StoreLab {
  let server: NatsServerHandle | undefined;
  let open: Array<{ stop(): Promise<void> }> = [];
  beforeAll(async () => {
    server = await startNatsServer();
  });
  afterEach(async () => {
    await Promise.all(open.map((n) => n.stop()));
    open = [];
  });
  afterAll(async () => {
    await server?.stop();
  });
  const url = (): string => {
    if (!server) throw new Error("useStoreLab: the server is not started yet (use it inside a test)");
    return server.url;
  };
  const track = <T extends { stop(): Promise<void> }>(x: T): T => {
    open.push(x);
    return x;
  };
  return { url, track, start: async (cluster, id, opts = {}) => track(await startStoreNode(url(), cluster, id, opts)) };
}
