// The raw Mesos state (agents, frameworks, tasks exactly as the Operator API sends them) and a pure
// reducer folding Operator API events into it (dcos-net §7 "Events handled").
import { asArray, get, isObject, nonEmptyString, type JsonObject } from "./json.js";

export interface MesosState {
  readonly agents: readonly unknown[];
  readonly frameworks: readonly unknown[];
  readonly tasks: readonly unknown[];
}

export const EMPTY_STATE: MesosState = { agents: [], frameworks: [], tasks: [] };

/**
 * Extract the three lists from a GET_STATE response, a SUBSCRIBED event, or a bare `get_state`
 * object. Tasks come from `get_tasks.tasks`, else `get_tasks.launched_tasks` (agent GET_STATE).
 */
export function mesosStateFromGetState(json: unknown): MesosState {
  const gs = get(json, "get_state") ?? get(json, "subscribed", "get_state") ?? json;
  const tasks = get(gs, "get_tasks", "tasks");
  return {
    agents: asArray(get(gs, "get_agents", "agents")),
    frameworks: asArray(get(gs, "get_frameworks", "frameworks")),
    tasks: Array.isArray(tasks) ? tasks : asArray(get(gs, "get_tasks", "launched_tasks")),
  };
}

const TERMINAL = new Set([
  "TASK_FINISHED", "TASK_FAILED", "TASK_KILLED", "TASK_LOST",
  "TASK_ERROR", "TASK_DROPPED", "TASK_GONE", "TASK_GONE_BY_OPERATOR",
]);

/** Mesos task state string → model state (isTerminalState of Mesos 1.5 protobuf_utils.cpp). */
export function mapTaskState(s: unknown): "preparing" | "running" | "killing" | "terminal" {
  if (s === "TASK_RUNNING") return "running";
  if (s === "TASK_KILLING") return "killing";
  return typeof s === "string" && TERMINAL.has(s) ? "terminal" : "preparing";
}

const taskKey = (t: unknown): string | undefined => {
  const f = nonEmptyString(get(t, "framework_id", "value"));
  const id = nonEmptyString(get(t, "task_id", "value"));
  return f && id ? `${f}/${id}` : undefined;
};
const agentKey = (a: unknown): string | undefined => nonEmptyString(get(a, "agent_info", "id", "value"));
const frameworkKey = (f: unknown): string | undefined => nonEmptyString(get(f, "framework_info", "id", "value"));

/** Replace (or append) the element whose key is `key`; drop it when `value` is undefined. */
function upsert(list: readonly unknown[], keyOf: (v: unknown) => string | undefined, key: string, value?: unknown) {
  const i = list.findIndex((v) => keyOf(v) === key);
  if (i < 0) return value === undefined ? list : [...list, value];
  const out = [...list];
  if (value === undefined) out.splice(i, 1);
  else out[i] = value;
  return out;
}

const timestamp = (s: unknown): number => {
  const t = get(s, "timestamp");
  return typeof t === "number" && Number.isFinite(t) ? t : -Infinity;
};

/** The status with the greatest `timestamp` (the task object itself when it has no statuses). */
export function latestStatus(task: unknown): unknown {
  const statuses = asArray(get(task, "statuses")).filter(isObject);
  let best: unknown = statuses.length === 0 ? task : statuses[0];
  for (const s of statuses) if (timestamp(s) > timestamp(best)) best = s;
  return best;
}

/**
 * A TASK_UPDATED applied to the stored task: the event's top-level `state` wins (DCOS_OSS-3539);
 * only the latest status is kept, inheriting `container_status`/`healthy` when the new one lacks
 * them (dcos-net keeps the previous IPs and health when an update carries none).
 */
function updateTask(prev: unknown, frameworkId: unknown, status: JsonObject, state: unknown): JsonObject {
  const base: JsonObject = isObject(prev)
    ? prev
    : { task_id: status["task_id"], framework_id: frameworkId, agent_id: status["agent_id"] };
  const last = asArray(base["statuses"]).length > 0 ? latestStatus(base) : undefined;
  let next: JsonObject = status;
  if (isObject(last) && timestamp(last) > timestamp(status)) next = last;
  else if (isObject(last)) {
    next = { ...status };
    for (const k of ["container_status", "healthy"]) if (next[k] === undefined && last[k] !== undefined) next[k] = last[k];
  }
  return { ...base, state: state ?? status["state"], statuses: [next] };
}

interface AppliedEvent {
  readonly state: MesosState;
  /** The raw task a TASK_ADDED/TASK_UPDATED touched (also when it became terminal and was dropped). */
  readonly task?: unknown;
}

function applyTask(state: MesosState, task: unknown): AppliedEvent {
  const key = taskKey(task);
  if (key === undefined) return { state, task };
  const terminal = mapTaskState(get(task, "state")) === "terminal";
  return { state: { ...state, tasks: upsert(state.tasks, taskKey, key, terminal ? undefined : task) }, task };
}

function applyTaskUpdated(state: MesosState, ev: unknown): AppliedEvent {
  const status = get(ev, "status");
  const fid = get(ev, "framework_id");
  const tid = nonEmptyString(get(status, "task_id", "value"));
  const fv = nonEmptyString(get(fid, "value"));
  if (!isObject(status) || !tid || !fv) return { state };
  const prev = state.tasks.find((t) => taskKey(t) === `${fv}/${tid}`);
  return applyTask(state, updateTask(prev, fid, status, get(ev, "state")));
}

/**
 * Fold one Operator API event into the state. Pure: returns a new state (unchanged lists shared).
 * Terminal tasks are dropped from the state; the touched task is returned so the caller can publish
 * its removal. Unknown or malformed events leave the state as it was. O(n) per event in the list size.
 */
export function applyEvent(state: MesosState, event: unknown): AppliedEvent {
  const set = (list: "agents" | "frameworks", keyOf: (v: unknown) => string | undefined, key: unknown, v?: unknown) =>
    typeof key === "string" && key.length > 0 ? { state: { ...state, [list]: upsert(state[list], keyOf, key, v) } } : { state };
  switch (get(event, "type")) {
    case "SUBSCRIBED":
      return { state: mesosStateFromGetState(event) };
    case "TASK_ADDED":
      return applyTask(state, get(event, "task_added", "task"));
    case "TASK_UPDATED":
      return applyTaskUpdated(state, get(event, "task_updated"));
    case "FRAMEWORK_ADDED":
    case "FRAMEWORK_UPDATED": {
      const f = get(event, "framework_added", "framework") ?? get(event, "framework_updated", "framework");
      return set("frameworks", frameworkKey, frameworkKey(f), f);
    }
    case "FRAMEWORK_REMOVED":
      return set("frameworks", frameworkKey, get(event, "framework_removed", "framework_info", "id", "value"));
    case "AGENT_ADDED": {
      const a = get(event, "agent_added", "agent");
      return set("agents", agentKey, agentKey(a), a);
    }
    case "AGENT_REMOVED":
      return set("agents", agentKey, get(event, "agent_removed", "agent_id", "value"));
    default:
      return { state };
  }
}
