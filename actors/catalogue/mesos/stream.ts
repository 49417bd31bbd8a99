// Edge module: HTTP to a Mesos master or agent Operator API (`POST <base>/api/v1`). Verbs, no policy:
// `subscribe` holds one SUBSCRIBE stream open and hands out its events; `mesosCall` does one plain
// call (GET_STATE, GET_AGENT). Reconnecting, backoff and leadership belong to the caller.
import { RecordIoDecoder, DEFAULT_MAX_RECORD_BYTES } from "./recordio.js";
import { MesosHttpError, MesosTimeoutError, MesosUnreachableError, NotLeaderError, StreamStalledError } from "./errors.js";

/** Mesos sends HEARTBEAT every heartbeat_interval_seconds (15 s by default); 3 missed → stalled. */
const DEFAULT_HEARTBEAT_SECONDS = 15;
const STALL_FACTOR = 3;

export type MesosEvent = { readonly type?: unknown } & Record<string, unknown>;

/** A record that was framed correctly but is not a JSON object; it is skipped. */
export interface StreamProblem {
  readonly kind: "bad-json" | "not-an-object";
  /** Index of the record in this stream (0 = first). */
  readonly index: number;
  readonly excerpt: string;
  readonly cause?: unknown;
}

interface MesosSubscribeOptions {
  /** Sent as `Authorization: token=<token>` when set. */
  readonly token?: string;
  /** Aborting ends the stream; `subscribe` then resolves with `{ reason: "aborted" }`. */
  readonly signal: AbortSignal;
  readonly onRecord: (event: MesosEvent) => void;
  readonly onProblem?: (problem: StreamProblem) => void;
  /** How long to wait for the response headers. */
  readonly timeoutMs: number;
  readonly maxRecordBytes?: number;
  readonly userAgent?: string;
}

export interface SubscribeEnd {
  /** "eof": the master closed the stream cleanly between records. */
  readonly reason: "eof" | "aborted";
  readonly records: number;
  readonly bytes: number;
}

interface MesosCallOptions {
  readonly token?: string;
  readonly timeoutMs: number;
  readonly signal?: AbortSignal;
  /** Largest body accepted. Default 64 MiB. */
  readonly maxBytes?: number;
  readonly userAgent?: string;
}

/** `http://host:5050` or `http://host:5050/` → `http://host:5050/api/v1` (a full `/api/v1` URL is kept). */
export function operatorUrl(base: string): string {
  const u = new URL(base);
  if (!u.pathname.endsWith("/api/v1")) u.pathname = `${u.pathname.replace(/\/+$/, "")}/api/v1`;
  return u.toString();
}

function headers(opts: { token?: string; userAgent?: string }): Record<string, string> {
  const h: Record<string, string> = { "Content-Type": "application/json", Accept: "application/json" };
  if (opts.token !== undefined) h.Authorization = `token=${opts.token}`;
  if (opts.userAgent !== undefined) h["User-Agent"] = opts.userAgent;
  return h;
}

function clip(text: string, max = 200): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

/** Turn a 307 or any non-200 response into the typed error (reads at most a few KiB of the body). */
async function rejectStatus(url: string, res: Response): Promise<Error> {
  if (res.status === 307) {
    const location = res.headers.get("location") ?? undefined;
    let leaderUrl: string | undefined;
    try {
      leaderUrl = location === undefined ? undefined : new URL(location, url).toString();
    } catch {
      leaderUrl = undefined;
    }
    await res.body?.cancel().catch(() => undefined);
    return new NotLeaderError(url, location, leaderUrl);
  }
  const body = await readLimited(res, 4096, url).catch(() => new Uint8Array());
  return new MesosHttpError(url, res.status, clip(new TextDecoder().decode(body).trim()));
}

async function readLimited(res: Response, maxBytes: number, url: string): Promise<Uint8Array> {
  const reader = res.body?.getReader();
  if (reader === undefined) return new Uint8Array();
  const parts: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.length;
    if (total > maxBytes) {
      await reader.cancel().catch(() => undefined);
      if (maxBytes <= 4096) break;
      throw new MesosHttpError(url, res.status, `body larger than ${maxBytes} bytes`);
    }
    parts.push(value);
  }
  return Buffer.concat(parts);
}

