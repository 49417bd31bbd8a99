// The Mesos Operator API listener (dcos_net_mesos_listener's job), run on master nodes: follows the
// SUBSCRIBE stream of the configured master(s). A non-leading master answers 307, so the node whose
// stream is open is the leader. Tasks are published — as this node's facts, source "operator" —
// only in the `serve` phase (readiness.ts), so a failover never publishes an empty or partial
// table; when the stream drops, the last good table stays until another node has taken over.
import type { Logger } from "pino";
import type { Behaviour } from "../../../supervisors/index.js";
import type { UpdateOp } from "../../gossip/index.js";
import { LEADER_KEY, TASKS_PREFIX, parseTaskKey, taskKey } from "../keys.js";
import { subscribe, type MesosEvent } from "./stream.js";
import { applyEvent, EMPTY_STATE, type MesosState } from "../convert/mesos-state.js";
import { tasksFromMesosState } from "../convert/mesos-tasks.js";
import { Backoff } from "./backoff.js";
import { NotLeaderError } from "./errors.js";
import { afterSubscribed, agentAdded, tick, recoveredAgentIds, addedAgentId, type Phase } from "./readiness.js";
import { publishTasks, hostResolver } from "./publish.js";
import type { MesosSourceDeps } from "./publish.js";
import { counter } from "../../../observability/metrics.js";
import { storeWriter, type WriteFn } from "../store-writer.js";


type ListenerMsg =
  | { readonly type: "event"; readonly ev: MesosEvent; readonly master: string }
  | { readonly type: "ended"; readonly master: string; readonly error?: string; readonly notLeader: boolean }
  | { readonly type: "tick" };

interface ListenerState {
  mesos: MesosState;
  phase: Phase;
  dirty: boolean;
  leaderOf?: string;
  lastEnd?: string;
  readonly written: Map<string, string>;
  readonly abort: AbortController;
  readonly timer: NodeJS.Timeout;
}

type ListenerDeps = MesosSourceDeps;

export function listenerBehaviour(deps: ListenerDeps): Behaviour<ListenerState, ListenerMsg> {
  const events = counter(deps.metrics, "dcnet_catalogue_operator_events_total", "Mesos Operator API events by type", ["type"]);
  const problems = counter(deps.metrics, "dcnet_catalogue_problems_total", "Mesos items skipped as malformed", ["source"]);
  const write = storeWriter(deps.store);
  const readiness = { agentsReadinessMs: deps.config.agentsReadinessMs, tasksReadinessMs: deps.config.tasksReadinessMs };
  return {
    async init(ctx) {
      const written = new Map<string, string>();
      const keys = (await deps.store()?.ask<readonly string[]>((reply) => ({ type: "keys", prefix: `${TASKS_PREFIX}${deps.nodeId}/operator/`, reply }), 15_000)) ?? [];
      for (const k of keys) {
        const p = parseTaskKey(k);
        if (p) written.set(p.id, "");
      }
      const abort = new AbortController();
      void streamLoop(deps, abort.signal, (m) => ctx.self.tell(m));
      const timer = setInterval(() => ctx.self.tell({ type: "tick" }), 200);
      timer.unref();
      return { mesos: EMPTY_STATE, phase: { kind: "connecting" }, dirty: false, written, abort, timer };
    },
    async handle(state, msg) {
      switch (msg.type) {
        case "event":
          onEvent(state, msg.ev, msg.master, readiness, deps.logger);
          events.inc({ type: typeof msg.ev.type === "string" ? msg.ev.type : "unknown" });
          return state;
        case "ended":
          await onEnded(state, msg, deps, write);
          return state;
        case "tick": {
          const before = state.phase.kind;
          state.phase = tick(state.phase, Date.now(), readiness);
          if (state.phase.kind === "serve" && before !== "serve") {
            deps.logger.info({ master: state.leaderOf, tasks: state.mesos.tasks.length }, "mesos listener ready: publishing the task table");
            await write(LEADER_KEY, [{ op: "set", field: "node", value: deps.nodeId }, { op: "set", field: "master", value: state.leaderOf ?? "" }] as UpdateOp[]);
          }
          if (state.phase.kind === "serve" && state.dirty) {
            state.dirty = false;
            const result = tasksFromMesosState(state.mesos, { resolveHost: await hostResolver(state.mesos) });
            if (result.problems.length > 0) problems.inc({ source: "operator" }, result.problems.length);
            await publishTasks(state.written, result.tasks.filter((t) => t.state !== "terminal"), write, deps.nodeId, "operator");
          }
          return state;
        }
      }
    },
    terminate(state) {
      state.abort.abort();
      clearInterval(state.timer);
    },
    handlerDeadlineMs: 60_000,
    background: (msg) => msg.type === "tick", // every 200 ms; not traced by default (observability/README.md § Sampling)
  };
}

