// W3C trace context carried in NATS headers. Uses the propagator directly rather than the global propagation
// API: several nodes share one process and none of them registers globals (observability/tracing.ts).
import { context, isSpanContextValid, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Context, type Span, type SpanContext, type TextMapGetter, type TextMapSetter, type Tracer } from "@opentelemetry/api";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import { headers as natsHeaders, type MsgHdrs } from "@nats-io/nats-core";
import { BACKGROUND_ATTR, backgroundParent, clearBackground, inBackground } from "../observability/background.js";

const propagator = new W3CTraceContextPropagator();

export const hdrSetter: TextMapSetter<MsgHdrs> = { set: (h, k, v) => h.set(k, v) };
export const hdrGetter: TextMapGetter<MsgHdrs | undefined> = {
  keys: (h) => (h ? h.keys() : []),
  get: (h, k) => (h && h.has(k) ? h.get(k) : undefined),
};

/** Writes `traceparent`/`tracestate` of `ctx` into `h` (created when absent) and returns the headers. */
export function injectContext(ctx: Context, h: MsgHdrs = natsHeaders()): MsgHdrs {
  propagator.inject(ctx, h, hdrSetter);
  return h;
}

/**
 * The remote parent carried by `headers`, on top of the active context minus its span: a handler that happens
 * to run inside another span's async continuation (e.g. a mailbox drain) must not become that span's child.
 */
export function extractContext(headers: MsgHdrs | undefined): Context {
  return propagator.extract(detached(), headers, hdrGetter);
}

/** The active context without its span or background mark: the base a parent from elsewhere goes on. */
function detached(): Context {
  return clearBackground(trace.deleteSpan(context.active()) ?? ROOT_CONTEXT);
}

/**
 * W3C trace context (`traceparent`, optional `tracestate`) as plain data, for when it travels inside a message
 * body or an actor message instead of NATS headers: a store delta batch carries changes of several writers, and
 * an actor mailbox keeps the sender's context only when its tree traces (supervisors/tracing.ts).
 */
export type TraceCarrier = Readonly<Record<string, string>>;

const carrierSetter: TextMapSetter<Record<string, string>> = { set: (c, k, v) => void (c[k] = v) };
const carrierGetter: TextMapGetter<TraceCarrier | undefined> = {
  keys: (c) => (c ? Object.keys(c) : []),
  get: (c, k) => (c && Object.hasOwn(c, k) ? c[k] : undefined),
};

/**
 * The carrier of `ctx`'s span, or undefined when it has none (tracing off, outside any span, or inside background
 * work). The check comes first so untraced callers allocate nothing and put nothing on the wire.
 */
export function injectCarrier(ctx: Context): TraceCarrier | undefined {
  // Background work is never a change's parent: the change it makes starts its own trace (supervisors/tracing.ts).
  if (inBackground(ctx)) return undefined;
  const sc = trace.getSpanContext(ctx);
  if (sc === undefined || !isSpanContextValid(sc)) return undefined;
  const carrier: Record<string, string> = {};
  propagator.inject(ctx, carrier, carrierSetter);
  return carrier.traceparent === undefined ? undefined : carrier;
}

/** Like extractContext, from a carrier: the remote parent on top of the active context minus its span. */
export function extractCarrier(carrier: TraceCarrier | undefined): Context {
  const base = detached();
  return carrier === undefined ? base : propagator.extract(base, carrier, carrierGetter);
}

/**
 * The span context a carrier names, or undefined when it names none: what a span caused by several carriers
 * (one rebuild after a burst of changes) puts in its links.
 */
export function carrierSpanContext(carrier: TraceCarrier | undefined): SpanContext | undefined {
  if (carrier === undefined) return undefined;
  const sc = trace.getSpanContext(propagator.extract(ROOT_CONTEXT, carrier, carrierGetter));
  return sc !== undefined && isSpanContextValid(sc) ? sc : undefined;
}

export interface SpanAttrs {
  readonly [key: string]: string | number | boolean;
}

/**
 * Runs fn in a span; records an exception and error status when fn throws, and always ends the span.
 * A span with BACKGROUND_ATTR (messagingAttrs of a background kind) marks its context as background.
 */
export async function inSpan<T>(tracer: Tracer, name: string, kind: SpanKind, attrs: SpanAttrs, parent: Context, fn: (span: Span) => Promise<T>): Promise<T> {
  const from = attrs[BACKGROUND_ATTR] === true ? backgroundParent(parent) : parent;
  return tracer.startActiveSpan(name, { kind, attributes: attrs }, from, async (span) => {
    try {
      return await fn(span);
    } catch (err) {
      span.recordException(err instanceof Error ? err : String(err));
      span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
      throw err;
    } finally {
      span.end();
    }
  });
}

/** A SERVER span that is the child of the remote span whose context `headers` carries (or a root span). */
export function withServerSpan<T>(tracer: Tracer, name: string, headers: MsgHdrs | undefined, fn: (span: Span) => Promise<T>, attrs: SpanAttrs = {}): Promise<T> {
  return inSpan(tracer, name, SpanKind.SERVER, attrs, extractContext(headers), fn);
}

/** Attributes of OTel messaging semantic conventions for a NATS subject; `background` for a background kind (KindDef.background). */
export function messagingAttrs(subject: string, operation: "publish" | "request" | "process", kind?: string, background = false): SpanAttrs {
  const attrs: Record<string, string | boolean> = {
    "messaging.system": "nats",
    "messaging.destination.name": subject,
    "messaging.operation.type": operation === "request" ? "send" : operation,
  };
  if (kind !== undefined) attrs["dcnet.message.kind"] = kind;
  if (background) attrs[BACKGROUND_ATTR] = true;
  return attrs;
}
