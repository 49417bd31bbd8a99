// The edge: follows the catalogue's tasks and the applied pools in the replicated store, plans what
// HAProxy should serve (pure: plan/), and drives one HAProxy master it supervises. Membership changes
// (scaling, task replacement, health, draining) go through the Runtime API only; a structural change
// (a new service, vhost, certificate, label edit, slots outgrown) is one validated reload through the
// master CLI, at most one per edge.minReloadIntervalMs. A config HAProxy refuses is never used: the
// running HAProxy keeps its last good one. A dead HAProxy is restarted from the current state.
import { existsSync, mkdirSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Logger } from "pino";
import type { Registry } from "prom-client";
import type { ActorRef, Behaviour, ReplyTo } from "../../supervisors/index.js";
import type { Config } from "../../config/index.js";
import type { StoreMsg, WatchEvent } from "../gossip/index.js";
import type { NamesBoard, PublishedNames } from "../l4lb/index.js";
import { StoreUnavailableError } from "../gossip/index.js";
import { readTask, TASKS_PREFIX, type Task } from "../catalogue/model.js";
import { Gauge } from "prom-client";
import { counter, gauge, getOrCreate } from "../../observability/metrics.js";
import { buildModel, type DesiredOptions } from "./plan/desired.js";
import { plan } from "./plan/planner.js";
import { readPool, type Pool } from "./plan/pool.js";
import { render, reloadReason, type RenderOptions, type Slots } from "./plan/render.js";
import type { EdgeModel, EdgeTask, Rejected } from "./plan/types.js";
import { reloadHaproxy, startHaproxy, validateConfig, type HaproxyCommand, type Running } from "./haproxy/process.js";
import { parseStat, runtimeCommands, type StatRow } from "./haproxy/runtime.js";

/** Where applied pools live in the replicated store: `edge/pools/<name>`, field `pool` (the document as applied). */
export const POOLS_PREFIX = "edge/pools/";

export interface EdgeStatus {
  readonly running: boolean;
  readonly pid?: number;
  readonly reloads: number;
  readonly restarts: number;
  readonly runtimeCommands: number;
  readonly lastReload?: { readonly at: number; readonly reason: string; readonly ok: boolean; readonly ms: number; readonly error?: string };
  readonly lastError?: string;
  readonly services: readonly { readonly backend: string; readonly owner: string; readonly mode: string; readonly slots: number; readonly used: number; readonly ready: number; readonly draining: number }[];
  readonly frontends: readonly { readonly name: string; readonly port: number; readonly mode: string; readonly routes: number }[];
  readonly rejected: readonly Rejected[];
  readonly pools: readonly string[];
}

export type EdgeMsg =
  | { readonly type: "task"; readonly ev: WatchEvent }
  | { readonly type: "pool"; readonly ev: WatchEvent }
  /** The named VIPs this node's L4LB has programmed (pool endpoints of type ADDRESS may name one). */
  | { readonly type: "names"; readonly names: PublishedNames }
  | { readonly type: "sync" }
  | { readonly type: "exited"; readonly gen: number; readonly how: string }
  | { readonly type: "restart" }
  | { readonly type: "status"; readonly reply: ReplyTo<EdgeStatus> }
  | { readonly type: "config"; readonly reply: ReplyTo<string | undefined> }
  | { readonly type: "stats"; readonly reply: ReplyTo<readonly StatRow[]> };

export interface EdgeDeps {
  readonly config: Config["edge"];
  readonly logger: Logger;
  readonly metrics: Registry;
  readonly store: () => ActorRef<StoreMsg> | undefined;
  /** This node's L4LB names board, when the node has one. */
  readonly board?: NamesBoard;
}

