// /node/gossip/store: the replicated CRDT store of this node (actors/gossip/README.md). Local
// updates become deltas broadcast in batches; peers' deltas are merged; anti-entropy digests find
// what a delta missed and bucket pulls repair it; a (re)started store pulls the cluster's state
// before it accepts writes; entries of dead replicas are dropped after a grace period.
import type { Behaviour, ExitReason } from "../../../supervisors/index.js";
import { replicaOf } from "../crdt/index.js";
import { DeltaBatch } from "./batch.js";
import { Keyspace } from "./keyspace.js";
import type { StoreActorMsg, StoreInternalMsg } from "./messages.js";
import { storeMetrics } from "./metrics.js";
import { GossipRejects } from "../rejects.js";
import { publishDigestRequest, subscribeStore } from "./net.js";
import { Ownership } from "./owners.js";
import { antiEntropy, armCleanup, cleanup, digestRequest, memberEvent, pullFailed, pullPage, remoteDeltas, remoteDigest, serveBuckets, syncAlone, syncTimeout } from "./repair.js";
import { query } from "./reads.js";
import { later, type StoreDeps, type StoreState, type StoreRuntime } from "./state.js";
import { DiffMemory, Pulls } from "./sync.js";
import { Watchers } from "./watchers.js";
import { flush, settleOnExit, update } from "./writes.js";

export function storeBehaviour(deps: StoreDeps): Behaviour<StoreState, StoreActorMsg> {
  let live: StoreState | undefined;
  let starts = 0;
  // Outlive a crash: they belong to the watching actors (reads.ts); `handover` feeds their catch-up.
  const watchers = new Watchers((info) => deps.logger.error(info, "store watcher threw; it stays subscribed"));
  let handover: ReadonlyMap<string, string> | undefined;
  const metrics = storeMetrics(deps.metrics, () => live?.keys.liveCount ?? 0);
  const rejects = new GossipRejects(deps.metrics, deps.logger);
  return {
    async init(ctx) {
      const rt: StoreRuntime = { deps, log: deps.logger, metrics, rejects, self: ctx.self };
      const s = await start(newState(rt, ++starts, watchers, handover));
      handover = undefined;
      live = s;
      return s;
    },
    handle(s, msg) {
      const pending = dispatch(s, msg);
      return pending === undefined ? s : pending.then(() => s);
    },
    terminate(s, reason) {
      if (s.closed) return;
      // What the watches last saw (or, still unsynced, what the previous incarnation handed over).
      handover = watchers.size === 0 ? undefined : s.sync.kind === "synced" ? s.keys.liveHashes() : s.previous;
      stop(s, reason);
    },
    messageName: (m) => `store.${m.type}`,
    background: (m) => BACKGROUND.has(m.type),
  };
}

/**
 * Replication plumbing: timers, digests, repair pulls, the initial sync, and delta batches — a batch
 * only carries changes, each of which gets its own arrival span in its writer's trace (repair.ts).
 * A write, a watch and a member event are not: they are changes or caused by one.
 */
const BACKGROUND: ReadonlySet<StoreActorMsg["type"]> = new Set(["remote-deltas", "remote-digest", "digest-request", "serve-buckets", "pull-page", "pull-failed", "anti-entropy", "sync-timeout", "alone"]);

function newState(rt: StoreRuntime, epoch: number, watchers: Watchers, previous: ReadonlyMap<string, string> | undefined): StoreState {
  const { deps } = rt;
  const now = Date.now();
  return {
    rt,
    epoch,
    replica: replicaOf(deps.nodeId, deps.incarnation),
    keys: new Keyspace(),
    owners: new Ownership(deps.config.deadGraceMs),
    watchers,
    batch: new DeltaBatch(),
    handedOff: [],
    pulls: new Pulls(deps.config.repairConcurrency),
    // Half an interval: far longer than a delta in flight, short enough to repair within about one interval.
    diffs: new DiffMemory(deps.config.antiEntropyMs / 2),
    sync: { kind: "waiting", since: now },
    held: [],
    previous,
    hlc: undefined,
    unconfirmed: 0,
    lastDigestAnswerAt: 0,
    live: new Set(),
    counters: { deltasOut: 0, deltasIn: 0, bytesOut: 0, bytesIn: 0, keysRepaired: 0, digestsIn: 0, rejected: 0 },
    timers: {},
    subs: [],
    watchId: undefined,
    closed: false,
  };
}