/**
 * One plain Operator API call, e.g. `{ type: "GET_STATE" }`; resolves with the parsed JSON body.
 * Rejects with NotLeaderError (307), MesosHttpError (non-200 or a body that is not JSON),
 * MesosTimeoutError (whole exchange over timeoutMs) or MesosUnreachableError.
 */
export function mesosCall(base: string, body: unknown, opts: MesosCallOptions): Promise<unknown> {
  return requestJson(operatorUrl(base), { method: "POST", body: JSON.stringify(body) }, opts);
}

/**
 * mesosCall's answer as bytes, not parsed: a caller that polls (the agent poller) digests them and
 * parses only an answer it has not seen (parseAnswer). Same errors as mesosCall, except bad JSON.
 */
export function mesosCallBytes(base: string, body: unknown, opts: MesosCallOptions): Promise<Uint8Array> {
  return requestBytes(operatorUrl(base), { method: "POST", body: JSON.stringify(body) }, opts);
}

/** The JSON of an answer mesosCallBytes gave; MesosHttpError naming the call when it is not JSON. */
export function parseAnswer(base: string, bytes: Uint8Array): unknown {
  return parseJson(operatorUrl(base), new TextDecoder().decode(bytes));
}

/**
 * GET of a v0 endpoint such as `/master/state` (what Mesos-DNS reads), as text: the caller can
 * skip parsing a document that has not changed. Same errors as mesosCall.
 */
export function mesosGetText(base: string, path: string, opts: MesosCallOptions): Promise<string> {
  const u = new URL(base);
  u.pathname = `${u.pathname.replace(/\/api\/v1\/?$/, "").replace(/\/+$/, "")}${path}`;
  return requestText(u.toString(), { method: "GET" }, opts);
}

async function requestJson(url: string, init: { method: string; body?: string }, opts: MesosCallOptions): Promise<unknown> {
  return parseJson(url, await requestText(url, init, opts));
}

function parseJson(url: string, text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (cause) {
    throw new MesosHttpError(url, 200, `body is not JSON: ${clip(text, 80)}`, { cause });
  }
}

async function requestText(url: string, init: { method: string; body?: string }, opts: MesosCallOptions): Promise<string> {
  return new TextDecoder().decode(await requestBytes(url, init, opts));
}

async function requestBytes(url: string, init: { method: string; body?: string }, opts: MesosCallOptions): Promise<Uint8Array> {
  const ctl = new AbortController();
  const timeout = new MesosTimeoutError(url, opts.timeoutMs);
  const timer = setTimeout(() => ctl.abort(timeout), opts.timeoutMs);
  const onAbort = (): void => ctl.abort(opts.signal?.reason);
  opts.signal?.addEventListener("abort", onAbort, { once: true });
  try {
    const res = await fetch(url, { ...init, headers: headers(opts), redirect: "manual", signal: ctl.signal });
    if (res.status !== 200) throw await rejectStatus(url, res);
    return await readLimited(res, opts.maxBytes ?? 64 * 1024 * 1024, url);
  } catch (err) {
    if (ctl.signal.aborted && ctl.signal.reason === timeout) throw timeout;
    if (opts.signal?.aborted) throw opts.signal.reason;
    throw err instanceof MesosHttpError || err instanceof NotLeaderError ? err : new MesosUnreachableError(url, { cause: err });
  } finally {
    clearTimeout(timer);
    opts.signal?.removeEventListener("abort", onAbort);
  }
}

/** Seconds between heartbeats announced by a SUBSCRIBED event, if it is one and carries a sane value. */
export function heartbeatSeconds(event: MesosEvent): number | undefined {
  if (event.type !== "SUBSCRIBED") return undefined;
  const s = (event.subscribed as { heartbeat_interval_seconds?: unknown } | undefined)?.heartbeat_interval_seconds;
  return typeof s === "number" && Number.isFinite(s) && s > 0 ? s : undefined;
}

const ABORTED = Symbol("aborted");

/** The state of one SUBSCRIBE exchange: our abort controller, the liveness timer and counters. */
class Subscription {
  readonly ctl = new AbortController();
  /** Set when one of our own timers ended the exchange (timeout, stall). */
  private failure: Error | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private stallMs = STALL_FACTOR * DEFAULT_HEARTBEAT_SECONDS * 1000;
  records = 0;
  bytes = 0;

  constructor(
    readonly url: string,
    private readonly opts: MesosSubscribeOptions,
  ) {}