interface EdgeState {
  readonly tasks: Map<string, { readonly source: string; readonly task: Task }>;
  readonly pools: Map<string, Pool>;
  readonly badPools: Map<string, string>;
  /** Services and pools `haproxy -c` refused (found by leaving them out), with their input then: retried when it changes. */
  readonly refusedOwners: Map<string, { readonly reason: string; readonly signature: string }>;
  slots: Slots;
  /** Structure hash of what HAProxy runs; undefined until it runs. */
  hash: string | undefined;
  sections: ReadonlyMap<string, string> | undefined;
  /** A structure HAProxy refused: not tried again until the structure changes. */
  refusedHash: string | undefined;
  text: string | undefined;
  model: EdgeModel;
  proc: Running | undefined;
  gen: number;
  scheduled: NodeJS.Timeout | undefined;
  lastReloadAt: number;
  reloads: number;
  restarts: number;
  recentRestarts: number[];
  runtimeCmds: number;
  lastReload: EdgeStatus["lastReload"];
  lastError: string | undefined;
  stopping: boolean;
  readonly rejectedSeen: Set<string>;
  readonly watchIds: number[];
  names: PublishedNames;
  unsubscribeNames: (() => void) | undefined;
}

const EMPTY: EdgeModel = { frontends: [], backends: [], rejected: [] };

/** Which copy of a task the edge reads when sources disagree: higher wins. */
function sourceRank(source: string): number {
  // Marathon's copy carries every app label and the service ports; the node-local sources' copy
  // (agent, registration) beats the master stream's, as for the VIP table.
  return source === "marathon" ? 2 : source === "operator" ? 0 : 1;
}

function edgeTasks(tasks: EdgeState["tasks"]): EdgeTask[] {
  // One task may be in the store more than once (the master stream's copy, the agent's or a
  // registration, Marathon's): one copy per task id, by sourceRank.
  const by = new Map<string, { source: string; task: Task }>();
  for (const e of tasks.values()) {
    const prev = by.get(e.task.id);
    if (!prev || sourceRank(e.source) > sourceRank(prev.source)) by.set(e.task.id, e);
  }
  return [...by.values()].map(({ task: t }) => ({
    id: t.id,
    name: t.name,
    framework: t.framework,
    agentIp: t.agentIp,
    taskIps: t.taskIps,
    state: t.state,
    ...(t.healthy !== undefined ? { healthy: t.healthy } : {}),
    ...(t.labels ? { labels: t.labels } : {}),
    ports: t.ports,
  }));
}

