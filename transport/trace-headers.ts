// W3C trace context carried in NATS headers. Uses the propagator directly rather than the global propagation
// API: several nodes share one process and none of them registers globals (observability/tracing.ts).
import { context, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Context, type Span, type TextMapGetter, type TextMapSetter, type Tracer } from "@opentelemetry/api";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import { headers as natsHeaders, type MsgHdrs } from "@nats-io/nats-core";

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
  const base = trace.deleteSpan(context.active()) ?? ROOT_CONTEXT;
  return propagator.extract(base, headers, hdrGetter);
}

export interface SpanAttrs {
  readonly [key: string]: string | number | boolean;
}

/** Runs fn in a span; records an exception and error status when fn throws, and always ends the span. */
export async function inSpan<T>(tracer: Tracer, name: string, kind: SpanKind, attrs: SpanAttrs, parent: Context, fn: (span: Span) => Promise<T>): Promise<T> {
  return tracer.startActiveSpan(name, { kind, attributes: attrs }, parent, async (span) => {
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

/** Attributes of OTel messaging semantic conventions for a NATS subject. */
export function messagingAttrs(subject: string, operation: "publish" | "request" | "process", kind?: string): SpanAttrs {
  const attrs: Record<string, string> = {
    "messaging.system": "nats",
    "messaging.destination.name": subject,
    "messaging.operation.type": operation === "request" ? "send" : operation,
  };
  if (kind !== undefined) attrs["dcnet.message.kind"] = kind;
  return attrs;
}
