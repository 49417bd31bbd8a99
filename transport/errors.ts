// Typed transport errors. Callers branch on `code` (stable, documented in README.md), never on message text.
import type { RejectReason } from "./types.js";

export const TRANSPORT_ERROR_CODES = {
  invalidId: "DCNET_E_INVALID_ID",
  invalidKind: "DCNET_E_INVALID_KIND",
  timeout: "DCNET_E_TIMEOUT",
  noResponders: "DCNET_E_NO_RESPONDERS",
  badReply: "DCNET_E_BAD_REPLY",
  serviceError: "DCNET_E_SERVICE_ERROR",
  closed: "DCNET_E_TRANSPORT_CLOSED",
  connectFailed: "DCNET_E_CONNECT_FAILED",
  requestFailed: "DCNET_E_REQUEST_FAILED",
} as const;

export type TransportErrorCode = (typeof TRANSPORT_ERROR_CODES)[keyof typeof TRANSPORT_ERROR_CODES];

/** Base of every transport error, so callers can catch the family with one instanceof. */
export abstract class TransportError extends Error {
  abstract readonly code: TransportErrorCode;
}

/** A cluster id, node id or operation name does not match the allowed pattern. */
export class InvalidIdError extends TransportError {
  override readonly name = "InvalidIdError";
  readonly code = TRANSPORT_ERROR_CODES.invalidId;
  constructor(
    readonly what: string,
    readonly value: string,
    readonly pattern: string,
  ) {
    super(`${what} ${JSON.stringify(value.slice(0, 80))} does not match ${pattern}`);
  }
}

/** A message kind name passed to defineKind is malformed. */
export class InvalidKindError extends TransportError {
  override readonly name = "InvalidKindError";
  readonly code = TRANSPORT_ERROR_CODES.invalidKind;
  constructor(readonly kind: string) {
    super(`message kind ${JSON.stringify(kind)} must be dotted lower-case words (e.g. "admin.ping")`);
  }
}

export class TimeoutError extends TransportError {
  override readonly name = "TimeoutError";
  readonly code = TRANSPORT_ERROR_CODES.timeout;
  constructor(
    readonly subject: string,
    readonly timeoutMs: number,
    options?: ErrorOptions,
  ) {
    super(`request to ${subject} timed out after ${timeoutMs} ms`, options);
  }
}

export class NoRespondersError extends TransportError {
  override readonly name = "NoRespondersError";
  readonly code = TRANSPORT_ERROR_CODES.noResponders;
  constructor(
    readonly subject: string,
    options?: ErrorOptions,
  ) {
    super(`no responders on ${subject}`, options);
  }
}

/** The reply arrived but was rejected at the border (see README "Rejections"). */
export class BadReplyError extends TransportError {
  override readonly name = "BadReplyError";
  readonly code = TRANSPORT_ERROR_CODES.badReply;
  constructor(
    readonly subject: string,
    readonly reason: RejectReason,
    readonly detail: string,
  ) {
    super(`reply from ${subject} rejected (${reason}): ${detail}`);
  }
}

/** The responder answered with a NATS service error (headers Nats-Service-Error[-Code], @nats-io/services style). */
export class ServiceError extends TransportError {
  override readonly name = "ServiceError";
  readonly code = TRANSPORT_ERROR_CODES.serviceError;
  constructor(
    readonly subject: string,
    readonly serviceCode: number,
    readonly description: string,
  ) {
    super(`service error ${serviceCode} from ${subject}: ${description}`);
  }
}

export class TransportClosedError extends TransportError {
  override readonly name = "TransportClosedError";
  readonly code = TRANSPORT_ERROR_CODES.closed;
  constructor(options?: ErrorOptions) {
    super("transport is closed", options);
  }
}

/** The first connection could not be made within connectTimeoutMs. */
export class ConnectError extends TransportError {
  override readonly name = "ConnectError";
  readonly code = TRANSPORT_ERROR_CODES.connectFailed;
  constructor(
    readonly servers: readonly string[],
    options?: ErrorOptions,
  ) {
    const cause = options?.cause instanceof Error ? `: ${options.cause.message}` : "";
    super(`cannot connect to NATS at ${servers.join(", ")}${cause}`, options);
  }
}

/** Any other failure of the NATS client during a request; the NATS error is the cause. */
export class RequestFailedError extends TransportError {
  override readonly name = "RequestFailedError";
  readonly code = TRANSPORT_ERROR_CODES.requestFailed;
  constructor(
    readonly subject: string,
    options?: ErrorOptions,
  ) {
    const cause = options?.cause instanceof Error ? `: ${options.cause.message}` : "";
    super(`request to ${subject} failed${cause}`, options);
  }
}