async function start(s: StoreState): Promise<StoreState> {
  const { rt, epoch } = s;
  const { deps } = rt;
  const tell = (m: StoreInternalMsg): void => rt.self.tell(m);
  // Older incarnations of this very node are dead processes; no membership event will say so.
  s.owners.self(deps.nodeId, deps.incarnation, s.sync.since);
  const watch = await deps.membership.watch((event) => tell({ type: "member", event }));
  s.watchId = watch.id;
  s.owners.members(watch.members, Date.now());
  for (const m of watch.members) if (!m.self && (m.state === "alive" || m.state === "suspect")) s.live.add(m.node);
  try {
    s.subs = subscribeStore(deps.transport, tell);
    s.timers.antiEntropy = setInterval(() => tell({ type: "anti-entropy", epoch }), deps.config.antiEntropyMs);
    s.timers.antiEntropy.unref();
    s.timers.sync = later(deps.config.syncTimeoutMs, () => tell({ type: "sync-timeout", epoch }));
    armCleanup(s);
    // Every peer answers with its digest now; the first one to arrive is the sync source.
    publishDigestRequest(deps.transport, s.replica, deps.config.syncTimeoutMs, () => tell({ type: "alone", epoch }));
  } catch (err) {
    stop(s, { kind: "crash", error: err instanceof Error ? err : new Error(String(err)) });
    throw err;
  }
  rt.log.info({ replica: s.replica, restart: epoch > 1 }, "gossip store started; syncing");
  return s;
}

function stop(s: StoreState, reason: ExitReason): void {
  if (s.closed) return;
  s.closed = true;
  const t = s.timers;
  clearInterval(t.antiEntropy);
  for (const timer of [t.flush, t.sync, t.cleanup]) clearTimeout(timer);
  for (const sub of s.subs) sub.unsubscribe();
  if (s.watchId !== undefined) s.rt.deps.membership.unwatch(s.watchId);
  settleOnExit(s);
  s.rt.log.info({ reason: reason.kind, keys: s.keys.liveCount }, "gossip store stopped");
}

/** Internal messages carry the epoch of the incarnation that sent them; older ones are ignored. */
function current(s: StoreState, m: { readonly epoch: number }): boolean {
  return m.epoch === s.epoch;
}

function dispatch(s: StoreState, m: StoreActorMsg): void | Promise<void> {
  switch (m.type) {
    case "update":
      return update(s, m);
    case "get":
    case "keys":
    case "watch":
    case "unwatch":
    case "counters":
      return query(s, m);
    case "remote-deltas":
      return remoteDeltas(s, m);
    case "remote-digest":
      return remoteDigest(s, m);
    case "digest-request":
      return digestRequest(s, m);
    case "serve-buckets":
      return serveBuckets(s, m);
    case "pull-page":
      return pullPage(s, m);
    case "pull-failed":
      return pullFailed(s, m);
    case "flush":
      return current(s, m) ? flush(s) : undefined;
    case "anti-entropy":
      return current(s, m) ? antiEntropy(s) : undefined;
    case "alone":
      return current(s, m) ? syncAlone(s) : undefined;
    case "sync-timeout":
      return current(s, m) ? syncTimeout(s) : undefined;
    case "cleanup":
      return current(s, m) ? cleanup(s) : undefined;
    case "member":
      return memberEvent(s, m.event);
  }
}
