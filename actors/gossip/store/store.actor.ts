// /node/gossip/store: the replicated CRDT store of this node (actors/gossip/DESIGN.md). Local
// updates become deltas broadcast in batches; peers' deltas are merged; anti-entropy digests find
// what a delta missed and bucket pulls repair it; a (re)started store pulls the cluster's state
// before it accepts writes; entries of dead replicas are dropped after a grace period.
import type { Behaviour, ExitReason } from "../../../supervisors/index.js";
import { read, replicaOf } from "../crdt/index.js";
import { DeltaBatch } from "./batch.js";
import { Keyspace } from "./keyspace.js";
import type { StoreActorMsg, StoreInternalMsg } from "./messages.js";
import { storeMetrics } from "./metrics.js";
import { publishDigestRequest, subscribeStore } from "./net.js";
import { Ownership } from "./owners.js";
import { antiEntropy, armCleanup, cleanup, digestRequest, memberEvent, pullFailed, pullPage, remoteDeltas, remoteDigest, serveBuckets, syncTimeout } from "./repair.js";
import { later, safeReply, type StoreDeps, type StoreState, type Runtime } from "./state.js";
import { DiffMemory, Pulls } from "./sync.js";
import type { StoreCounters, StoreMsg } from "./types.js";
import { Watchers } from "./watchers.js";
import { flush, settleOnExit, update } from "./writes.js";

export function storeBehaviour(deps: StoreDeps): Behaviour<StoreState, StoreActorMsg> {
  let live: StoreState | undefined;
  let starts = 0;
  const metrics = storeMetrics(deps.metrics, () => live?.keys.liveCount ?? 0);
  return {
    async init(ctx) {
      const rt: Runtime = { deps, log: deps.logger, metrics, self: ctx.self };
      const s = await start(rt, ++starts);
      live = s;
      return s;
    },
    handle(s, msg) {
      const pending = dispatch(s, msg);
      return pending === undefined ? s : pending.then(() => s);
    },
    terminate(s, reason) {
      stop(s, reason);
    },
    messageName: (m) => `store.${m.type}`,
  };
}

function newState(rt: Runtime, epoch: number): StoreState {
  const { deps } = rt;
  const now = Date.now();
  const onWatchError = (info: { id: number; prefix: string; key: string; err: unknown }): void => rt.log.error(info, "store watcher threw; it stays subscribed");
  return {
    rt,
    epoch,
    replica: replicaOf(deps.nodeId, deps.incarnation),
    keys: new Keyspace(),
    owners: new Ownership(deps.config.deadGraceMs),
    watchers: new Watchers(onWatchError),
    batch: new DeltaBatch(),
    handedOff: [],
    pulls: new Pulls(deps.config.repairConcurrency),
    diffs: new DiffMemory(),
    sync: { kind: "waiting", since: now },
    held: [],
    hlc: undefined,
    unconfirmed: 0,
    lastDigestAnswerAt: 0,
    counters: { deltasOut: 0, deltasIn: 0, bytesOut: 0, bytesIn: 0, keysRepaired: 0, digestsIn: 0, rejected: 0 },
    timers: {},
    subs: [],
    watchId: undefined,
    closed: false,
  };
}

async function start(rt: Runtime, epoch: number): Promise<StoreState> {
  const { deps } = rt;
  const s = newState(rt, epoch);
  const tell = (m: StoreInternalMsg): void => rt.self.tell(m);
  // Older incarnations of this very node are dead processes; no membership event will say so.
  s.owners.self(deps.nodeId, deps.incarnation, s.sync.since);
  const watch = await deps.membership.watch((event) => tell({ type: "member", event }));
  s.watchId = watch.id;
  s.owners.members(watch.members, Date.now());
  try {
    s.subs = subscribeStore(deps.transport, tell);
    s.timers.antiEntropy = setInterval(() => tell({ type: "anti-entropy", epoch }), deps.config.antiEntropyMs);
    s.timers.antiEntropy.unref();
    s.timers.sync = later(deps.config.syncTimeoutMs, () => tell({ type: "sync-timeout", epoch }));
    armCleanup(s);
    // Every peer answers with its digest now; the first one to arrive is the sync source.
    publishDigestRequest(deps.transport, s.replica);
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
    case "sync-timeout":
      return current(s, m) ? syncTimeout(s) : undefined;
    case "cleanup":
      return current(s, m) ? cleanup(s) : undefined;
    case "member":
      return memberEvent(s, m.event);
  }
}

type Query = Exclude<StoreMsg, { type: "update" }>;

/** Reads serve the current view at once, also before the initial sync completes. */
function query(s: StoreState, m: Query): void {
  switch (m.type) {
    case "get": {
      const state = s.keys.get(m.key);
      return safeReply(s, m.reply, state === undefined ? undefined : read(state));
    }
    case "keys":
      return safeReply(s, m.reply, s.keys.liveKeys(m.prefix));
    case "watch": {
      const id = s.watchers.add(m.prefix, m.subscriber);
      for (const key of s.keys.liveKeys(m.prefix)) {
        const state = s.keys.get(key);
        if (state !== undefined) s.watchers.notifyOne(id, { key, value: read(state), initial: true });
      }
      return safeReply(s, m.reply, id);
    }
    case "unwatch":
      s.watchers.remove(m.id);
      return undefined;
    case "counters":
      return safeReply(s, m.reply, counters(s));
  }
}

function counters(s: StoreState): StoreCounters {
  return { keys: s.keys.liveCount, ...s.counters, synced: s.sync.kind === "synced" };
}
