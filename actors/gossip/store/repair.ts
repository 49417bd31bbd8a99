// Receiving side of replication: remote deltas, digests, bucket pulls (repair and initial sync),
// and owner cleanup. Identity rules are enforced here because they need the envelope's `from`.
import { dropReplicas, hlcObserveBounded } from "../crdt/index.js";
import type { KeyState } from "../crdt/types.js";
import type { MemberEvent } from "../membership/types.js";
import type { StoreInternalMsg } from "./messages.js";
import type { GossipRejectReason } from "../rejects.js";
import { futureReplica, futureStamp } from "./clock.js";
import { isConnected, publishDigest, requestPage, subscribeDigestRequests } from "./net.js";
import { WrongResponderError } from "../errors.js";
import { dropPredicate, foreignReplica, mentions, parseCached } from "./owners.js";
import { isSynced, later, notifyChange, type StoreState } from "./state.js";
import { digestTurn, type PullJob } from "./sync.js";
import type { TraceCarrier } from "./types.js";
import { diffBuckets } from "./buckets.js";
import { flush, releaseHeld } from "./writes.js";
import { replayAfterRestart } from "./reads.js";
import { MAX_PAYLOAD_BYTES, type DeltasBody, type DigestBody } from "./wire.js";
import { inArrival } from "./tracing.js";

type Msg<T extends StoreInternalMsg["type"]> = Extract<StoreInternalMsg, { type: T }>;

const DEFAULT_PULL_TIMEOUT_MS = 5_000;

function reject(s: StoreState, reason: GossipRejectReason, from: string, detail: string): void {
  s.counters.rejected++;
  s.rt.rejects.record(reason, from, detail);
}

/** Bounded clocks: false (refused, counted) when `why` names a stamp too far ahead. */
function withinSkew(s: StoreState, from: string, what: string, why: string | undefined): boolean {
  if (why === undefined) return true;
  reject(s, "clock-skew", from, `${what} from ${from}: ${why}`);
  return false;
}

function skew(s: StoreState): number {
  return s.rt.deps.config.maxClockSkewMs;
}

/** The body's replica must belong to the node that sent the envelope. */
function ownedBySender(s: StoreState, replica: string, from: string, kind: string): boolean {
  if (parseCached(replica)?.node === from) return true;
  reject(s, "replica-mismatch", from, `${kind} from ${from} claims replica ${replica}`);
  return false;
}

/**
 * Merges a peer's state into a key: dead replicas filtered first, the clock moved past its writes.
 * `trace` comes with deltas only: a repair or sync page is nobody's write.
 */
function mergeRemote(s: StoreState, key: string, incoming: KeyState, now: number, trace?: TraceCarrier): boolean {
  const state = s.owners.filter(incoming);
  for (const [, e] of state.entries) {
    if (e.k !== "lww" || (s.hlc !== undefined && e.ts.t < s.hlc.t)) continue;
    // Callers checked the message's stamps already (clock.ts); the bound here keeps the clock from
    // ever jumping, whatever path a state arrives by.
    const seen = hlcObserveBounded(s.hlc, e.ts, s.replica, now, skew(s));
    if (seen.ok) s.hlc = seen.hlc;
  }
  const change = s.keys.mergeIn(key, state, now);
  notifyChange(s, change, trace);
  return change.changed;
}

export function remoteDeltas(s: StoreState, m: Msg<"remote-deltas">): void {
  const body: DeltasBody = m.body;
  if (!ownedBySender(s, body.replica, m.from, "delta batch")) return;
  for (const d of body.deltas) {
    const foreign = foreignReplica(m.from, d.state);
    if (foreign !== undefined) return reject(s, "foreign-entry", m.from, `delta of ${d.key} from ${m.from} carries an entry of ${foreign}`);
  }
  const now = Date.now();
  if (!withinSkew(s, m.from, "delta batch", futureReplica(body.replica, now, skew(s)) ?? futureStamp(body.deltas, now, skew(s)))) return;
  s.counters.deltasIn += body.deltas.length;
  s.counters.bytesIn += m.bytes;
  s.rt.metrics.deltas.inc({ direction: "in" }, body.deltas.length);
  s.rt.metrics.bytes.inc({ direction: "in" }, m.bytes);
  const tracer = s.rt.deps.tracer;
  const subject = tracer === undefined ? "" : s.rt.deps.transport.subjects.gossipDelta(m.from);
  for (const d of body.deltas) inArrival(tracer, m.from, subject, d.key, d.trace, m.at, (trace) => mergeRemote(s, d.key, d.state, now, trace));
}