  private stop(err: Error): void {
    this.failure ??= err;
    this.ctl.abort(err);
  }

  /** Until the response headers arrive: the call timeout. */
  armTimeout(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.stop(new MesosTimeoutError(this.url, this.opts.timeoutMs)), this.opts.timeoutMs);
  }

  /** While streaming: 3 × heartbeat interval from the last record. */
  armStall(): void {
    clearTimeout(this.timer);
    const ms = this.stallMs;
    this.timer = setTimeout(() => this.stop(new StreamStalledError(this.url, ms)), ms);
  }

  disarm(): void {
    clearTimeout(this.timer);
  }

  /** Await an I/O step; its rejection becomes our timer's error, ABORTED, or MesosUnreachableError. */
  async io<T>(p: Promise<T>): Promise<T> {
    try {
      return await p;
    } catch (err) {
      if (this.failure !== undefined) throw this.failure;
      if (this.opts.signal.aborted) throw ABORTED;
      throw new MesosUnreachableError(this.url, { cause: err });
    }
  }

  /** One framed record: parse, report problems, hand the event out, keep the stream alive. */
  record(text: string): void {
    const index = this.records++;
    this.armStall();
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (cause) {
      this.opts.onProblem?.({ kind: "bad-json", index, excerpt: clip(text, 80), cause });
      return;
    }
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
      this.opts.onProblem?.({ kind: "not-an-object", index, excerpt: clip(text, 80) });
      return;
    }
    const event = parsed as MesosEvent;
    const hb = heartbeatSeconds(event);
    if (hb !== undefined) {
      this.stallMs = Math.round(STALL_FACTOR * hb * 1000);
      this.armStall();
    }
    this.opts.onRecord(event);
  }

  /** Read the body to its end through the RecordIO decoder. */
  async pump(body: ReadableStream<Uint8Array>): Promise<SubscribeEnd> {
    const decoder = new RecordIoDecoder({ maxRecordBytes: this.opts.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES });
    const reader = body.getReader();
    for (;;) {
      const { done, value } = await this.io(reader.read());
      if (done) break;
      this.bytes += value.length;
      const { records, error } = decoder.push(value);
      for (const text of records) this.record(text);
      if (error !== undefined) throw error;
    }
    const truncated = decoder.end();
    if (truncated !== undefined) throw truncated;
    return { reason: "eof", records: this.records, bytes: this.bytes };
  }
}

/**
 * `POST <base>/api/v1 {"type":"SUBSCRIBE"}` and deliver every event to `onRecord` until the stream ends.
 * Resolves `{reason: "eof"}` when the master closes the stream between records, `{reason: "aborted"}`
 * when `signal` aborts. Rejects with NotLeaderError (307), MesosHttpError (other status),
 * MesosTimeoutError (no headers within timeoutMs), StreamStalledError (no record within
 * 3 × heartbeat_interval_seconds, 45 s until SUBSCRIBED says otherwise), RecordIoError (broken or
 * truncated framing), MesosUnreachableError (refused, reset); an error thrown by `onRecord` propagates.
 */
export async function subscribe(base: string, opts: MesosSubscribeOptions): Promise<SubscribeEnd> {
  const sub = new Subscription(operatorUrl(base), opts);
  const onAbort = (): void => sub.ctl.abort(opts.signal.reason);
  if (opts.signal.aborted) return { reason: "aborted", records: 0, bytes: 0 };
  opts.signal.addEventListener("abort", onAbort, { once: true });
  sub.armTimeout();
  try {
    const init = { method: "POST", headers: headers(opts), body: JSON.stringify({ type: "SUBSCRIBE" }), redirect: "manual", signal: sub.ctl.signal } as const;
    const res = await sub.io(fetch(sub.url, init));
    if (res.status !== 200) throw await rejectStatus(sub.url, res);
    if (res.body === null) throw new MesosHttpError(sub.url, 200, "SUBSCRIBE answered without a body");
    sub.armStall();
    return await sub.pump(res.body);
  } catch (err) {
    if (err === ABORTED) return { reason: "aborted", records: sub.records, bytes: sub.bytes };
    throw err;
  } finally {
    sub.disarm();
    opts.signal.removeEventListener("abort", onAbort);
    sub.ctl.abort(); // release the connection whatever happened
  }
}
