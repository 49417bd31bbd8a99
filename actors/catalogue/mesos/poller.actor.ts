// The Mesos agent poller (dcos_l4lb_mesos_poller's job): every `mesos.pollMs` this node asks its
// own agent for GET_STATE, converts the tasks it runs, and writes the difference into the store as
// this node's facts (tasks/<node>/mesos/<id>). Failures back off with jitter up to maxBackoffMs and
// change nothing: the last good tasks stay published. Bad items are skipped with a log line.
import type { ActorRef, Behaviour } from "../../../supervisors/index.js";
import type { StoreMsg } from "../../gossip/index.js";
import { parseTaskKey, sourcePrefix } from "../keys.js";
import { storeWriter } from "../store-writer.js";
import { mesosCall } from "./stream.js";
import { mesosStateFromGetState } from "../convert/mesos-state.js";
import { publishTasks, hostResolver } from "./publish.js";
import type { MesosSourceDeps } from "./publish.js";
import { counter } from "../../../observability/metrics.js";
import { tasksFromMesosState } from "../convert/mesos-tasks.js";
import { Backoff } from "./backoff.js";
import { StoreUnavailableError } from "../../gossip/index.js";

type PollerMsg = { readonly type: "poll" };

interface PollerState {
  /** Task id → the JSON last written, so unchanged tasks are not rewritten. */
  readonly written: Map<string, string>;
  readonly backoff: Backoff;
  timer?: NodeJS.Timeout;
  lastError?: string;
}

interface PollerDeps extends MesosSourceDeps {
  readonly agent: string;
}

export function pollerBehaviour(deps: PollerDeps): Behaviour<PollerState, PollerMsg> {
  const polls = counter(deps.metrics, "dcnet_catalogue_agent_polls_total", "Mesos agent polls by outcome", ["outcome"]);
  const problems = counter(deps.metrics, "dcnet_catalogue_problems_total", "Mesos items skipped as malformed", ["source"]);
  const store = (): ActorRef<StoreMsg> => {
    const ref = deps.store();
    if (!ref) throw new StoreUnavailableError();
    return ref;
  };
  const write = storeWriter(deps.store);
  return {
    async init(ctx) {
      // After a restart: what we published before is in the store; start the diff from there.
      const keys = await store().ask<readonly string[]>((reply) => ({ type: "keys", prefix: sourcePrefix(deps.nodeId, "mesos"), reply }), 15_000);
      const written = new Map<string, string>();
      for (const k of keys) {
        const p = parseTaskKey(k);
        if (p) written.set(p.id, "");
      }
      ctx.self.tell({ type: "poll" });
      return { written, backoff: new Backoff({ initialMs: deps.config.pollMs, maxMs: deps.config.maxBackoffMs }) };
    },
    async handle(state, _msg, ctx) {
      let delay = deps.config.pollMs;
      try {
        const call = { timeoutMs: deps.config.timeoutMs, ...(deps.config.token ? { token: deps.config.token } : {}) };
        let mesos = mesosStateFromGetState(await mesosCall(deps.agent, { type: "GET_STATE" }, call));
        // An agent's GET_STATE has no agents list (a master's does): GET_AGENT says who this agent is.
        if (mesos.agents.length === 0) mesos = { ...mesos, agents: agentOf(await mesosCall(deps.agent, { type: "GET_AGENT" }, call)) };
        const result = tasksFromMesosState(mesos, { resolveHost: await hostResolver(mesos) });
        if (result.problems.length > 0) {
          problems.inc({ source: "agent" }, result.problems.length);
          deps.logger.warn({ count: result.problems.length, first: result.problems[0] }, "skipped malformed items in the agent's state");
        }
        await publishTasks(state.written, result.tasks.filter((t) => t.state !== "terminal"), write, deps.nodeId, "mesos");
        polls.inc({ outcome: "ok" });
        if (state.lastError) deps.logger.info({ agent: deps.agent }, "mesos agent reachable again");
        state.lastError = undefined;
        state.backoff.reset();
      } catch (err) {
        polls.inc({ outcome: "error" });
        const message = (err as Error).message;
        // One line per kind of failure, not one per poll.
        if (message !== state.lastError) deps.logger.warn({ agent: deps.agent, err: message }, "mesos agent poll failed; keeping the last good tasks");
        state.lastError = message;
        delay = state.backoff.next();
      }
      clearTimeout(state.timer);
      state.timer = setTimeout(() => ctx.self.tell({ type: "poll" }), delay);
      state.timer.unref();
      return state;
    },
    terminate(state) {
      clearTimeout(state.timer);
    },
    handlerDeadlineMs: 60_000,
    background: (msg) => msg.type === "poll", // periodic; a change it finds is written and starts its own trace
  };
}

/** `get_agent.agent_info` of a GET_AGENT answer, as the one-element agents list the converter reads. */
function agentOf(json: unknown): unknown[] {
  const info = (json as { get_agent?: { agent_info?: unknown } } | undefined)?.get_agent?.agent_info;
  return info === undefined ? [] : [{ agent_info: info }];
}