export function remoteDigest(s: StoreState, m: Msg<"remote-digest">): void | Promise<void> {
  const body: DigestBody = m.body;
  if (!ownedBySender(s, body.replica, m.from, "digest")) return undefined;
  if (!withinSkew(s, m.from, "digest", futureReplica(body.replica, Date.now(), skew(s)))) return undefined;
  s.counters.digestsIn++;
  const mine = s.keys.digest();
  if (s.sync.kind === "waiting") return startSync(s, m.from, diffBuckets(mine, body.buckets));
  if (s.sync.kind === "pulling") return undefined;
  const todo = s.diffs.persistent(m.from, mine, body.buckets);
  if (todo.length > 0) for (const job of s.pulls.plan(m.from, todo, "repair")) runPull(s, job);
  return undefined;
}

function startSync(s: StoreState, peer: string, buckets: number[]): void | Promise<void> {
  if (buckets.length === 0) return markSynced(s, peer, true);
  const jobs = s.pulls.plan(peer, buckets, "sync");
  if (jobs.length === 0) return undefined;
  s.sync = { kind: "pulling", since: s.sync.since, peer, jobs: new Set(jobs.map((j) => j.id)) };
  s.rt.log.info({ peer, buckets: buckets.length }, "initial sync: pulling differing buckets");
  for (const job of jobs) runPull(s, job);
  return undefined;
}

function runPull(s: StoreState, job: PullJob): void {
  const { epoch, rt } = s;
  requestPage(rt.deps.transport, job, rt.deps.pullTimeoutMs ?? DEFAULT_PULL_TIMEOUT_MS).then(
    (page) => rt.self.tell({ type: "pull-page", epoch, job: job.id, keys: page.keys, more: page.more }),
    (err: unknown) => {
      if (err instanceof WrongResponderError) reject(s, "wrong-responder", err.answered, err.message);
      rt.self.tell({ type: "pull-failed", epoch, job: job.id, error: err instanceof Error ? err.message : String(err) });
    },
  );
}

export function pullPage(s: StoreState, m: Msg<"pull-page">): void | Promise<void> {
  const job = m.epoch === s.epoch ? s.pulls.get(m.job) : undefined;
  if (job === undefined) return undefined; // a crashed incarnation's pull, or a failed job
  const now = Date.now();
  const future = futureStamp(m.keys, now, skew(s));
  if (future !== undefined) {
    // The whole page is refused; the pull ends as failed and is planned again from a later digest.
    withinSkew(s, job.peer, "bucket page", future);
    return pullFailed(s, { type: "pull-failed", epoch: m.epoch, job: m.job, error: `page refused: ${future}` });
  }
  let repaired = 0;
  for (const { key, state } of m.keys) if (mergeRemote(s, key, state, now)) repaired++;
  s.counters.keysRepaired += repaired;
  s.rt.metrics.keysRepaired.inc(repaired);
  job.pages++;
  const last = m.keys[m.keys.length - 1];
  if (m.more && last !== undefined) {
    job.after = last.key;
    runPull(s, job);
    return undefined;
  }
  s.pulls.finish(job.id);
  if (repaired > 0 || job.purpose === "sync") s.rt.log.debug({ peer: job.peer, buckets: job.buckets.length, pages: job.pages, repaired }, "pull done");
  if (s.sync.kind === "pulling" && s.sync.jobs.delete(job.id) && s.sync.jobs.size === 0) return markSynced(s, job.peer, true);
  return undefined;
}

export function pullFailed(s: StoreState, m: Msg<"pull-failed">): void {
  const job = m.epoch === s.epoch ? s.pulls.finish(m.job) : undefined;
  if (job === undefined) return;
  s.rt.log.warn({ peer: job.peer, buckets: job.buckets.length, error: m.error, purpose: job.purpose }, "bucket pull failed");
  // The sync starts over with the next peer digest (each peer publishes one every antiEntropyMs).
  if (s.sync.kind === "pulling" && s.sync.jobs.has(job.id)) s.sync = { kind: "waiting", since: s.sync.since };
}

/** Ends the initial sync: complete, or cut short by syncTimeoutMs. Held writes go through now. */
function markSynced(s: StoreState, peer: string | undefined, complete: boolean, alone = false): Promise<void> {
  const at = Date.now();
  const since = s.sync.since;
  s.sync = { kind: "synced", since, at, complete };
  clearTimeout(s.timers.sync);
  const rt = s.rt;
  s.subs.push(subscribeDigestRequests(rt.deps.transport, (m) => rt.self.tell(m)));
  s.rt.metrics.syncSeconds.set((at - since) / 1000);
  const info = { peer, keys: s.keys.liveCount, ms: at - since, held: s.held.length };
  if (alone) s.rt.log.info(info, "initial sync: no synced peer exists; starting alone");
  else if (complete) s.rt.log.info(info, "initial sync complete");
  else s.rt.log.warn(info, "initial sync timed out; accepting writes (alone, or peers too slow)");
  replayAfterRestart(s);
  return releaseHeld(s);
}

export function syncAlone(s: StoreState): void | Promise<void> {
  return isSynced(s) ? undefined : markSynced(s, undefined, false, true);
}

