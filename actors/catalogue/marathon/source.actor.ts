// The Marathon source: Marathon's apps and their tasks (`GET /v2/apps?embed=apps.tasks`), kept
// current by its event stream (`/v2/events`), written into the store as this node's facts
// (`tasks/<node>/marathon/<id>`) — with every app label and each port's service port, which the
// Mesos sources do not know and the edge needs (Marathon-LB's frontends).
//
// The stream is opened first and the app list fetched once it is open, so no event falls between
// the two. A status update of a known app is applied in place (scaling reaches the store without a
// refetch); an event that may change an app's definition or health (a deployment, an API post)
// asks for one refetch, coalesced over `debounceMs`. Any failure — an HTTP error, an answer that is
// not the JSON expected, a broken or ended stream — is counted and logged, the last good tasks stay
// published, and the source reconnects (the next server of the list) after a jittered backoff.
import { lookup } from "node:dns/promises";
import type { Logger } from "pino";
import type { Registry } from "prom-client";
import type { ActorContext, ActorRef, Behaviour } from "../../../supervisors/index.js";
import type { Config } from "../../../config/index.js";
import type { StoreMsg } from "../../gossip/index.js";
import { StoreUnavailableError } from "../../gossip/index.js";
import { counter } from "../../../observability/metrics.js";
import { parseTaskKey, sourcePrefix } from "../keys.js";
import { storeWriter } from "../store-writer.js";
import { publishTasks } from "../mesos/publish.js";
import { Backoff } from "../mesos/backoff.js";
import { appsOf, applyEvent, hostNames, tasksFromApps } from "./convert.js";
import { followEvents, marathonGet } from "./client.js";
import { MarathonError, MarathonJsonError } from "./errors.js";
import type { SseEvent } from "./sse.js";

export type MarathonMsg =
  | { readonly type: "connect" }
  /** The event stream of connection `gen` is open: fetch the app list now. */
  | { readonly type: "opened"; readonly gen: number }
  | { readonly type: "event"; readonly gen: number; readonly ev: SseEvent }
  | { readonly type: "ended"; readonly gen: number; readonly error: Error }
  | { readonly type: "refetch"; readonly gen: number }
  | { readonly type: "resync" };

export interface MarathonDeps {
  readonly nodeId: string;
  readonly config: Config["mesos"]["marathon"];
  readonly logger: Logger;
  readonly metrics: Registry;
  readonly store: () => ActorRef<StoreMsg> | undefined;
}

interface MarathonState {
  /** Task id → digest of what was written last ("" after a restart: rewritten once). */
  readonly written: Map<string, string>;
  readonly backoff: Backoff;
  /** The last good app list (the answer of /v2/apps with the events since folded in). */
  apps: readonly unknown[] | undefined;
  framework: string;
  frameworkId: string | undefined;
  /** Connection generation: messages of an older connection are ignored. */
  gen: number;
  server: number;
  abort: AbortController | undefined;
  refetchTimer: NodeJS.Timeout | undefined;
  retryTimer: NodeJS.Timeout | undefined;
  resyncTimer: NodeJS.Timeout | undefined;
  lastError: string | undefined;
}

/** Events worth a line each in the metrics; others are counted as "other". */
const COUNTED = new Set(["status_update_event", "api_post_event", "deployment_success", "deployment_failed", "deployment_step_success", "health_status_changed_event", "app_terminated_event", "event_stream_attached"]);

