// Turning NATS request outcomes into envelopes or typed errors.
import { errors as natsErrors, type Msg } from "@nats-io/nats-core";
import { decode, type DecodeOptions } from "./codec.js";
import type { BodyOf } from "./envelope.js";
import { BadReplyError, NoRespondersError, RequestFailedError, ServiceError, TimeoutError, TransportClosedError, type TransportError } from "./errors.js";
import type { RejectCounter } from "./rejects.js";
import type { Envelope, KindDef } from "./types.js";

// Header names used by @nats-io/services respondError(); the admin service may answer that way.
const SERVICE_ERROR = "Nats-Service-Error";
const SERVICE_ERROR_CODE = "Nats-Service-Error-Code";

/** Maps an error thrown by the NATS client during a request to a transport error (the original is the cause). */
export function mapRequestError(err: unknown, subject: string, timeoutMs: number): TransportError {
  const cause = err instanceof natsErrors.RequestError && err.cause instanceof Error ? err.cause : err;
  if (cause instanceof natsErrors.TimeoutError) return new TimeoutError(subject, timeoutMs, { cause: err });
  if (cause instanceof natsErrors.NoRespondersError) return new NoRespondersError(subject, { cause: err });
  if (err instanceof natsErrors.RequestError && err.isNoResponders()) return new NoRespondersError(subject, { cause: err });
  if (cause instanceof natsErrors.ClosedConnectionError || cause instanceof natsErrors.DrainingConnectionError) return new TransportClosedError({ cause: err });
  return new RequestFailedError(subject, { cause: err });
}

/** The status message the server sends to a reply inbox when nobody subscribes to the request subject. */
export function isNoRespondersStatus(msg: Msg): boolean {
  return msg.data.length === 0 && msg.headers !== undefined && msg.headers.code === 503;
}

export type ReplyOutcome<B> = { readonly ok: true; readonly env: Envelope<B> } | { readonly ok: false; readonly error: BadReplyError | ServiceError };

/**
 * Checks one reply. A services-style error reply (Nats-Service-Error-Code header) whose body is one of the
 * accepted kinds is returned like any reply (the caller asked for that error kind); otherwise it becomes a
 * ServiceError. Other replies that fail to decode are counted as rejections and become BadReplyError.
 */
export function classifyReply<D extends KindDef<unknown>>(
  subject: string,
  msg: Msg,
  defs: readonly D[],
  rejects: RejectCounter,
  opts: DecodeOptions,
): ReplyOutcome<BodyOf<D>> {
  const h = msg.headers;
  const isServiceError = h !== undefined && h.has(SERVICE_ERROR_CODE);
  const r = decode(msg.data, defs, opts);
  if (r.ok) return r;
  if (isServiceError) {
    const code = Number.parseInt(h.get(SERVICE_ERROR_CODE), 10);
    return { ok: false, error: new ServiceError(subject, Number.isFinite(code) ? code : 500, h.get(SERVICE_ERROR) || "(no description)") };
  }
  rejects.record({ kind: r.kind, reason: r.reason, message: r.message, subject });
  return { ok: false, error: new BadReplyError(subject, r.reason, r.message) };
}
