// Trace context across a nact mailbox. The OTel context does not follow a message through nact
// (stack.md §1.4: queued messages run inside the first handler's context), so `tell` captures the
// active context into the envelope and the handler's span is parented on it explicitly. In-process,
// the Context object itself is carried: no inject/extract round trip. Only used when a tracer is set.
import { SpanStatusCode, context, type Context, type Span, type Tracer } from "@opentelemetry/api";
import { BACKGROUND_ATTRS, backgroundParent, changeParent } from "../observability/background.js";

/** Envelope of a message sent while tracing is on. */
export class Traced {
  constructor(
    readonly msg: unknown,
    readonly parent: Context,
  ) {}
}

export function capture(msg: unknown): Traced {
  return new Traced(msg, context.active());
}

/** `msg.type` when it is a string, else "message": the default span/log name of a message. */
export function defaultMessageName(msg: unknown): string {
  if (typeof msg === "object" && msg !== null && "type" in msg) {
    const type = (msg as { type: unknown }).type;
    if (typeof type === "string") return type;
  }
  return "message";
}

/**
 * Runs one handler turn inside a span named `name`, child of `parent`. The span ends when the
 * turn ends (sync return, async settle, or abandonment on crash). `turn` never throws.
 *
 * A `background` turn (Behaviour.background) is marked so: as a root it is sampled at the background
 * ratio. Any other turn told from inside background work is a change that work found, and starts a
 * trace of its own, linked to the background turn (observability/background.ts).
 */
export function tracedTurn(
  tracer: Tracer,
  name: string,
  parent: Context,
  background: boolean,
  turn: (span: Span) => void | Promise<void>,
): void | Promise<void> {
  const from = background ? { parent: backgroundParent(parent), links: [] } : changeParent(parent);
  const opts = background ? { attributes: BACKGROUND_ATTRS } : from.links.length > 0 ? { links: [...from.links] } : {};
  return tracer.startActiveSpan(name, opts, from.parent, (span) => {
    const pending = turn(span);
    if (pending === undefined) {
      span.end();
      return undefined;
    }
    return pending.then(() => span.end());
  });
}

export function recordCrash(span: Span, error: Error): void {
  span.recordException(error);
  span.setStatus({ code: SpanStatusCode.ERROR, message: error.message });
}
