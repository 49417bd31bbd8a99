// The store's NATS edge: its four subscriptions, the publishes and the bucket requests. Verbs only;
// what to send and when is the actor's business. Everything received becomes a message to the
// actor, so state is touched by the actor's handler alone, in mailbox order.
import { ANY, NoRespondersError, type Transport, type TransportSubscription } from "../../../transport/index.js";
import type { StoreInternalMsg } from "./messages.js";
import type { PullJob } from "./sync.js";
import {
  bucketReplyKind,
  bucketRequestKind,
  deltasKind,
  digestKind,
  digestRequestKind,
  type BucketReplyBody,
  type DigestBody,
  type KeyedDelta,
} from "./wire.js";
import { WrongResponderError } from "../errors.js";

export function subscribeStore(t: Transport, tell: (m: StoreInternalMsg) => void): TransportSubscription[] {
  const s = t.subjects;
  const me = t.nodeId;
  // Our own publishes come back to us (NATS echo); they carry nothing we do not have. Broadcasts
  // name their sender in the subject's last token: `from` must say the same (transport rejects it
  // otherwise, as forged-sender), and NATS permissions let a node publish only under its own.
  const fromSubject = { senderToken: "last" } as const;
  return [
    t.subscribe(
      s.gossipDelta(ANY),
      [deltasKind],
      (env, msg) => {
        if (env.from !== me) tell({ type: "remote-deltas", from: env.from, body: env.body, bytes: msg.data.length, at: Date.now() });
      },
      fromSubject,
    ),
    t.subscribe(
      s.gossipDigest(ANY),
      [digestKind],
      (env) => {
        if (env.from !== me) tell({ type: "remote-digest", from: env.from, body: env.body });
      },
      fromSubject,
    ),
    t.subscribe(s.gossipBucket(me), [bucketRequestKind], (env, msg) => {
      const respond = (page: BucketReplyBody): void => void t.respond(msg, bucketReplyKind, page);
      tell({ type: "serve-buckets", buckets: env.body.buckets, after: env.body.after, respond });
    }),
  ];
}

/**
 * Digest requests of starting nodes, joined only once this store is synced and in a queue group:
 * one synced peer answers each request (its digest goes to everyone), instead of every peer — with
 * n nodes booting that is n digests, not n². An unsynced store would have nothing useful to say.
 */
export function subscribeDigestRequests(t: Transport, tell: (m: StoreInternalMsg) => void): TransportSubscription {
  const me = t.nodeId;
  return t.subscribe(
    t.subjects.gossipDigestRequest(ANY),
    [digestRequestKind],
    (env) => {
      if (env.from !== me) tell({ type: "digest-request", from: env.from, replica: env.body.replica });
    },
    { queue: "dcnet-gossip-digest", senderToken: "last" },
  );
}

/** Publishes one delta batch; returns the bytes handed to the NATS client. */
export function publishDeltas(t: Transport, replica: string, deltas: KeyedDelta[]): number {
  const bytes = t.encode(deltasKind, { replica, deltas });
  t.nc.publish(t.subjects.gossipDelta(t.nodeId), bytes);
  return bytes.length;
}

export function isConnected(t: Transport): boolean {
  return t.status().state === "connected";
}

export function publishDigest(t: Transport, body: DigestBody): void {
  t.publish(t.subjects.gossipDigest(t.nodeId), digestKind, body);
}

/**
 * Asks the synced peers for a digest (one of them answers by publishing it to everyone). Sent as a
 * request, though no peer replies to it: only synced stores subscribe to digest requests, so when
 * NATS answers "no responders" at once, no synced peer exists and there is nothing to wait for —
 * `alone()` runs and a lone node is ready in milliseconds instead of after gossip.syncTimeoutMs.
 */
export function publishDigestRequest(t: Transport, replica: string, timeoutMs: number, alone: () => void): void {
  t.request(t.subjects.gossipDigestRequest(t.nodeId), digestRequestKind, { replica }, [digestRequestKind], { timeoutMs }).then(
    () => undefined,
    (err: unknown) => {
      if (err instanceof NoRespondersError) alone();
      // A timeout is the normal case when peers exist: their answer is the digest they publish.
    },
  );
}

/** One page of a pull. The reply must come from the node asked (identity rule). */
export async function requestPage(t: Transport, job: PullJob, timeoutMs: number): Promise<BucketReplyBody> {
  const body = job.after === undefined ? { buckets: [...job.buckets] } : { buckets: [...job.buckets], after: job.after };
  const env = await t.request(t.subjects.gossipBucket(job.peer), bucketRequestKind, body, [bucketReplyKind], { timeoutMs });
  if (env.from !== job.peer) throw new WrongResponderError(job.peer, env.from);
  return env.body;
}

/** Waits for the server to have everything sent so far (PING/PONG), at most `ms`. False on timeout. */
export async function flushWithin(t: Transport, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  try {
    // A closed connection fails the flush: nothing more can be waited for, so the caller goes on.
    return await Promise.race([t.nc.flush().then(() => true, () => false), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
