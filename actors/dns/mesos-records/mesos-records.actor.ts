// The `.mesos` record source (the dcos_dns_mesos_dns analogue, without a Mesos-DNS process): on a
// master node, while this node holds the leading master's stream (`mesos/leader`), read the
// leader's /master/state shortly after every task event of that stream (and every refreshMs as a
// safety net; Mesos-DNS only polls, every 60 s), generate exactly Mesos-DNS's records in a worker
// thread, and write the changed names into the store (`dns/mesos/<name>`), from where every node's zone actor serves them.
// Per-name keys, so a task change replicates as a few small deltas instead of a whole zone. A
// failed read keeps the last records (Mesos-DNS "keeping old DNS state").
import type { Logger } from "pino";
import type { Registry } from "prom-client";
import type { ActorRef, Behaviour } from "../../../supervisors/index.js";
import type { KeyView, StoreMsg, UpdateOp, WatchEvent } from "../../gossip/index.js";
import type { Config } from "../../../config/index.js";
import { counter } from "../../../observability/metrics.js";
import { startThread, type Thread } from "../../../supervisors/thread.js";
import { LEADER_KEY } from "../../catalogue/index.js";
import { storeWriter, writeAll } from "../../catalogue/index.js";
import { sourcePrefix } from "../../catalogue/index.js";
import { MESOS_RECORDS_PREFIX, mesosRecordsKey } from "../zones/parts/inputs.js";
import type { ReadOutcome, ReadRequest } from "./read.js";
import { StoreUnavailableError } from "../../gossip/index.js";

type MesosRecordsMsg =
  | { readonly type: "leader"; readonly ev: WatchEvent }
  /** A task of the leading master's operator stream changed in the store: read again soon. */
  | { readonly type: "tasks-changed" }
  | { readonly type: "refresh" }
  | { readonly type: "thread-died"; readonly error: Error };

interface MesosRecordsState {
  /** Master URL of the stream this node holds, when it holds the leader's. */
  leading: string | undefined;
  /** What this node last wrote, name → encoded records; undefined until it first leads. */
  written: Map<string, string> | undefined;
  readonly timer: NodeJS.Timeout;
  /** The read scheduled changeDelayMs after a task event, while one is pending. */
  soon?: NodeJS.Timeout;
  readonly watchId: number;
  readonly tasksWatchId: number;
  /** Reads and generates off the main thread, so the DNS listeners never wait behind a refresh. */
  readonly thread: Thread<ReadRequest, ReadOutcome>;
  failures: number;
  /** SHA-1 of the last /master/state whose records were published. */
  digest?: string;
}

interface MesosRecordsDeps {
  readonly nodeId: string;
  readonly dns: Config["dns"];
  readonly mesos: Config["mesos"];
  readonly nodeIp: () => string | undefined;
  readonly metrics: Registry;
  readonly logger: Logger;
  readonly store: () => ActorRef<StoreMsg> | undefined;
}

/** `http://10.0.0.1:5050` → `10.0.0.1:5050`: Mesos-DNS's `masters` entries. */
function hostPortOf(url: string): string | undefined {
  try {
    const u = new URL(url);
    return `${u.hostname.replace(/^\[(.*)\]$/, "$1")}:${u.port || (u.protocol === "https:" ? "443" : "80")}`;
  } catch {
    return undefined;
  }
}