export function edgeBehaviour(deps: EdgeDeps): Behaviour<EdgeState, EdgeMsg> {
  const cfg = deps.config;
  const log = deps.logger;
  const cmd: HaproxyCommand = { prefix: cfg.commandPrefix, binary: cfg.haproxy };
  const files = { cfg: join(cfg.runDir, "haproxy.cfg"), next: join(cfg.runDir, "haproxy.cfg.next"), master: join(cfg.runDir, "master.sock"), admin: join(cfg.runDir, "admin.sock") };
  const [hAddr, hPort] = (() => {
    const i = cfg.healthListen.lastIndexOf(":");
    return [cfg.healthListen.slice(0, i), Number(cfg.healthListen.slice(i + 1))] as const;
  })();
  const ropts: RenderOptions = {
    adminSocket: files.admin,
    hardStopAfterMs: cfg.hardStopAfterMs,
    maxReloads: cfg.maxReloads,
    health: { addr: hAddr, port: hPort },
    healthUri: cfg.healthUri,
    timeouts: cfg.timeouts,
    cookieKey: cfg.cookieKey,
  };
  const dopts: DesiredOptions = {
    groups: cfg.groups,
    strict: cfg.strictMode,
    httpPort: cfg.httpPort,
    httpsPort: cfg.httpsPort,
    bindAddr: cfg.bindAddress,
    reservedPorts: [hPort],
    certExists: (p) => existsSync(p),
    check: cfg.check,
  };
  const m = {
    reloads: counter(deps.metrics, "dcnet_edge_reloads_total", "HAProxy reloads by outcome (ok, refused: haproxy -c failed and the last good config stays, failed)", ["outcome"]),
    restarts: counter(deps.metrics, "dcnet_edge_haproxy_restarts_total", "HAProxy master processes restarted after they died"),
    runtime: counter(deps.metrics, "dcnet_edge_runtime_commands_total", "Runtime API commands sent (set server addr/state), by outcome", ["outcome"]),
    rejected: counter(deps.metrics, "dcnet_edge_rejected_total", "Services (labels) and pools rejected, by source, counted when first seen", ["source"]),
    rejectedNow: gauge(deps.metrics, "dcnet_edge_rejected", "Services and pools rejected right now, by source", ["source"]),
    backends: gauge(deps.metrics, "dcnet_edge_backends", "Backends HAProxy serves"),
    endpoints: gauge(deps.metrics, "dcnet_edge_endpoints", "Endpoints (task ports) in backends, by state", ["state"]),
  };

  const schedule = (s: EdgeState, self: ActorRef<EdgeMsg>, ms = cfg.debounceMs): void => {
    if (s.scheduled) return;
    s.scheduled = setTimeout(() => {
      s.scheduled = undefined;
      self.tell({ type: "sync" });
    }, ms);
  };

  const writeAtomically = (path: string, text: string): void => {
    const tmp = `${path}.tmp`;
    writeFileSync(tmp, text, { mode: 0o600 });
    renameSync(tmp, path);
  };

  const start = async (s: EdgeState, self: ActorRef<EdgeMsg>, text: string): Promise<void> => {
    writeAtomically(files.cfg, text);
    const gen = ++s.gen;
    const running = await startHaproxy(cmd, files.cfg, files.master, (line) => (/ALERT|WARNING.*(exit|fail|killed)/i.test(line) ? log.warn({ haproxy: line }, "haproxy") : log.debug({ haproxy: line }, "haproxy")));
    running.child.once("exit", (code, signal) => self.tell({ type: "exited", gen, how: signal ?? `code ${code}` }));
    s.proc = running;
    log.info({ pid: running.pid }, "haproxy started");
  };

  const noteRejected = (s: EdgeState, rejected: readonly Rejected[]): void => {
    const now = new Set<string>();
    const counts = { labels: 0, pool: 0 };
    for (const r of rejected) {
      const id = `${r.source} ${r.name} ${r.reason}`;
      now.add(id);
      counts[r.source]++;
      if (!s.rejectedSeen.has(id)) {
        m.rejected.inc({ source: r.source });
        log.warn({ source: r.source, name: r.name, reason: r.reason }, `edge: ${r.source === "pool" ? "pool" : "service"} ${r.name} rejected: ${r.reason}`);
      }
    }
    s.rejectedSeen.clear();
    for (const id of now) s.rejectedSeen.add(id);
    m.rejectedNow.set({ source: "labels" }, counts.labels);
    m.rejectedNow.set({ source: "pool" }, counts.pool);
  };

  /** What an owner's part of the model was made from: `labels:<framework>/<name>` → its tasks' labels; `pool:<name>` → the document. */
  const signature = (s: EdgeState, owner: string, tasks: readonly EdgeTask[]): string => {
    if (owner.startsWith("pool:")) return JSON.stringify(s.pools.get(owner.slice(5)) ?? null);
    const app = owner.slice("labels:".length);
    return JSON.stringify(tasks.filter((t) => `${t.framework}/${t.name}` === app).map((t) => Object.entries(t.labels ?? {}).sort()));
  };

  /** The model from the store's tasks and pools, without the owners in `exclude` (reported as rejected with their reason). */
  const build = (s: EdgeState, extra: ReadonlySet<string> = new Set()): EdgeModel => {
    const tasks = edgeTasks(s.tasks);
    for (const [owner, r] of s.refusedOwners) if (signature(s, owner, tasks) !== r.signature) s.refusedOwners.delete(owner);
    const out = new Set([...s.refusedOwners.keys(), ...extra]);
    const names = s.names;
    const built = buildModel(
      tasks.filter((t) => !out.has(`labels:${t.framework}/${t.name}`)),
      [...s.pools.values()].filter((p) => !out.has(`pool:${p.name}`)),
      { ...dopts, vipAddress: (n) => names.get(n)?.v4 ?? names.get(n)?.v6 },
    );
    const refused: Rejected[] = [...s.refusedOwners].map(([owner, r]) => ({ source: owner.startsWith("pool:") ? "pool" : "labels", name: owner.slice(owner.indexOf(":") + 1), reason: r.reason }));
    const badPools: Rejected[] = [...s.badPools].map(([name, reason]) => ({ source: "pool", name, reason }));
    return { ...built, rejected: [...built.rejected, ...badPools, ...refused] };
  };

  /**
   * `haproxy -c` refused the whole config: find the services or pools that make it fail by leaving
   * out, one at a time, each owner whose sections are new or changed (all owners when none is),
   * validating each try (Marathon-LB PR #481, on the in-memory model). Found ones are rejected with
   * HAProxy's words until their labels or document change; everything else goes on.
   */
  const isolate = async (s: EdgeState, model: EdgeModel, sections: ReadonlyMap<string, string>, problem: string): Promise<boolean> => {
    const changed = new Set<string>();
    const owners = new Set<string>();
    for (const b of model.backends) {
      owners.add(b.owner);
      if (s.sections?.get(`backend ${b.name}`) !== sections.get(`backend ${b.name}`)) changed.add(b.owner);
    }
    for (const f of model.frontends) {
      if (f.owner === "labels") continue;
      owners.add(f.owner);
      if (s.sections?.get(`frontend ${f.name}`) !== sections.get(`frontend ${f.name}`)) changed.add(f.owner);
    }
    const candidates = [...(changed.size > 0 ? changed : owners)].sort().slice(0, 16);
    const tryWithout = async (out: ReadonlySet<string>): Promise<boolean> => {
      const m = build(s, out);
      const r = render(m, plan(m, s.slots, cfg.minSlots).slots, ropts);
      writeFileSync(files.next, r.text, { mode: 0o600 });
      return (await validateConfig(cmd, files.next)) === undefined;
    };
    const tasks = edgeTasks(s.tasks);
    const reject = (owner: string) => s.refusedOwners.set(owner, { reason: `haproxy -c refused it: ${problem}`, signature: signature(s, owner, tasks) });
    for (const c of candidates) {
      if (await tryWithout(new Set([c]))) {
        reject(c);
        return true;
      }
    }
    if (candidates.length > 1 && (await tryWithout(new Set(candidates)))) {
      for (const c of candidates) reject(c);
      return true;
    }
    return false;
  };

  const sync = async (s: EdgeState, self: ActorRef<EdgeMsg>): Promise<void> => {
    if (s.stopping) return;
    const model = build(s);
    s.model = model;
    noteRejected(s, model.rejected);
    m.backends.set(model.backends.length);
    let ready = 0;
    let draining = 0;
    for (const b of model.backends)
      for (const e of b.endpoints) {
        if (e.state === "ready") ready++;
        else draining++;
      }
    m.endpoints.set({ state: "ready" }, ready);
    m.endpoints.set({ state: "drain" }, draining);

    const p = plan(model, s.slots, cfg.minSlots);
    const r = render(model, p.slots, ropts);
    if (!s.proc) {
      // Not running (first start, or a restart pending): the next start carries this state.
      if (s.hash === undefined && s.gen === 0) await firstStart(s, self, r.text, r.structureHash, r.sections, p.slots);
      return;
    }
    if (r.structureHash === s.hash) {
      await applyRuntime(s, self, p.cmds, p.slots, r.text);
      return;
    }
    if (r.structureHash === s.refusedHash) {
      // HAProxy refused this structure: membership still moves for the backends it has.
      await applyRuntime(s, self, p.cmds, keepSame(s.slots, p.slots), undefined);
      return;
    }
    const wait = s.lastReloadAt + cfg.minReloadIntervalMs - Date.now();
    if (wait > 0) {
      await applyRuntime(s, self, p.cmds, keepSame(s.slots, p.slots), undefined);
      schedule(s, self, wait);
      return;
    }
    await reload(s, self, r.text, r.structureHash, r.sections, p.slots);
  };

  /** Slots for backends the running HAProxy has with the same count (runtime-applied); the rest as they were. */
  const keepSame = (prev: Slots, next: Slots): Slots => {
    const out = new Map(prev);
    for (const [b, t] of next) if (prev.get(b)?.length === t.length) out.set(b, t);
    return out;
  };

  const applyRuntime = async (s: EdgeState, self: ActorRef<EdgeMsg>, cmds: readonly string[], slots: Slots, text: string | undefined): Promise<void> => {
    if (cmds.length > 0) {
      try {
        await runtimeCommands(files.admin, cmds);
        m.runtime.inc({ outcome: "ok" }, cmds.length);
        s.runtimeCmds += cmds.length;
      } catch (err) {
        m.runtime.inc({ outcome: "failed" }, cmds.length);
        s.lastError = `runtime API: ${(err as Error).message}`;
        log.warn({ err: (err as Error).message }, "runtime API refused a change; reloading from the full state");
        // The file carries every slot's contents: a reload restores the truth.
        s.slots = slots;
        s.hash = undefined;
        schedule(s, self, 0);
        return;
      }
    }
    s.slots = slots;
    if (text !== undefined) {
      s.text = text;
      // Kept current on disk too, so anything that reloads HAProxy from the file starts from the truth.
      if (cmds.length > 0) writeAtomically(files.cfg, text);
    }
  };

  const firstStart = async (s: EdgeState, self: ActorRef<EdgeMsg>, text: string, hash: string, sections: ReadonlyMap<string, string>, slots: Slots): Promise<void> => {
    writeFileSync(files.next, text, { mode: 0o600 });
    const problem = await validateConfig(cmd, files.next);
    if (problem) {
      s.lastError = `haproxy -c refused the config: ${problem}`;
      m.reloads.inc({ outcome: "refused" });
      log.error({ problem }, "haproxy -c refused the first config; looking for the services that make it fail");
      s.refusedHash = hash;
      if (await isolate(s, s.model, sections, problem)) schedule(s, self, 0);
      return;
    }
    try {
      await start(s, self, text);
    } catch (err) {
      s.lastError = (err as Error).message;
      log.error({ err: s.lastError }, "haproxy did not start; retrying");
      setTimeout(() => self.tell({ type: "restart" }), 1000);
      s.gen = Math.max(s.gen, 1);
      return;
    }
    Object.assign(s, { hash, sections, slots, text, lastReloadAt: Date.now() });
    s.lastReload = { at: Date.now(), reason: "start", ok: true, ms: 0 };
  };

  const reload = async (s: EdgeState, self: ActorRef<EdgeMsg>, text: string, hash: string, sections: ReadonlyMap<string, string>, slots: Slots): Promise<void> => {
    const reason = reloadReason(s.sections, sections);
    const t0 = performance.now();
    writeFileSync(files.next, text, { mode: 0o600 });
    const problem = await validateConfig(cmd, files.next);
    if (problem) {
      s.refusedHash = hash;
      s.lastError = `haproxy -c refused the config (${reason}): ${problem}`;
      s.lastReload = { at: Date.now(), reason, ok: false, ms: performance.now() - t0, error: problem };
      m.reloads.inc({ outcome: "refused" });
      log.error({ reason, problem }, "haproxy -c refused the new config; HAProxy keeps its last good one");
      if (await isolate(s, s.model, sections, problem)) schedule(s, self, 0);
      return;
    }
    renameSync(files.next, files.cfg);
    s.lastReloadAt = Date.now();
    try {
      const info = await reloadHaproxy(files.master);
      s.reloads++;
      Object.assign(s, { hash, sections, slots, text, refusedHash: undefined });
      s.lastReload = { at: Date.now(), reason, ok: true, ms: performance.now() - t0 };
      m.reloads.inc({ outcome: "ok" });
      log.info({ reason, ms: Math.round(performance.now() - t0), reloads: info.reloads, oldWorkers: info.oldWorkers.length }, "haproxy reloaded");
    } catch (err) {
      s.lastError = `reload: ${(err as Error).message}`;
      s.lastReload = { at: Date.now(), reason, ok: false, ms: performance.now() - t0, error: s.lastError };
      m.reloads.inc({ outcome: "failed" });
      log.error({ err: s.lastError }, "haproxy reload failed");
      schedule(s, self, cfg.minReloadIntervalMs);
    }
    void self;
  };

  const restart = async (s: EdgeState, self: ActorRef<EdgeMsg>): Promise<void> => {
    if (s.stopping || s.proc) return;
    const model = s.model;
    const p = plan(model, s.slots, cfg.minSlots);
    const r = render(model, p.slots, ropts);
    try {
      await start(s, self, r.text);
      Object.assign(s, { hash: r.structureHash, sections: r.sections, slots: p.slots, text: r.text });
      s.restarts++;
      m.restarts.inc();
      // Changes that came while it was down.
      schedule(s, self, 0);
    } catch (err) {
      s.lastError = (err as Error).message;
      log.error({ err: s.lastError }, "haproxy restart failed; retrying");
      setTimeout(() => self.tell({ type: "restart" }), 1000);
    }
  };

  return {
    handlerDeadlineMs: 60_000,
    async init(ctx) {
      const store = deps.store();
      if (!store) throw new StoreUnavailableError();
      mkdirSync(cfg.runDir, { recursive: true, mode: 0o700 });
      const s: EdgeState = {
        tasks: new Map(),
        pools: new Map(),
        badPools: new Map(),
        refusedOwners: new Map(),
        slots: new Map(),
        hash: undefined,
        sections: undefined,
        refusedHash: undefined,
        text: undefined,
        model: EMPTY,
        proc: undefined,
        gen: 0,
        scheduled: undefined,
        lastReloadAt: 0,
        reloads: 0,
        restarts: 0,
        recentRestarts: [],
        runtimeCmds: 0,
        lastReload: undefined,
        lastError: undefined,
        stopping: false,
        rejectedSeen: new Set(),
        watchIds: [],
        names: new Map(),
        unsubscribeNames: undefined,
      };
      s.unsubscribeNames = deps.board?.subscribe((names) => ctx.self.tell({ type: "names", names }));
      registerStats(deps.metrics, () => (s.proc ? files.admin : undefined));
      for (const [prefix, type] of [
        [TASKS_PREFIX, "task"],
        [POOLS_PREFIX, "pool"],
      ] as const) {
        s.watchIds.push(await store.ask<number>((reply) => ({ type: "watch", prefix, subscriber: (ev) => ctx.self.tell({ type, ev }), reply }), 60_000));
      }
      schedule(s, ctx.self, 0);
      return s;
    },
    async handle(s, msg, ctx) {
      switch (msg.type) {
        case "task": {
          const parts = msg.ev.key.slice(TASKS_PREFIX.length).split("/");
          const field = msg.ev.value?.["task"];
          const read = field?.type === "lww" ? readTask(field.value) : undefined;
          if (read?.ok && parts.length === 3) s.tasks.set(msg.ev.key, { source: parts[1] as string, task: read.task });
          else s.tasks.delete(msg.ev.key);
          schedule(s, ctx.self);
          return s;
        }
        case "pool": {
          const name = msg.ev.key.slice(POOLS_PREFIX.length);
          const field = msg.ev.value?.["pool"];
          s.pools.delete(name);
          s.badPools.delete(name);
          if (field?.type === "lww") {
            const r = readPool(field.value);
            if (r.ok) s.pools.set(name, r.pool);
            else s.badPools.set(name, r.reason);
          }
          schedule(s, ctx.self);
          return s;
        }
        case "names":
          s.names = msg.names;
          schedule(s, ctx.self);
          return s;
        case "sync":
          await sync(s, ctx.self);
          return s;
        case "exited": {
          if (msg.gen !== s.gen || s.stopping) return s;
          s.proc = undefined;
          s.lastError = `haproxy exited (${msg.how})`;
          const now = Date.now();
          s.recentRestarts = [...s.recentRestarts.filter((t) => now - t < 30_000), now];
          // Restart at once; only a crash loop backs off.
          const delay = s.recentRestarts.length <= 3 ? 0 : Math.min(5000, 250 * 2 ** (s.recentRestarts.length - 3));
          log.error({ how: msg.how, restartInMs: delay }, "haproxy exited; restarting from the current state");
          setTimeout(() => ctx.self.tell({ type: "restart" }), delay);
          return s;
        }
        case "restart":
          if (s.hash === undefined && s.gen <= 1 && !s.proc && s.text === undefined) {
            // Never started successfully: a first start again.
            s.gen = 0;
            await sync(s, ctx.self);
          } else await restart(s, ctx.self);
          return s;
        case "status":
          msg.reply(status(s));
          return s;
        case "config":
          msg.reply(s.text);
          return s;
        case "stats":
          msg.reply(s.proc ? parseStat((await runtimeCommands(files.admin, ["show stat"]))[0] ?? "") : []);
          return s;
      }
    },
    async terminate(s) {
      s.stopping = true;
      s.unsubscribeNames?.();
      if (s.scheduled) clearTimeout(s.scheduled);
      for (const id of s.watchIds) deps.store()?.tell({ type: "unwatch", id });
      const p = s.proc;
      s.proc = undefined;
      if (p && p.child.exitCode === null && p.child.signalCode === null) {
        const gone = new Promise<void>((r) => p.child.once("exit", () => r()));
        p.child.kill("SIGTERM");
        const t = setTimeout(() => p.child.kill("SIGKILL"), 3000);
        await gone;
        clearTimeout(t);
      }
    },
  };

  function status(s: EdgeState): EdgeStatus {
    return {
      running: s.proc !== undefined,
      ...(s.proc ? { pid: s.proc.pid } : {}),
      reloads: s.reloads,
      restarts: s.restarts,
      runtimeCommands: s.runtimeCmds,
      ...(s.lastReload ? { lastReload: s.lastReload } : {}),
      ...(s.lastError ? { lastError: s.lastError } : {}),
      services: s.model.backends.map((b) => {
        const table = s.slots.get(b.name) ?? [];
        return {
          backend: b.name,
          owner: b.owner,
          mode: b.mode,
          slots: table.length,
          used: table.filter((e) => e !== undefined).length,
          ready: b.endpoints.filter((e) => e.state === "ready").length,
          draining: b.endpoints.filter((e) => e.state === "drain").length,
        };
      }),
      frontends: s.model.frontends.map((f) => ({ name: f.name, port: f.port, mode: f.mode, routes: f.routes.length })),
      rejected: s.model.rejected,
      pools: [...s.pools.keys()].sort(),
    };
  }
}

