// Subscriptions that deliver only valid envelopes. Bad input is counted and dropped, handler failures are
// logged: nothing that arrives from the bus can crash the node.
import type { Msg, NatsConnection, Subscription } from "@nats-io/nats-core";
import { SpanKind, type Tracer } from "@opentelemetry/api";
import type { Logger } from "pino";
import { decode } from "./codec.js";
import type { BodyOf } from "./envelope.js";
import type { RejectCounter, Rejection } from "./rejects.js";
import { mapRequestError } from "./replies.js";
import { senderOf, type SenderToken } from "./subjects.js";
import { extractContext, inSpan, messagingAttrs } from "./trace-headers.js";
import type { Envelope, KindDef } from "./types.js";
import type { SharedDecodes } from "./shared-decodes.js";

export type Handler<B> = (env: Envelope<B>, msg: Msg) => void | Promise<void>;

export interface SubscribeOptions {
  /** Queue group: each message goes to one member of the group. */
  readonly queue?: string;
  /**
   * Called after a rejection (already counted and logged) when the message has a reply subject, so a
   * service can answer with an error instead of letting the requester time out.
   */
  readonly onReject?: (rejection: Rejection, msg: Msg) => void | Promise<void>;
  /**
   * The subject token that names the sender (subjects.ts: gossip subjects end in it). An envelope
   * whose `from` differs is rejected as `forged-sender`, counted and never delivered: with NATS
   * permissions a credential can publish only under its own token, so `from` must say the same.
   */
  readonly senderToken?: SenderToken;
}

export interface TransportSubscription {
  unsubscribe(): void;
}

export interface SubscribeDeps {
  readonly nc: NatsConnection;
  readonly log: Logger;
  readonly rejects: RejectCounter;
  readonly tracer: Tracer | undefined;
  readonly maxBytes: number;
  /** Set on a connection shared by many identities (Transport.over): copies of one message are decoded once. */
  readonly shared?: SharedDecodes;
}

// Handlers run concurrently as messages arrive; an actor that needs order serialises through its mailbox.
export function subscribeEnvelopes<D extends KindDef<unknown>>(
  deps: SubscribeDeps,
  subject: string,
  defs: readonly D[],
  handler: Handler<BodyOf<D>>,
  opts: SubscribeOptions,
): TransportSubscription {
  const { log, rejects, tracer } = deps;
  const guard = (what: string, fn: () => void | Promise<void>, msg: Msg): void => {
    // Both a synchronous throw and a rejected promise end up here, never as an unhandled rejection.
    Promise.resolve()
      .then(fn)
      .catch((err: unknown) => log.error({ err, subject: msg.subject }, `${what} failed`));
  };
  const reject = (rejection: Rejection, msg: Msg): void => {
    rejects.record(rejection);
    const onReject = opts.onReject;
    if (onReject !== undefined && msg.reply !== undefined && msg.reply !== "") guard("reject reply", () => onReject(rejection, msg), msg);
  };
  const backgroundKinds = new Set(defs.filter((d) => d.background === true).map((d) => d.kind));
  const kinds = `${defs.map((d) => d.kind).join(",")}|${deps.maxBytes}`;
  const onMsg = (msg: Msg): void => {
    const r = deps.shared === undefined ? decode(msg.data, defs, { maxBytes: deps.maxBytes }) : deps.shared.decode(msg.subject, kinds, msg.data, () => decode(msg.data, defs, { maxBytes: deps.maxBytes }));
    if (!r.ok) {
      reject({ kind: r.kind, reason: r.reason, message: r.message, subject: msg.subject }, msg);
      return;
    }
    const env = r.env;
    if (opts.senderToken !== undefined && !fromSender(env.from, msg.subject, opts.senderToken)) {
      reject({ kind: env.kind, reason: "forged-sender", message: `from: ${JSON.stringify(env.from)} is not the sender token of ${truncate(msg.subject)}`, subject: msg.subject }, msg);
      return;
    }
    if (tracer === undefined) return guard("message handler", () => handler(env, msg), msg);
    const kind = msg.reply ? SpanKind.SERVER : SpanKind.CONSUMER;
    const attrs = messagingAttrs(subject, "process", env.kind, backgroundKinds.has(env.kind));
    guard("message handler", () => inSpan(tracer, `${subject} process`, kind, attrs, extractContext(msg.headers), async () => handler(env, msg)), msg);
  };
  let sub: Subscription;
  try {
    sub = deps.nc.subscribe(subject, {
      ...(opts.queue === undefined ? {} : { queue: opts.queue }),
      callback: (err, msg) => {
        if (err !== null) {
          log.warn({ err, subject }, "subscription error");
          return;
        }
        onMsg(msg);
      },
    });
  } catch (err) {
    throw mapRequestError(err, subject, 0);
  }
  return {
    unsubscribe: () => {
      if (!sub.isClosed()) sub.unsubscribe();
    },
  };
}

function fromSender(from: string, subject: string, where: SenderToken): boolean {
  return from === senderOf(subject, where);
}

/** Subjects of wildcard subscriptions are sender-chosen: bounded before they reach a log line. */
function truncate(subject: string): string {
  return subject.length <= 200 ? subject : `${subject.slice(0, 200)}…`;
}
