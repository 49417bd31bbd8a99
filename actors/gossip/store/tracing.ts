// Spans of one change as it crosses nodes. A delta batch carries several writers' changes, so the
// batch's own transport spans are background (wire.ts) and each traced change gets its own pair, in
// its writer's trace: "gossip delta publish" (PRODUCER) on the writer when its batch leaves, and
// "gossip delta arrival" (CONSUMER) on every receiving node, the parent of what the change causes
// there (watchers are told inside it, so the zone rebuild and the VIP table join the trace).
// Untraced deltas (no carrier) cost nothing here.
import { ROOT_CONTEXT, SpanKind, context, trace, type Span, type Tracer } from "@opentelemetry/api";
import { extractCarrier, injectCarrier, messagingAttrs } from "../../../transport/index.js";
import type { TraceCarrier } from "./types.js";
import type { KeyedDelta } from "./wire.js";

export const PUBLISH_SPAN = "gossip delta publish";
export const ARRIVAL_SPAN = "gossip delta arrival";
const KIND = "gossip.deltas";

/**
 * One PRODUCER span per traced delta, child of its writer's carrier; the delta then carries the
 * span's context, so arrivals are its children. Returns the deltas to publish and the spans to end
 * once the batch was handed to NATS.
 */
export function startPublishSpans(tracer: Tracer, subject: string, deltas: readonly KeyedDelta[]): { readonly deltas: KeyedDelta[]; readonly spans: Span[] } {
  const spans: Span[] = [];
  const out = deltas.map((d): KeyedDelta => {
    if (d.trace === undefined) return d;
    const span = tracer.startSpan(PUBLISH_SPAN, { kind: SpanKind.PRODUCER, attributes: { ...messagingAttrs(subject, "publish", KIND), "dcnet.store.key": d.key } }, extractCarrier(d.trace));
    spans.push(span);
    const carrier = injectCarrier(trace.setSpan(ROOT_CONTEXT, span));
    return carrier === undefined ? d : { ...d, trace: carrier };
  });
  return { deltas: out, spans };
}

/**
 * Runs `merge` (merging one delta and telling the watchers) inside the delta's arrival span, started
 * at `arrivedAt` (when the batch came off the socket: the mailbox wait is part of the latency), and
 * hands it the carrier watchers should see: the arrival's. Without a tracer or a carrier, `merge` runs
 * as it is with the carrier it came with.
 */
export function inArrival(tracer: Tracer | undefined, from: string, subject: string, key: string, carrier: TraceCarrier | undefined, arrivedAt: number, merge: (trace: TraceCarrier | undefined) => boolean): boolean {
  if (tracer === undefined || carrier === undefined) return merge(carrier);
  const parent = extractCarrier(carrier);
  const attributes = { ...messagingAttrs(subject, "process", KIND), "dcnet.store.key": key, "dcnet.gossip.from": from };
  const span = tracer.startSpan(ARRIVAL_SPAN, { kind: SpanKind.CONSUMER, startTime: arrivedAt, attributes }, parent);
  const ctx = trace.setSpan(parent, span);
  try {
    const changed = context.with(ctx, () => merge(injectCarrier(ctx) ?? carrier));
    span.setAttribute("dcnet.gossip.changed", changed);
    return changed;
  } finally {
    span.end();
  }
}