export function marathonBehaviour(deps: MarathonDeps): Behaviour<MarathonState, MarathonMsg> {
  const cfg = deps.config;
  const log = deps.logger;
  const events = counter(deps.metrics, "dcnet_catalogue_marathon_events_total", "Marathon events received, by type", ["type"]);
  const fetches = counter(deps.metrics, "dcnet_catalogue_marathon_fetches_total", "Marathon app-list fetches by outcome", ["outcome"]);
  const errors = counter(deps.metrics, "dcnet_catalogue_marathon_errors_total", "Marathon calls and event streams that failed, by error code", ["code"]);
  const problems = counter(deps.metrics, "dcnet_catalogue_problems_total", "Mesos items skipped as malformed", ["source"]);
  const write = storeWriter(deps.store);
  const call = { timeoutMs: cfg.timeoutMs, ...(cfg.token ? { token: cfg.token } : {}) };
  const base = (s: MarathonState): string => cfg.servers[s.server % cfg.servers.length] as string;

  const fail = (s: MarathonState, err: unknown, ctx: ActorContext<MarathonMsg>): void => {
    const code = err instanceof MarathonError ? err.code : "other";
    errors.inc({ code });
    const message = (err as Error).message;
    // One line per kind of failure, not one per retry.
    if (message !== s.lastError) log.warn({ server: base(s), code, err: message }, "marathon: failed; keeping the last good tasks and reconnecting");
    s.lastError = message;
    s.abort?.abort();
    s.abort = undefined;
    s.gen++;
    s.server++;
    clearTimeout(s.retryTimer);
    s.retryTimer = setTimeout(() => ctx.self.tell({ type: "connect" }), s.backoff.next());
    s.retryTimer.unref();
  };

  const publish = async (s: MarathonState, apps: readonly unknown[]): Promise<void> => {
    const resolved = new Map<string, string>();
    await Promise.all(hostNames(apps).map(async (h) => {
      const r = await lookup(h, { family: 4 }).catch(() => undefined);
      if (r) resolved.set(h, r.address);
    }));
    const r = tasksFromApps(apps, { framework: s.framework, ...(s.frameworkId ? { frameworkId: s.frameworkId } : {}), resolveHost: (h) => resolved.get(h) });
    if (r.problems.length > 0) {
      problems.inc({ source: "marathon" }, r.problems.length);
      log.warn({ count: r.problems.length, first: r.problems[0] }, "marathon: skipped malformed apps or tasks");
    }
    await publishTasks(s.written, r.tasks, write, deps.nodeId, "marathon");
    s.apps = apps;
  };

  const fetchApps = async (s: MarathonState): Promise<void> => {
    const json = await marathonGet(base(s), "/v2/apps?embed=apps.tasks", call);
    const apps = appsOf(json);
    if (!apps.ok) throw new MarathonJsonError(`${base(s)}/v2/apps`, apps.reason);
    await publish(s, apps.apps);
    fetches.inc({ outcome: "ok" });
  };

  const connect = async (s: MarathonState, ctx: ActorContext<MarathonMsg>): Promise<void> => {
    s.abort?.abort();
    const gen = ++s.gen;
    // The framework's name and Mesos id: task ids as the Mesos sources write them.
    const info = await marathonGet(base(s), "/v2/info", call);
    const o = info as { name?: unknown; frameworkId?: unknown } | null;
    s.framework = typeof o?.name === "string" && o.name !== "" ? o.name : "marathon";
    s.frameworkId = typeof o?.frameworkId === "string" && o.frameworkId !== "" ? o.frameworkId : undefined;
    const abort = new AbortController();
    s.abort = abort;
    followEvents(base(s), {
      ...call,
      signal: abort.signal,
      onOpen: () => ctx.self.tell({ type: "opened", gen }),
      onEvent: (ev) => ctx.self.tell({ type: "event", gen, ev }),
    }).then(
      () => undefined,
      (error: unknown) => ctx.self.tell({ type: "ended", gen, error: error instanceof Error ? error : new Error(String(error)) }),
    );
  };

  const onEvent = async (s: MarathonState, ev: SseEvent, ctx: ActorContext<MarathonMsg>): Promise<void> => {
    events.inc({ type: COUNTED.has(ev.type) ? ev.type : "other" });
    if (!s.apps) return; // the list is being fetched; it will include this event's effect
    let data: unknown;
    try {
      data = JSON.parse(ev.data);
    } catch (err) {
      problems.inc({ source: "marathon" });
      log.warn({ event: ev.type, err: (err as Error).message, data: ev.data.slice(0, 120) }, "marathon: an event whose data is not JSON; refetching the apps");
      scheduleRefetch(s, ctx);
      return;
    }
    const effect = applyEvent(s.apps, ev.type, data);
    if (effect.kind === "applied") await publish(s, effect.apps);
    else if (effect.kind === "refetch") scheduleRefetch(s, ctx);
    else if (effect.kind === "bad") {
      problems.inc({ source: "marathon" });
      log.warn({ event: ev.type, reason: effect.reason }, "marathon: a malformed event; refetching the apps");
      scheduleRefetch(s, ctx);
    }
  };

  const scheduleRefetch = (s: MarathonState, ctx: ActorContext<MarathonMsg>): void => {
    if (s.refetchTimer) return;
    const gen = s.gen;
    s.refetchTimer = setTimeout(() => ctx.self.tell({ type: "refetch", gen }), cfg.debounceMs);
    s.refetchTimer.unref();
  };

  return {
    async init(ctx) {
      // After a restart: what this node published before is in the store; start the diff from there.
      const ref = deps.store();
      if (!ref) throw new StoreUnavailableError();
      const keys = await ref.ask<readonly string[]>((reply) => ({ type: "keys", prefix: sourcePrefix(deps.nodeId, "marathon"), reply }), 15_000);
      const written = new Map<string, string>();
      for (const k of keys) {
        const p = parseTaskKey(k);
        if (p) written.set(p.id, "");
      }
      ctx.self.tell({ type: "connect" });
      const resyncTimer = setInterval(() => ctx.self.tell({ type: "resync" }), cfg.resyncMs);
      resyncTimer.unref();
      return { written, backoff: new Backoff({ initialMs: 1000, maxMs: Math.max(1000, cfg.maxBackoffMs) }), apps: undefined, framework: "marathon", frameworkId: undefined, gen: 0, server: 0, abort: undefined, refetchTimer: undefined, retryTimer: undefined, resyncTimer, lastError: undefined };
    },
    async handle(s, msg, ctx) {
      try {
        switch (msg.type) {
          case "connect":
            await connect(s, ctx);
            break;
          case "opened":
            if (msg.gen !== s.gen) break;
            await fetchApps(s);
            if (s.lastError) log.info({ server: base(s) }, "marathon: reachable again");
            s.lastError = undefined;
            s.backoff.reset();
            break;
          case "event":
            if (msg.gen === s.gen) await onEvent(s, msg.ev, ctx);
            break;
          case "refetch":
            s.refetchTimer = undefined;
            if (msg.gen === s.gen) await fetchApps(s);
            break;
          case "resync":
            // Only on a live connection: a reconnect fetches anyway.
            if (s.abort && s.apps) await fetchApps(s);
            break;
          case "ended":
            if (msg.gen === s.gen) fail(s, msg.error, ctx);
            break;
        }
      } catch (err) {
        if (err instanceof StoreUnavailableError) throw err;
        if (msg.type !== "ended") fetches.inc({ outcome: "error" });
        fail(s, err, ctx);
      }
      return s;
    },
    terminate(s) {
      s.abort?.abort();
      clearTimeout(s.refetchTimer);
      clearTimeout(s.retryTimer);
      clearInterval(s.resyncTimer);
    },
    handlerDeadlineMs: 60_000,
    // Periodic and retry turns; a change they find is written and starts its own trace.
    background: (msg) => msg.type === "resync" || msg.type === "connect",
  };
}