/** HAProxy's stats (read from the Runtime API at scrape time) as the node's Prometheus metrics. */
const statsSockets = new WeakMap<Registry, () => string | undefined>();

function registerStats(registry: Registry, socket: () => string | undefined): void {
  statsSockets.set(registry, socket);
  if (registry.getSingleMetric("dcnet_edge_haproxy_current_sessions")) return;
  let rows: StatRow[] = [];
  let at = 0;
  let pending: Promise<void> | undefined;
  // One `show stat` per scrape, shared by every metric below.
  const refresh = (): Promise<void> => {
    if (Date.now() - at < 500) return pending ?? Promise.resolve();
    at = Date.now();
    pending = (async () => {
      const path = statsSockets.get(registry)?.();
      try {
        rows = path ? parseStat((await runtimeCommands(path, ["show stat"], 1000))[0] ?? "") : [];
      } catch {
        rows = [];
      }
    })();
    return pending;
  };
  const mk = <L extends string>(name: string, help: string, labelNames: readonly L[], pick: (r: StatRow) => Array<[Record<L, string>, number]>): void => {
    getOrCreate(
      registry,
      name,
      () =>
        new Gauge<L>({
          name,
          help,
          labelNames,
          registers: [registry],
          async collect() {
            await refresh();
            this.reset();
            for (const r of rows) for (const [l, v] of pick(r)) this.set(l as never, v);
          },
        }),
    );
  };
  const isServer = (r: StatRow) => r.server !== "FRONTEND" && r.server !== "BACKEND";
  mk("dcnet_edge_haproxy_current_sessions", "HAProxy current sessions per frontend, backend and server (show stat scur)", ["proxy", "server"], (r) => [[{ proxy: r.proxy, server: r.server }, r.scur]]);
  mk("dcnet_edge_haproxy_sessions", "HAProxy sessions since its worker started (show stat stot)", ["proxy", "server"], (r) => [[{ proxy: r.proxy, server: r.server }, r.stot]]);
  mk("dcnet_edge_haproxy_server_up", "1 when HAProxy sends to a server (UP, or `no check` when it has no health check), else 0; the status label says which (MAINT, DRAIN, DOWN, ...)", ["backend", "server", "status"], (r) => (isServer(r) ? [[{ backend: r.proxy, server: r.server, status: r.status }, r.status.startsWith("UP") || r.status === "no check" ? 1 : 0]] : []));
  mk("dcnet_edge_haproxy_http_responses", "HTTP responses by class since its worker started, per frontend and backend", ["proxy", "class"], (r) => (isServer(r) ? [] : (Object.entries(r.hrsp) as Array<[string, number]>).map(([c, v]) => [{ proxy: r.proxy, class: c }, v])));
  mk("dcnet_edge_haproxy_connection_errors", "Connection errors to servers per backend (show stat econ)", ["proxy"], (r) => (r.server === "BACKEND" ? [[{ proxy: r.proxy }, r.econ]] : []));
}
