// Typed errors of the Mesos wire side. Callers branch on `code` (docs/errors.md), never on the text.
// Every one of them means "this stream / call is over": the listener backs off and reconnects.

const MESOS_ERROR_CODES = {
  notLeader: "DCNET_E_MESOS_NOT_LEADER",
  http: "DCNET_E_MESOS_HTTP",
  stalled: "DCNET_E_MESOS_STALLED",
  recordIo: "DCNET_E_RECORDIO",
  unreachable: "DCNET_E_MESOS_UNREACHABLE",
  timeout: "DCNET_E_MESOS_TIMEOUT",
} as const;

type MesosErrorCode = (typeof MESOS_ERROR_CODES)[keyof typeof MESOS_ERROR_CODES];

/** Base of every Mesos wire error, so callers can catch the family with one instanceof. */
export abstract class MesosError extends Error {
  abstract readonly code: MesosErrorCode;
}

/** The master answered 307: it is not the leading master. `location` is the raw Location header. */
export class NotLeaderError extends MesosError {
  override readonly name = "NotLeaderError";
  readonly code = MESOS_ERROR_CODES.notLeader;
  constructor(
    readonly url: string,
    /** The Location header as sent (Mesos sends a scheme-relative `//host:port/api/v1`), or undefined. */
    readonly location: string | undefined,
    /** `location` resolved against the request URL, when it parses. */
    readonly leaderUrl: string | undefined,
  ) {
    super(`${url}: not the leading master (307${location === undefined ? ", no Location" : ` → ${location}`})`);
  }
}

/** Any other non-200 answer, or a 200 whose body is not what the call expects. */
export class MesosHttpError extends MesosError {
  override readonly name = "MesosHttpError";
  readonly code = MESOS_ERROR_CODES.http;
  constructor(
    readonly url: string,
    readonly status: number,
    /** The first bytes of the body (at most 200 characters). */
    readonly excerpt: string,
    options?: ErrorOptions,
  ) {
    super(`${url}: HTTP ${status}${excerpt === "" ? "" : `: ${excerpt}`}`, options);
  }
}

/** No record (HEARTBEAT included) arrived within 3 × heartbeat_interval_seconds. */
export class StreamStalledError extends MesosError {
  override readonly name = "StreamStalledError";
  readonly code = MESOS_ERROR_CODES.stalled;
  constructor(
    readonly url: string,
    readonly silentMs: number,
  ) {
    super(`${url}: no record for ${silentMs} ms (3 × heartbeat interval); stream considered dead`);
  }
}

type RecordIoProblem = "bad-length" | "empty-length" | "too-large" | "truncated";

/** The RecordIO framing is broken: a length prefix is malformed or too large, or a record is cut off. */
export class RecordIoError extends MesosError {
  override readonly name = "RecordIoError";
  readonly code = MESOS_ERROR_CODES.recordIo;
  constructor(
    readonly problem: RecordIoProblem,
    /** Byte offset in the stream where the problem was seen. */
    readonly offset: number,
    /** What was seen there (escaped, at most 40 characters). */
    readonly seen: string,
  ) {
    super(`RecordIO ${problem} at byte ${offset}: ${seen}`);
  }
}

/** The connection could not be made, or broke mid-stream (reset, refused, DNS). The cause is attached. */
export class MesosUnreachableError extends MesosError {
  override readonly name = "MesosUnreachableError";
  readonly code = MESOS_ERROR_CODES.unreachable;
  constructor(
    readonly url: string,
    options?: ErrorOptions,
  ) {
    const cause = options?.cause;
    const why = cause instanceof Error ? (cause.cause instanceof Error ? cause.cause.message : cause.message) : String(cause);
    super(`${url}: connection failed: ${why}`, options);
  }
}

/** The response (headers for SUBSCRIBE, the whole body for a call) did not arrive within timeoutMs. */
export class MesosTimeoutError extends MesosError {
  override readonly name = "MesosTimeoutError";
  readonly code = MESOS_ERROR_CODES.timeout;
  constructor(
    readonly url: string,
    readonly timeoutMs: number,
  ) {
    super(`${url}: no response within ${timeoutMs} ms`);
  }
}