function onEvent(state: ListenerState, ev: MesosEvent, master: string, readiness: Parameters<typeof tick>[2], log: Logger): void {
  const now = Date.now();
  if (ev.type === "SUBSCRIBED") {
    state.mesos = applyEvent(EMPTY_STATE, ev).state;
    state.phase = afterSubscribed(recoveredAgentIds(ev), now, readiness);
    state.leaderOf = master;
    state.dirty = true;
    log.info({ master, phase: state.phase.kind, agents: state.mesos.agents.length, tasks: state.mesos.tasks.length }, "subscribed to the leading Mesos master");
    return;
  }
  if (ev.type === "HEARTBEAT") return;
  state.mesos = applyEvent(state.mesos, ev).state;
  const agent = ev.type === "AGENT_ADDED" ? addedAgentId(ev) : undefined;
  if (agent) state.phase = agentAdded(state.phase, agent, now, readiness);
  state.dirty = true;
}

async function onEnded(state: ListenerState, msg: Extract<ListenerMsg, { type: "ended" }>, deps: ListenerDeps, write: WriteFn): Promise<void> {
  const what = msg.notLeader ? "not the leader" : (msg.error ?? "stream closed");
  if (what !== state.lastEnd) deps.logger.warn({ master: msg.master, reason: what, published: state.written.size }, "mesos stream ended; keeping the last good table");
  state.lastEnd = what;
  state.phase = { kind: "connecting" };
  state.leaderOf = undefined;
  if (!msg.notLeader || state.written.size === 0) return;
  // Another master leads now: withdraw our table once another node has published one, so the
  // catalogue is never empty in between.
  const keys = (await deps.store()?.ask<readonly string[]>((reply) => ({ type: "keys", prefix: TASKS_PREFIX, reply }), 15_000)) ?? [];
  const taken = keys.some((k) => {
    const p = parseTaskKey(k);
    return p !== undefined && p.source === "operator" && p.owner !== deps.nodeId;
  });
  if (!taken) return;
  for (const id of [...state.written.keys()]) {
    await write(taskKey(deps.nodeId, id, "operator"), [{ op: "delete-key" }]);
    state.written.delete(id);
  }
  deps.logger.info({ master: msg.master }, "another node leads the Mesos stream; withdrew this node's table");
}

/** Subscribes to each configured master in turn, forever, with jittered backoff between tries. */
async function streamLoop(deps: ListenerDeps, signal: AbortSignal, tell: (m: ListenerMsg) => void): Promise<void> {
  const backoff = new Backoff({ initialMs: 500, maxMs: 30_000 });
  for (let i = 0; !signal.aborted; i++) {
    const master = deps.config.masters[i % deps.config.masters.length] as string;
    let records = 0;
    let notLeader = false;
    try {
      const end = await subscribe(master, {
        signal,
        timeoutMs: deps.config.timeoutMs,
        ...(deps.config.token ? { token: deps.config.token } : {}),
        onRecord: (ev) => {
          records++;
          tell({ type: "event", ev, master });
        },
        onProblem: (p) => deps.logger.warn({ master, problem: p.kind, excerpt: p.excerpt }, "skipped a malformed Mesos event"),
      });
      if (end.reason === "aborted") return;
      tell({ type: "ended", master, notLeader: false });
    } catch (err) {
      if (signal.aborted) return;
      notLeader = err instanceof NotLeaderError;
      tell({ type: "ended", master, notLeader, error: (err as Error).message });
    }
    if (records > 0) backoff.reset();
    // A standby master answers 307 at once: ask again soon (a failover is noticed within ~1.5 s)
    // rather than backing off as for a broken master.
    const wait = notLeader ? 1000 + Math.random() * 500 : backoff.next();
    await new Promise((r) => setTimeout(r, wait).unref());
  }
}
