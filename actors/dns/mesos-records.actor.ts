// The `.mesos` record source (the dcos_dns_mesos_dns analogue, without a Mesos-DNS process): on a
// master node, while this node holds the leading master's stream (`mesos/leader`), read the
// leader's /master/state every refreshMs, generate exactly Mesos-DNS's records, and write the
// changed names into the store (`dns/mesos/<name>`), from where every node's zone actor serves them.
// Per-name keys, so a task change replicates as a few small deltas instead of a whole zone. A
// failed read keeps the last records (Mesos-DNS "keeping old DNS state").
import { createHash } from "node:crypto";
import { lookup } from "node:dns/promises";
import { isIP } from "node:net";
import type { Logger } from "pino";
import type { Registry } from "prom-client";
import type { ActorRef, Behaviour } from "../../supervisors/index.js";
import type { StoreMsg, UpdateOp, WatchEvent } from "../gossip/store/types.js";
import type { Config } from "../../config/index.js";
import { counter } from "../../observability/metrics.js";
import { mesosGetText } from "../catalogue/mesos/stream.js";
import { LEADER_KEY } from "../catalogue/mesos/listener.actor.js";
import { storeWriter, writeAll } from "../catalogue/store-writer.js";
import { generateRecords, type DnsRecord } from "./mesos-dns/generate.js";
import { MESOS_RECORDS_PREFIX, encodeRrs, mesosRecordsKey } from "./inputs.js";

export type MesosRecordsMsg = { readonly type: "leader"; readonly ev: WatchEvent } | { readonly type: "refresh" };

interface MesosRecordsState {
  /** Master URL of the stream this node holds, when it holds the leader's. */
  leading: string | undefined;
  /** What this node last wrote, name → encoded records; undefined until it first leads. */
  written: Map<string, string> | undefined;
  readonly timer: NodeJS.Timeout;
  readonly watchId: number;
  failures: number;
  /** SHA-1 of the last /master/state whose records were published. */
  digest?: string;
}

export interface MesosRecordsDeps {
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
    let text: string;
    try {
      text = await mesosGetText(state.leading, "/master/state", { timeoutMs: deps.mesos.timeoutMs, ...(deps.mesos.token ? { token: deps.mesos.token } : {}), userAgent: "dcnet" });
    } catch (err) {
      reads.inc({ outcome: "error" });
      if (state.failures++ % 30 === 0) deps.logger.warn({ master: state.leading, err: (err as Error).message, failures: state.failures }, "reading /master/state failed; keeping the last .mesos records");
      return;
    }
    state.failures = 0;
    // Generating a large cluster's records takes a while on the node's one thread; an unchanged
    // document (the common case between refreshes) is not parsed or generated again.
    const digest = createHash("sha1").update(text).digest("hex");
    if (digest === state.digest && state.written) {
      reads.inc({ outcome: "unchanged" });
      return;
    }
    let mesosState: unknown;
    try {
      mesosState = JSON.parse(text) as unknown;
    } catch (err) {
      reads.inc({ outcome: "not-json" });
      if (state.failures++ % 30 === 0) deps.logger.warn({ master: state.leading, err: (err as Error).message }, "/master/state is not JSON; keeping the last .mesos records");
      return;
    }
    reads.inc({ outcome: "ok" });
    const ip = deps.nodeIp();
    const resolved = await resolveHosts(mesosState);
    const result = generateRecords(mesosState, {
      resolveHost: (host) => resolved.get(host) ?? [],
      domain: m.domain,
      ns: `ns1.${m.domain}.`,
      listener: ip ?? "0.0.0.0",
      localAddresses: ip ? [ip] : [],
      masters: deps.mesos.masters.map(hostPortOf).filter((h): h is string => h !== undefined),
      ipSources: m.ipSources,
      enforceRFC952: m.enforceRFC952,
    });
    if (result.problems.length > 0) problems.inc(result.problems.length);
    const next = new Map<string, string>();
    const byName = new Map<string, DnsRecord[]>();
    for (const r of result.records) {
      const name = r.name.replace(/\.$/, "");
      const list = byName.get(name) ?? [];
      list.push(r);
      byName.set(name, list);
    }
    for (const [name, records] of byName) next.set(name, JSON.stringify(encodeRrs(records)));
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
      if (!store) throw new Error("the gossip store is not running");
      const watchId = await store.ask<number>((reply) => ({ type: "watch", prefix: LEADER_KEY, subscriber: (ev) => ev.key === LEADER_KEY && ctx.self.tell({ type: "leader", ev }), reply }), 60_000);
      const timer = setInterval(() => ctx.self.tell({ type: "refresh" }), m.refreshMs);
      timer.unref();
      return { leading: undefined, written: undefined, timer, watchId, failures: 0 };
    },
    async handle(state, msg) {
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
      await refresh(state);
      return state;
    },
    terminate(state) {
      clearInterval(state.timer);
      deps.store()?.tell({ type: "unwatch", id: state.watchId });
    },
    handlerDeadlineMs: 120_000,
  };
}

/**
 * Mesos-DNS resolves agent and framework host names with the host resolver; the generator is
 * synchronous, so the names in this state are looked up first (all at once, each bounded by the
 * system resolver's own timeout). An unresolvable name simply has no addresses.
 */
async function resolveHosts(state: unknown): Promise<Map<string, string[]>> {
  const hosts = new Set<string>();
  const add = (v: unknown): void => {
    if (typeof v === "string" && v !== "" && isIP(v) === 0 && /^[A-Za-z0-9.-]+$/.test(v)) hosts.add(v);
  };
  const pidHost = (pid: unknown): void => {
    if (typeof pid === "string") add(/@([^:[\]]+):\d+$/.exec(pid)?.[1]);
  };
  const o = (state ?? {}) as { frameworks?: unknown; slaves?: unknown };
  for (const f of Array.isArray(o.frameworks) ? (o.frameworks as Array<Record<string, unknown>>) : []) {
    // A framework's hostname is used only when it has no PID (Mesos-DNS §1.5): look up nothing else.
    if (f && typeof f === "object") {
      if (typeof f.pid === "string" && f.pid !== "") pidHost(f.pid);
      else add(f.hostname);
    }
  }
  for (const a of Array.isArray(o.slaves) ? (o.slaves as Array<Record<string, unknown>>) : []) {
    if (a && typeof a === "object") pidHost(a.pid);
  }
  const out = new Map<string, string[]>();
  await Promise.all(
    [...hosts].slice(0, 1000).map(async (h) => {
      const r = await lookup(h, { all: true }).catch(() => []);
      if (r.length > 0) out.set(h, r.map((a) => a.address));
    }),
  );
  return out;
}

/** Names currently under dns/mesos/ in the store, with an encoding no real record set has, so each is rewritten or deleted. */
async function existingNames(store: () => ActorRef<StoreMsg> | undefined): Promise<Map<string, string>> {
  const ref = store();
  if (!ref) throw new Error("the gossip store is not running");
  const keys = await ref.ask<readonly string[]>((reply) => ({ type: "keys", prefix: MESOS_RECORDS_PREFIX, reply }), 30_000);
  return new Map(keys.map((k) => [k.slice(MESOS_RECORDS_PREFIX.length), ""]));
}