export function mesosRecordsBehaviour(deps: MesosRecordsDeps): Behaviour<MesosRecordsState, MesosRecordsMsg> {
  const write = storeWriter(deps.store);
  const reads = counter(deps.metrics, "dcnet_dns_mesos_state_reads_total", "Reads of the leading master's /master/state for the .mesos zone, by outcome", ["outcome"]);
  const problems = counter(deps.metrics, "dcnet_dns_mesos_state_problems_total", "Parts of /master/state skipped as malformed while generating .mesos records");
  const m = deps.dns.mesos;

  const refresh = async (state: MesosRecordsState): Promise<void> => {
    if (!state.leading) return;
    const ip = deps.nodeIp();
    const out = await state.thread.request(
      {
        master: state.leading,
        timeoutMs: deps.mesos.timeoutMs,
        ...(deps.mesos.token ? { token: deps.mesos.token } : {}),
        generate: {
          domain: m.domain,
          ns: `ns1.${m.domain}.`,
          listener: ip ?? "0.0.0.0",
          localAddresses: ip ? [ip] : [],
          masters: deps.mesos.masters.map(hostPortOf).filter((h): h is string => h !== undefined),
          ipSources: m.ipSources,
          enforceRFC952: m.enforceRFC952,
        },
        // Until this node has written once, even an unchanged document is published.
        ...(state.digest && state.written ? { lastDigest: state.digest } : {}),
      },
      // The read's own timeout, plus time to generate a large cluster's records.
      deps.mesos.timeoutMs + 60_000,
    );
    switch (out.kind) {
      case "unreadable":
      case "not-json":
        reads.inc({ outcome: out.kind === "unreadable" ? "error" : "not-json" });
        if (state.failures++ % 30 === 0) deps.logger.warn({ master: state.leading, err: out.error, failures: state.failures }, `${out.kind === "unreadable" ? "reading /master/state failed" : "/master/state is not JSON"}; keeping the last .mesos records`);
        return;
      case "unchanged":
        state.failures = 0;
        reads.inc({ outcome: "unchanged" });
        return;
      case "records":
        break;
    }
    state.failures = 0;
    reads.inc({ outcome: "ok" });
    if (out.problems > 0) problems.inc(out.problems);
    const next = new Map(out.names);
    const digest = out.digest;
    if (!state.written) state.written = await existingNames(deps.store);
    const written = state.written;
    const updates: Array<[string, UpdateOp[]]> = [];
    for (const [name, encoded] of next) {
      if (written.get(name) !== encoded) updates.push([mesosRecordsKey(name), [{ op: "set", field: "rrs", value: JSON.parse(encoded) as string[] }]]);
    }
    for (const name of written.keys()) {
      if (!next.has(name)) updates.push([mesosRecordsKey(name), [{ op: "delete-key" }]]);
    }
    if (updates.length === 0) {
      state.digest = digest;
      return;
    }
    await writeAll(write, updates);
    state.written = next;
    state.digest = digest;
    deps.logger.debug({ changed: updates.length, names: next.size }, ".mesos records published");
  };

  return {
    async init(ctx) {
      const store = deps.store();
      if (!store) throw new StoreUnavailableError();
      const watchId = await store.ask<number>((reply) => ({ type: "watch", prefix: LEADER_KEY, subscriber: (ev) => ev.key === LEADER_KEY && ctx.self.tell({ type: "leader", ev }), reply }), 60_000);
      // Event-driven first: the operator stream's task events (written by the catalogue under this
      // node's operator prefix) trigger a read changeDelayMs later; the interval is only the safety net.
      const tasksWatchId = await store.ask<number>((reply) => ({ type: "watch", prefix: sourcePrefix(deps.nodeId, "operator"), subscriber: () => ctx.self.tell({ type: "tasks-changed" }), reply }), 60_000);
      const timer = setInterval(() => ctx.self.tell({ type: "refresh" }), m.refreshMs);
      timer.unref();
      // A dead thread is this actor's crash: the supervisor restarts both.
      const thread = startThread<ReadRequest, ReadOutcome>(new URL("./worker.ts", import.meta.url), (error) => ctx.self.tell({ type: "thread-died", error }));
      return { leading: undefined, written: undefined, timer, watchId, tasksWatchId, failures: 0, thread };
    },
    async handle(state, msg, ctx) {
      if (msg.type === "thread-died") throw msg.error;
      if (msg.type === "tasks-changed") {
        if (state.leading && !state.soon) state.soon = setTimeout(() => ctx.self.tell({ type: "refresh" }), m.changeDelayMs);
        return state;
      }
      if (msg.type === "leader") {
        const node = msg.ev.value?.node;
        const master = msg.ev.value?.master;
        const leading = node?.type === "lww" && node.value === deps.nodeId && master?.type === "lww" && typeof master.value === "string" && master.value !== "" ? master.value : undefined;
        if (leading !== state.leading) {
          deps.logger.info({ master: leading }, leading ? "following the leading master: publishing .mesos records" : "no longer following the leading master: another node publishes .mesos records");
          state.leading = leading;
          // On (re)gaining the lead, start from what the store holds: the previous publisher's names.
          state.written = undefined;
          state.digest = undefined;
          if (leading) await refresh(state);
        }
        return state;
      }
      clearTimeout(state.soon);
      state.soon = undefined;
      await refresh(state);
      return state;
    },
    async terminate(state) {
      clearInterval(state.timer);
      clearTimeout(state.soon);
      deps.store()?.tell({ type: "unwatch", id: state.watchId });
      deps.store()?.tell({ type: "unwatch", id: state.tasksWatchId });
      await state.thread.terminate();
    },
    handlerDeadlineMs: 120_000,
    background: (msg) => msg.type === "refresh", // the periodic safety net; one caused by a task change stays in that change's trace
  };
}

/**
 * The record sets the store holds under dns/mesos/, encoded as read.ts encodes a generated set (JSON
 * of the sorted `rrs` strings), so a node taking over the publishing writes only names whose records
 * differ. Rewriting every name instead (as before) made each change of publisher rewrite all of a
 * big cluster's names and rebuild the `.mesos` zones on every node: hundreds of ms on the main thread
 * each time, the DNS latency tail bench/dns-qps showed (issue 16). A value that is not an lww array
 * encodes as "", which no real set has, so that name is rewritten.
 */
export async function existingNames(store: () => ActorRef<StoreMsg> | undefined): Promise<Map<string, string>> {
  const ref = store();
  if (!ref) throw new StoreUnavailableError();
  const keys = await ref.ask<readonly string[]>((reply) => ({ type: "keys", prefix: MESOS_RECORDS_PREFIX, reply }), 30_000);
  const out = new Map<string, string>();
  // A bounded number of asks in flight: the store's mailbox stays open to the rest of the node.
  for (let i = 0; i < keys.length; i += 256) {
    const chunk = keys.slice(i, i + 256);
    const views = await Promise.all(chunk.map((key) => ref.ask<KeyView | undefined>((reply) => ({ type: "get", key, reply }), 30_000)));
    chunk.forEach((key, j) => {
      const rrs = views[j]?.rrs;
      out.set(key.slice(MESOS_RECORDS_PREFIX.length), rrs?.type === "lww" && Array.isArray(rrs.value) ? JSON.stringify(rrs.value) : "");
    });
  }
  return out;
}
