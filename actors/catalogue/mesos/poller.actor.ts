// The Mesos agent poller (dcos_l4lb_mesos_poller's job): every `mesos.pollMs` this node asks its
// own agent for GET_STATE, converts the tasks it runs, and writes the difference into the store as
// this node's facts (tasks/<node>/mesos/<id>). Failures back off with jitter up to maxBackoffMs and
// change nothing: the last good tasks stay published. Bad items are skipped with a log line.
import type { ActorRef, Behaviour } from "../../../supervisors/index.js";
import type { StoreMsg } from "../../gossip/index.js";
import { parseTaskKey, sourcePrefix } from "../keys.js";
import { storeWriter } from "../store-writer.js";
import { mesosCallBytes, parseAnswer } from "./stream.js";
import { mesosStateFromGetState } from "../convert/mesos-state.js";
import { agentHostnames, answerDigest, publishTasks, resolveHosts } from "./publish.js";
import type { MesosSourceDeps } from "./publish.js";
import { counter } from "../../../observability/metrics.js";
import { tasksFromMesosState } from "../convert/mesos-tasks.js";
import { Backoff } from "./backoff.js";
import { StoreUnavailableError } from "../../gossip/index.js";

type PollerMsg = { readonly type: "poll" };

interface PollerState {
  /** Task id → the digest of the JSON last written (publish.ts), so unchanged tasks are not rewritten. */
  readonly written: Map<string, string>;
  readonly backoff: Backoff;
  timer?: NodeJS.Timeout;
  lastError?: string;
  /**
   * The answerDigest whose tasks are published: a poll with the same digest changes nothing and is
   * neither parsed nor converted. Set only once its publish succeeded, so a failed write is retried.
   */
  published?: string;
  /** Whether that answer needed GET_AGENT (an agent's GET_STATE has no agents list). */
  askedAgent: boolean;
  /** Its agent hostnames that are names: resolved again at every poll, a new address is a change. */
  hostnames: readonly string[];
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
      return { written, backoff: new Backoff({ initialMs: deps.config.pollMs, maxMs: deps.config.maxBackoffMs }), askedAgent: false, hostnames: [] };
    },
    async handle(state, _msg, ctx) {
      let delay = deps.config.pollMs;
      try {
        const call = { timeoutMs: deps.config.timeoutMs, ...(deps.config.token ? { token: deps.config.token } : {}) };
        const getState = await mesosCallBytes(deps.agent, { type: "GET_STATE" }, call);
        // Asked as the last answer needed it: an equal GET_STATE needs it again, a different one is parsed.
        let getAgent = state.askedAgent ? await mesosCallBytes(deps.agent, { type: "GET_AGENT" }, call) : undefined;
        const seen = answerDigest(getAgent ? [getState, getAgent] : [getState], await resolveHosts(state.hostnames));
        if (seen !== state.published) {
          let mesos = mesosStateFromGetState(parseAnswer(deps.agent, getState));
          // An agent's GET_STATE has no agents list (a master's does): GET_AGENT says who this agent is.
          const askAgent = mesos.agents.length === 0;
          if (askAgent) {
            getAgent ??= await mesosCallBytes(deps.agent, { type: "GET_AGENT" }, call);
            mesos = { ...mesos, agents: agentOf(parseAnswer(deps.agent, getAgent)) };
          }
          const hostnames = agentHostnames(mesos);
          const resolved = await resolveHosts(hostnames);
          const result = tasksFromMesosState(mesos, { resolveHost: (host) => resolved.get(host) });
          if (result.problems.length > 0) {
            problems.inc({ source: "agent" }, result.problems.length);
            deps.logger.warn({ count: result.problems.length, first: result.problems[0] }, "skipped malformed items in the agent's state");
          }
          await publishTasks(state.written, result.tasks.filter((t) => t.state !== "terminal"), write, deps.nodeId, "mesos");
          state.published = answerDigest(askAgent && getAgent ? [getState, getAgent] : [getState], resolved);
          state.askedAgent = askAgent;
          state.hostnames = hostnames;
        }
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
