// Local writes: apply, batch, publish, acknowledge. A writer's ack means its delta was handed to
// NATS — and, when the client has more than maxPendingBytes unconfirmed, that the server has taken
// it (a flush): writers that await acks are slowed down, nothing is dropped. While disconnected a
// write is applied locally and acknowledged at once without publishing; anti-entropy brings peers
// up to date after the reconnect (the client would otherwise buffer without bound).
import { emptyKey } from "../crdt/index.js";
import type { KeyState } from "../crdt/types.js";
import { applyOps, isNoop, refusal } from "./ops.js";
import type { UpdateMsg } from "./messages.js";
import { startWatch } from "./reads.js";
import { flushWithin, isConnected, publishDeltas } from "./net.js";
import { later, notifyChange, safeReply, type Ack, type StoreState } from "./state.js";
import type { TraceCarrier } from "./types.js";
import { checkedTrace, keyedBytes, MAX_PAYLOAD_BYTES } from "./wire.js";
import { startPublishSpans } from "./tracing.js";
import { context } from "@opentelemetry/api";
import { injectCarrier } from "../../../transport/index.js";

const DEFAULT_FLUSH_TICK_MS = 2;
/** A back-pressure flush longer than this is given up (the bytes stay queued in the client). */
const FLUSH_WAIT_MS = 10_000;

export function update(s: StoreState, msg: UpdateMsg): void | Promise<void> {
  if (s.sync.kind !== "synced") {
    s.held.push(msg);
    return undefined;
  }
  return applyUpdate(s, msg);
}

function applyUpdate(s: StoreState, msg: UpdateMsg): void | Promise<void> {
  const now = Date.now();
  const applied = applyOps(s.keys.get(msg.key) ?? emptyKey(), msg.ops, s.replica, s.hlc, now);
  const why = refusal(msg.key, applied);
  if (why !== undefined) return safeReply(s, msg.reply, { ok: false, error: why });
  s.hlc = applied.hlc;
  if (isNoop(applied.delta)) return safeReply(s, msg.reply, { ok: true });
  // A writer without a carrier (none in a span, or background work: a TTL sweep) makes the write's own turn the
  // change's parent, so its delta, arrivals and zone updates are one trace with it rather than roots of their own.
  const trace = checkedTrace(msg.trace) ?? (s.rt.deps.tracer === undefined ? undefined : injectCarrier(context.active()));
  notifyChange(s, s.keys.put(msg.key, applied.next, now), trace);
  return enqueue(s, msg.key, applied.delta, msg.reply, trace);
}

function enqueue(s: StoreState, key: string, delta: KeyState, ack: Ack | undefined, trace: TraceCarrier | undefined): void | Promise<void> {
  // A delta that could push the batch past the cap goes into the next one.
  const bytes = keyedBytes(key, delta, trace);
  const before = !s.batch.isEmpty && s.batch.bytes + bytes > MAX_PAYLOAD_BYTES ? flush(s) : undefined;
  s.batch.add(key, delta, bytes, ack, trace);
  const after = s.batch.bytes >= MAX_PAYLOAD_BYTES ? flush(s) : armFlush(s);
  if (before === undefined) return after;
  return after === undefined ? before : Promise.all([before, after]).then(() => undefined);
}

function armFlush(s: StoreState): undefined {
  if (s.timers.flush === undefined) {
    const { epoch, rt } = s;
    s.timers.flush = later(rt.deps.flushTickMs ?? DEFAULT_FLUSH_TICK_MS, () => rt.self.tell({ type: "flush", epoch }));
  }
  return undefined;
}

/** Publishes the batch (if any) and acknowledges its writers, after a flush when over the limit. */
export function flush(s: StoreState): void | Promise<void> {
  clearTimeout(s.timers.flush);
  s.timers.flush = undefined;
  if (s.batch.isEmpty) return undefined;
  const { deltas, waiters } = s.batch.take();
  const t = s.rt.deps.transport;
  if (deltas.length > 0 && isConnected(t)) {
    const tracer = s.rt.deps.tracer;
    const traced = tracer === undefined ? undefined : startPublishSpans(tracer, t.subjects.gossipDelta(t.nodeId), deltas);
    try {
      const bytes = publishDeltas(t, s.replica, traced?.deltas ?? deltas);
      s.unconfirmed += bytes;
      s.counters.deltasOut += deltas.length;
      s.counters.bytesOut += bytes;
      s.rt.metrics.deltas.inc({ direction: "out" }, deltas.length);
      s.rt.metrics.bytes.inc({ direction: "out" }, bytes);
    } catch (err) {
      // Closed or broken connection: the writes stand locally; anti-entropy carries them later.
      s.rt.log.warn({ err, deltas: deltas.length }, "publishing a delta batch failed");
    } finally {
      for (const span of traced?.spans ?? []) span.end();
    }
  }
  for (const w of waiters) s.handedOff.push(w);
  if (s.unconfirmed > s.rt.deps.config.maxPendingBytes && isConnected(t)) return confirmThenAck(s);
  ackHandedOff(s);
  return undefined;
}

async function confirmThenAck(s: StoreState): Promise<void> {
  const pending = s.unconfirmed;
  const ok = await flushWithin(s.rt.deps.transport, FLUSH_WAIT_MS);
  if (s.closed) return; // terminate has acknowledged everyone already
  if (!ok) s.rt.log.warn({ pending, waitedMs: FLUSH_WAIT_MS }, "back-pressure flush did not complete; acknowledging anyway");
  s.unconfirmed = 0;
  ackHandedOff(s);
}

function ackHandedOff(s: StoreState): void {
  const acks = s.handedOff;
  s.handedOff = [];
  for (const a of acks) safeReply(s, a, { ok: true });
}

/** Applies the writes and starts the watches held during the initial sync, in arrival order. */
export async function releaseHeld(s: StoreState): Promise<void> {
  for (let m = s.held.shift(); m !== undefined; m = s.held.shift()) {
    if (m.type === "watch") {
      startWatch(s, m);
      continue;
    }
    const p = applyUpdate(s, m);
    if (p !== undefined) await p;
    if (s.closed) return;
  }
}

/**
 * On stop or crash: the batch is published and everyone whose write was applied is acknowledged
 * (their deltas travel; the next incarnation pulls them back from peers). Held writes were never
 * applied: their writers are told to retry, since re-queueing them would reorder them. Held watches
 * go back to the mailbox: a snapshot taken later is just as good.
 */
export function settleOnExit(s: StoreState): void {
  void flush(s); // `closed` is set: a back-pressure wait, if any, ends without acking twice
  ackHandedOff(s);
  for (let m = s.held.shift(); m !== undefined; m = s.held.shift()) {
    if (m.type === "watch") s.rt.self.tell(m);
    else safeReply(s, m.reply, { ok: false, error: "the gossip store restarted before applying this write; retry" });
  }
}
