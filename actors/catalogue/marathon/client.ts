// Marathon's HTTP API as the source uses it: one JSON GET (/v2/info, /v2/apps?embed=apps.tasks)
// and the /v2/events stream (Server-Sent Events, parsed by sse.ts). A standby Marathon redirects to
// the leader; fetch follows the redirect, so any server of the list will do. Every failure is a
// typed MarathonError (errors.ts).
import { SseParser, type SseEvent } from "./sse.js";
import { MarathonError, MarathonHttpError, MarathonJsonError, MarathonTimeoutError, MarathonUnreachableError, SseFramingError } from "./errors.js";

export interface MarathonCallOptions {
  readonly timeoutMs: number;
  /** DC/OS auth token: `Authorization: token=<token>`. */
  readonly token?: string;
}

function headers(opts: MarathonCallOptions, accept: string): Record<string, string> {
  return { accept, ...(opts.token ? { authorization: `token=${opts.token}` } : {}) };
}

function join(base: string, path: string): string {
  return `${base.replace(/\/+$/, "")}${path}`;
}

async function excerpt(res: Response): Promise<string> {
  return (await res.text().catch(() => "")).slice(0, 200);
}

function wireError(url: string, err: unknown, timeoutMs: number): MarathonError {
  if (err instanceof MarathonError) return err;
  const name = (err as Error | undefined)?.name;
  if (name === "TimeoutError" || name === "AbortError") return new MarathonTimeoutError(url, timeoutMs);
  return new MarathonUnreachableError(url, { cause: err });
}

/** GET `path` as JSON. */
export async function marathonGet(base: string, path: string, opts: MarathonCallOptions): Promise<unknown> {
  const url = join(base, path);
  let text: string;
  try {
    const res = await fetch(url, { headers: headers(opts, "application/json"), signal: AbortSignal.timeout(opts.timeoutMs) });
    if (res.status !== 200) throw new MarathonHttpError(url, res.status, await excerpt(res));
    text = await res.text();
  } catch (err) {
    throw wireError(url, err, opts.timeoutMs);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new MarathonJsonError(url, `the answer is not JSON (${(err as Error).message}; starts ${JSON.stringify(text.slice(0, 60))})`, { cause: err });
  }
}

export interface FollowOptions extends MarathonCallOptions {
  /** Ends the stream (the promise then resolves). */
  readonly signal: AbortSignal;
  /** The stream is open (headers received): events from here on are not missed. */
  onOpen(): void;
  onEvent(ev: SseEvent): void;
}

/**
 * Follows /v2/events until `signal` aborts (resolves) or the stream fails or ends (rejects with a
 * MarathonError: a server ending the stream is a failure to the source, which reconnects).
 */
export async function followEvents(base: string, opts: FollowOptions): Promise<void> {
  const url = join(base, "/v2/events");
  if (opts.signal.aborted) return;
  // One controller for the request and the body: the caller's abort ends both; the timeout covers
  // only the wait for the headers (an event stream may be quiet for long).
  const ctl = new AbortController();
  const onAbort = (): void => ctl.abort();
  opts.signal.addEventListener("abort", onAbort, { once: true });
  const timer = setTimeout(() => ctl.abort(new MarathonTimeoutError(url, opts.timeoutMs)), opts.timeoutMs);
  try {
    let res: Response;
    try {
      res = await fetch(url, { headers: headers(opts, "text/event-stream"), signal: ctl.signal });
    } catch (err) {
      if (opts.signal.aborted) return;
      throw ctl.signal.reason instanceof MarathonTimeoutError ? ctl.signal.reason : wireError(url, err, opts.timeoutMs);
    } finally {
      clearTimeout(timer);
    }
    if (res.status !== 200) throw new MarathonHttpError(url, res.status, await excerpt(res));
    if (!res.body) throw new MarathonHttpError(url, res.status, "no body");
    opts.onOpen();
    await readEvents(url, res.body, opts);
  } finally {
    clearTimeout(timer);
    opts.signal.removeEventListener("abort", onAbort);
    ctl.abort();
  }
}

async function readEvents(url: string, body: ReadableStream<Uint8Array>, opts: FollowOptions): Promise<void> {
  const parser = new SseParser();
  const decoder = new TextDecoder("utf-8", { fatal: true });
  const reader = body.getReader();
  for (;;) {
    let chunk: Awaited<ReturnType<typeof reader.read>>;
    try {
      chunk = await reader.read();
    } catch (err) {
      if (opts.signal.aborted) return;
      throw new MarathonUnreachableError(url, { cause: err });
    }
    if (chunk.done) {
      if (opts.signal.aborted) return;
      throw new MarathonUnreachableError(url, { cause: new Error("the server ended the event stream") });
    }
    let text: string;
    try {
      text = decoder.decode(chunk.value, { stream: true });
    } catch {
      throw new SseFramingError("bytes that are not UTF-8");
    }
    for (const ev of parser.push(text)) opts.onEvent(ev);
  }
}