export function syncTimeout(s: StoreState): void | Promise<void> {
  return isSynced(s) ? undefined : markSynced(s, undefined, false);
}

/** Publishes our digest, after the pending batch so a peer never sees writes it has no delta for. */
function publishOwnDigest(s: StoreState): void | Promise<void> {
  const t = s.rt.deps.transport;
  if (!isSynced(s) || !isConnected(t)) return undefined;
  const flushed = flush(s);
  try {
    publishDigest(t, { replica: s.replica, buckets: [...s.keys.digest()], keys: s.keys.liveCount });
  } catch (err) {
    s.rt.log.warn({ err }, "publishing the digest failed");
  }
  return flushed;
}

export function digestRequest(s: StoreState, m: Msg<"digest-request">): void | Promise<void> {
  if (!ownedBySender(s, m.replica, m.from, "digest request")) return undefined;
  const now = Date.now();
  if (!withinSkew(s, m.from, "digest request", futureReplica(m.replica, now, skew(s)))) return undefined;
  // A burst of starting nodes gets one answer per few ms, not one each.
  if (now - s.lastDigestAnswerAt < 10) return undefined;
  s.lastDigestAnswerAt = now;
  return publishOwnDigest(s);
}

export function serveBuckets(s: StoreState, m: Msg<"serve-buckets">): void {
  m.respond(s.keys.page(m.buckets, m.after, MAX_PAYLOAD_BYTES));
}

export function antiEntropy(s: StoreState): void | Promise<void> {
  const gone = s.keys.sweep(Date.now(), s.rt.deps.config.tombstoneTtlMs);
  if (gone.length > 0) s.rt.log.debug({ keys: gone.length }, "tombstones forgotten");
  if (!digestTurn(s.live.size + 1, s.rt.deps.config.digestFanIn)) return flush(s);
  return publishOwnDigest(s);
}

export function memberEvent(s: StoreState, ev: MemberEvent): void | Promise<void> {
  s.owners.event(ev, Date.now());
  const wasLive = s.live.has(ev.node);
  if (ev.type === "join" || ev.type === "alive" || ev.type === "rejoin") s.live.add(ev.node);
  else if (ev.type === "dead") s.live.delete(ev.node);
  if (ev.type === "dead") s.diffs.forget(ev.node);
  armCleanup(s);
  // A peer heard again after silence (a healed partition) compares our digest with its state and
  // pulls what differs now instead of at the next anti-entropy tick; it does the same for us when
  // it hears us: a healed partition converges in about a second instead of several. Not on join
  // or rejoin — a starting node asks for digests itself — and at most one digest per 100 ms, so a
  // whole cluster coming back at once does not turn into n² digests. Only after a death: a
  // suspicion refuted (SWIM's suspect → alive, thousands an hour at 1,000 nodes under load) lost
  // nothing, and every member that held the suspicion publishing its digest made each refutation a
  // million deliveries at 1,000 nodes.
  if (ev.type !== "alive" || wasLive) return undefined;
  const now = Date.now();
  if (now - s.lastDigestAnswerAt < 100) return undefined;
  s.lastDigestAnswerAt = now;
  return publishOwnDigest(s);
}

/**
 * A cleanup is a pass over every key; removals falling due within this of the last pass wait for
 * the next one. A start-up's joins, heard at a thousand different moments at 1,000 nodes, plan a
 * thousand removals a grace later: this makes them a few passes a second, not one per join.
 */
const CLEANUP_SPACING_MS = 250;

/** Timer for the next planned owner cleanup (re-armed when an earlier one is planned). */
export function armCleanup(s: StoreState): void {
  const due = s.owners.nextDueAt();
  if (due === undefined) return;
  const at = Math.max(due, (s.timers.cleanupRanAt ?? -Infinity) + CLEANUP_SPACING_MS);
  if (s.timers.cleanupAt !== undefined && s.timers.cleanupAt <= at) return;
  clearTimeout(s.timers.cleanup);
  const { epoch, rt } = s;
  s.timers.cleanupAt = at;
  s.timers.cleanup = later(Math.max(0, at - Date.now()), () => rt.self.tell({ type: "cleanup", epoch }));
}

/** Drops the entries (and causal knowledge) of replicas whose grace ran out, from every key. */
export function cleanup(s: StoreState): void {
  s.timers.cleanup = undefined;
  s.timers.cleanupAt = undefined;
  const now = Date.now();
  s.timers.cleanupRanAt = now;
  const drops = s.owners.due(now);
  armCleanup(s);
  if (drops.length === 0) return;
  const drop = dropPredicate(drops);
  const touched: [string, KeyState][] = [];
  for (const [key, state] of s.keys.states()) if (mentions(state, drop)) touched.push([key, dropReplicas(state, drop)]);
  for (const [key, next] of touched) notifyChange(s, s.keys.put(key, next, now));
  s.rt.log.info({ drops, keys: touched.length }, "dropped the entries of dead replicas");
}
