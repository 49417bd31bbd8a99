// Typed errors of the Marathon source (docs/errors.md). Each one ends one fetch or one event
// stream: the source counts it, keeps its last good tasks, backs off and tries again (the next
// Marathon server of the list after a connection failure).

const MARATHON_ERROR_CODES = {
  http: "DCNET_E_MARATHON_HTTP",
  json: "DCNET_E_MARATHON_JSON",
  unreachable: "DCNET_E_MARATHON_UNREACHABLE",
  timeout: "DCNET_E_MARATHON_TIMEOUT",
  sse: "DCNET_E_SSE",
} as const;

type MarathonErrorCode = (typeof MARATHON_ERROR_CODES)[keyof typeof MARATHON_ERROR_CODES];

/** Base of every Marathon wire error, so callers catch the family with one instanceof. */
export abstract class MarathonError extends Error {
  abstract readonly code: MarathonErrorCode;
}

/** A non-200 answer (a standby's redirect is followed before this). */
export class MarathonHttpError extends MarathonError {
  override readonly name = "MarathonHttpError";
  readonly code = MARATHON_ERROR_CODES.http;
  constructor(
    readonly url: string,
    readonly status: number,
    /** The first bytes of the body (at most 200 characters). */
    readonly excerpt: string,
  ) {
    super(`${url}: HTTP ${status}${excerpt === "" ? "" : `: ${excerpt}`}`);
  }
}

/** A 200 whose body is not the JSON the call expects (malformed JSON, or no `apps` list). */
export class MarathonJsonError extends MarathonError {
  override readonly name = "MarathonJsonError";
  readonly code = MARATHON_ERROR_CODES.json;
  constructor(
    readonly url: string,
    what: string,
    options?: ErrorOptions,
  ) {
    super(`${url}: ${what}`, options);
  }
}

/** Connection refused, reset, or broken mid-stream. */
export class MarathonUnreachableError extends MarathonError {
  override readonly name = "MarathonUnreachableError";
  readonly code = MARATHON_ERROR_CODES.unreachable;
  constructor(
    readonly url: string,
    options?: ErrorOptions,
  ) {
    super(`${url}: unreachable (${(options?.cause as Error | undefined)?.message ?? "connection failed"})`, options);
  }
}

/** No answer (or, on the event stream, no headers) within marathon.timeoutMs. */
export class MarathonTimeoutError extends MarathonError {
  override readonly name = "MarathonTimeoutError";
  readonly code = MARATHON_ERROR_CODES.timeout;
  constructor(
    readonly url: string,
    readonly timeoutMs: number,
  ) {
    super(`${url}: no answer within ${timeoutMs} ms`);
  }
}

/** The event stream's framing is broken (an event beyond the size bound, bytes that are not UTF-8 text). */
export class SseFramingError extends MarathonError {
  override readonly name = "SseFramingError";
  readonly code = MARATHON_ERROR_CODES.sse;
  constructor(what: string) {
    super(`event stream: ${what}`);
  }
}
