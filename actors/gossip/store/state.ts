// What one incarnation of the store actor holds, and the handles its handlers share. The maps are
// mutated in place: the store is one actor, handlers run one at a time, and copying a 100k-key map
// per message is not an option. `closed` stops a crashed incarnation's leftover async work.
import type { Logger } from "pino";
import type { ActorRef, ReplyTo } from "../../../supervisors/index.js";
import type { TransportSubscription } from "../../../transport/index.js";
import { read } from "../crdt/index.js";
import type { Hlc, ReplicaId } from "../crdt/types.js";
import type { TraceCarrier, UpdateResult } from "./types.js";
import type { DeltaBatch } from "./batch.js";
import type { Change, Keyspace } from "./keyspace.js";
import type { MembershipSource, StoreActorMsg, UpdateMsg, WatchMsg } from "./messages.js";
import type { StoreMetrics } from "./metrics.js";
import type { GossipRejects } from "../rejects.js";
import type { Ownership } from "./owners.js";
import type { DiffMemory, Pulls, SyncPhase } from "./sync.js";
import { sameView, type Watchers } from "./watchers.js";
import type { GossipActorDeps } from "../deps.js";

export interface StoreDeps extends GossipActorDeps {
  readonly membership: MembershipSource;
  /** Delta batches are published at most this long (ms) after their first update. Default 2. */
  readonly flushTickMs?: number;
  /** Timeout of one bucket request (ms). Default 5000. */
  readonly pullTimeoutMs?: number;
}

export type Ack = ReplyTo<UpdateResult>;

export interface Counters {
  deltasOut: number;
  deltasIn: number;
  bytesOut: number;
  bytesIn: number;
  keysRepaired: number;
  digestsIn: number;
  rejected: number;
}

export interface Timers {
  antiEntropy?: NodeJS.Timeout;
  flush?: NodeJS.Timeout;
  sync?: NodeJS.Timeout;
  cleanup?: NodeJS.Timeout;
  cleanupAt?: number;
  /** When the last cleanup ran: the next one comes CLEANUP_SPACING_MS later at the earliest. */
  cleanupRanAt?: number;
}

/** Handles of this incarnation. */
export interface StoreRuntime {
  readonly deps: StoreDeps;
  readonly log: Logger;
  readonly metrics: StoreMetrics;
  /** Refusals by gossip's own rules: counted, logged at a bounded rate. */
  readonly rejects: GossipRejects;
  readonly self: ActorRef<StoreActorMsg>;
}

export interface StoreState {
  readonly rt: StoreRuntime;
  readonly epoch: number;
  readonly replica: ReplicaId;
  readonly keys: Keyspace;
  readonly owners: Ownership;
  readonly watchers: Watchers;
  readonly batch: DeltaBatch<Ack>;
  /** Writers whose batch is published, waiting for a back-pressure flush before their ack. */
  handedOff: Ack[];
  readonly pulls: Pulls;
  readonly diffs: DiffMemory;
  sync: SyncPhase;
  /** Local writes and watches received before the initial sync completed, in arrival order. */
  readonly held: (UpdateMsg | WatchMsg)[];
  /** After a restart: live key → state hash of the crashed incarnation, for the watches' catch-up. */
  previous: ReadonlyMap<string, string> | undefined;
  hlc: Hlc | undefined;
  /** Bytes published since the last completed flush: an upper bound of the client's unsent bytes. */
  unconfirmed: number;
  lastDigestAnswerAt: number;
  /** Members other than this node currently alive (membership's word): the n of the digest fan-in. */
  readonly live: Set<string>;
  readonly counters: Counters;
  readonly timers: Timers;
  subs: TransportSubscription[];
  watchId: number | undefined;
  closed: boolean;
}

/**
 * Tells watchers of the key about a change of its read view (a context-only change is not one).
 * Silent until synced: watches start after the sync, and the ones that outlived a crash get one
 * catch-up event per changed key after it (reads.ts), not the whole rebuild key by key. `trace` is
 * the context of the write behind the change, when it came with one (local write or delta).
 */
export function notifyChange(s: StoreState, change: Change, trace?: TraceCarrier): void {
  if (!change.changed || s.sync.kind !== "synced" || s.watchers.size === 0 || !s.watchers.covers(change.key)) return;
  const before = change.before === undefined ? undefined : read(change.before);
  const after = read(change.after);
  if (sameView(before, after)) return;
  s.watchers.notify(trace === undefined ? { key: change.key, value: after, initial: false } : { key: change.key, value: after, initial: false, trace });
}

/** Calls a reply channel given by another actor; its failure is that actor's problem, not ours. */
export function safeReply<R>(s: StoreState, reply: ReplyTo<R> | undefined, result: R): void {
  if (reply === undefined) return;
  try {
    reply(result);
  } catch (err) {
    s.rt.log.warn({ err }, "store reply callback threw");
  }
}

export function isSynced(s: StoreState): boolean {
  return s.sync.kind === "synced";
}

/** Unref'd timers: the store's clocks never keep a process alive on their own. */
export function later(ms: number, fn: () => void): NodeJS.Timeout {
  const t = setTimeout(fn, ms);
  t.unref();
  return t;
}
