// Pure conversion of raw Mesos Operator API JSON into the Task model (dcos-net §3.1, §7:
// dcos_net_mesos_listener.erl task/4 and from_state/1). Never throws: malformed items are
// skipped and reported as Problems.
import { taskSchema, type Task } from "../model.js";
import type { ConversionProblem } from "./vips.js";
import { asArray, get, ipFamily, isObject, nonEmptyString, show } from "./json.js";
import { taskPorts } from "./mesos-ports.js";
import { latestStatus, mapTaskState, type MesosState } from "./mesos-state.js";


interface ConvertOptions {
  /** Resolve an agent hostname that is not an IP literal (dcos-net asks dcos-dns); undefined = unresolvable. */
  resolveHost?: (hostname: string) => string | undefined;
}

/** An agent as the conversion needs it: `ip` undefined when its hostname could not be resolved. */
interface MesosAgent {
  readonly id: string;
  readonly hostname?: string;
  readonly ip?: string;
}

interface MesosFramework {
  readonly id: string;
  readonly name: string;
}

interface TaskResult {
  /** The converted task (state "terminal" included: the caller removes it). */
  task?: Task;
  /** Set when the task was skipped. */
  problem?: ConversionProblem;
  /** Parts of a converted task that were dropped (bad port, malformed VIP label, ...). */
  warnings?: ConversionProblem[];
  /** The task's agent or framework is not known (yet); not an error. */
  waiting?: "agent" | "framework";
}

function resolve(hostname: string | undefined, opts: ConvertOptions): string | undefined {
  if (hostname === undefined) return undefined;
  if (ipFamily(hostname) !== undefined) return hostname;
  try {
    const ip = opts.resolveHost?.(hostname);
    return ipFamily(ip) !== undefined ? ip : undefined;
  } catch {
    return undefined;
  }
}

/** `agent_info.id.value` and `agent_info.hostname` (an IP, else resolved with opts.resolveHost). */
export function agentFromMesos(raw: unknown, opts: ConvertOptions = {}): { agent?: MesosAgent; problem?: ConversionProblem } {
  const id = nonEmptyString(get(raw, "agent_info", "id", "value"));
  if (id === undefined) return { problem: { item: "agent ?", message: `no agent_info.id.value in ${show(raw)}` } };
  const hostname = nonEmptyString(get(raw, "agent_info", "hostname"));
  const ip = resolve(hostname, opts);
  const agent: MesosAgent = { id, hostname, ip };
  if (ip !== undefined) return { agent };
  const why = hostname === undefined ? "has no agent_info.hostname" : `hostname ${show(hostname)} is unresolvable`;
  return { agent, problem: { item: `agent ${id}`, message: why } };
}

/** `framework_info.id.value` and `framework_info.name`. */
export function frameworkFromMesos(raw: unknown): { framework?: MesosFramework; problem?: ConversionProblem } {
  const id = nonEmptyString(get(raw, "framework_info", "id", "value"));
  if (id === undefined) return { problem: { item: "framework ?", message: `no framework_info.id.value in ${show(raw)}` } };
  const name = nonEmptyString(get(raw, "framework_info", "name"));
  if (name === undefined || name.length > 253) {
    return { problem: { item: `framework ${id}`, message: "framework_info.name missing or longer than 253" } };
  }
  return { framework: { id, name } };
}

/** Index raw agents by id (agents with an unresolvable hostname are kept, ip undefined). */
function indexAgents(raws: readonly unknown[], opts: ConvertOptions = {}) {
  const agents = new Map<string, MesosAgent>();
  const problems: ConversionProblem[] = [];
  for (const raw of asArray(raws)) {
    const r = agentFromMesos(raw, opts);
    if (r.agent) agents.set(r.agent.id, r.agent);
    if (r.problem) problems.push(r.problem);
  }
  return { agents, problems };
}

function indexFrameworks(raws: readonly unknown[]) {
  const frameworks = new Map<string, MesosFramework>();
  const problems: ConversionProblem[] = [];
  for (const raw of asArray(raws)) {
    const r = frameworkFromMesos(raw);
    if (r.framework) frameworks.set(r.framework.id, r.framework);
    if (r.problem) problems.push(r.problem);
  }
  return { frameworks, problems };
}

/** Latest status `container_status.network_infos[].ip_addresses[].ip_address`, valid IPs only, deduped. */
function taskIpsOf(status: unknown): string[] {
  const ips = new Set<string>();
  for (const ni of asArray(get(status, "container_status", "network_infos"))) {
    for (const a of asArray(get(ni, "ip_addresses"))) {
      const ip = get(a, "ip_address");
      if (typeof ip === "string" && ipFamily(ip) !== undefined) ips.add(ip.toLowerCase());
    }
  }
  return [...ips].slice(0, 16);
}

/** Latest status `healthy`; else false when a health check is defined; else undefined. */
function healthOf(task: unknown, status: unknown): boolean | undefined {
  const h = get(status, "healthy");
  if (typeof h === "boolean") return h;
  return isObject(task) && task["health_check"] !== undefined ? false : undefined;
}

/**
 * The task's Marathon-LB labels (`labels.labels[]` of the TaskInfo: Marathon copies the app's labels
 * there): only `HAPROXY_*` keys, the ones the L7 edge reads, so other labels do not grow every record.
 * An entry that is not a string pair within the model's limits is skipped with a warning.
 */
function labelsOf(task: unknown, warn: (message: string) => void): Record<string, string> | undefined {
  const out: Record<string, string> = {};
  let n = 0;
  for (const l of asArray(get(task, "labels", "labels"))) {
    const key = get(l, "key");
    const value = get(l, "value") ?? "";
    if (typeof key !== "string" || !key.startsWith("HAPROXY_")) continue;
    if (typeof value !== "string" || key.length > 255 || value.length > 4096) {
      warn(`label ${show(key).slice(0, 80)} skipped: not a string pair within 255/4096 characters`);
      continue;
    }
    out[key] = value;
    n++;
  }
  return n > 0 ? out : undefined;
}

function runtimeOf(task: unknown): string {
  const t = get(task, "container", "type");
  if (typeof t !== "string" || t.length === 0 || t === "MESOS") return "mesos";
  return t === "DOCKER" ? "docker" : t.toLowerCase().slice(0, 32);
}

/** Task lookup: ids, agent, framework. A string result is the reason the task is skipped. */
function locate(raw: unknown, agents: ReadonlyMap<string, MesosAgent>, frameworks: ReadonlyMap<string, MesosFramework>, opts: ConvertOptions) {
  const fid = nonEmptyString(get(raw, "framework_id", "value"));
  const tid = nonEmptyString(get(raw, "task_id", "value"));
  const item = `task ${fid ?? "?"}/${tid ?? "?"}`;
  if (!isObject(raw)) return { item, fail: `not an object: ${show(raw)}` };
  if (fid === undefined || tid === undefined) return { item, fail: "missing framework_id.value or task_id.value" };
  const agentId = nonEmptyString(get(raw, "agent_id", "value"));
  if (agentId === undefined) return { item, fail: "missing agent_id.value" };
  const agent = agents.get(agentId);
  if (agent === undefined) return { item, waiting: "agent" as const };
  const framework = frameworks.get(fid);
  if (framework === undefined) return { item, waiting: "framework" as const };
  const agentIp = agent.ip ?? resolve(agent.hostname, opts);
  if (agentIp === undefined) return { item, fail: `agent ${agentId} hostname ${show(agent.hostname ?? null)} is unresolvable` };
  return { item, id: `${fid}/${tid}`, agentIp, framework: framework.name };
}

/** Convert one raw Mesos task (as in get_tasks.tasks / TASK_ADDED). */
export function taskFromMesos(
  rawTask: unknown,
  agentsById: ReadonlyMap<string, MesosAgent>,
  frameworksById: ReadonlyMap<string, MesosFramework>,
  opts: ConvertOptions = {},
): TaskResult {
  try {
    const loc = locate(rawTask, agentsById, frameworksById, opts);
    if (loc.waiting) return { waiting: loc.waiting };
    if (loc.fail !== undefined || loc.id === undefined) return { problem: { item: loc.item, message: loc.fail ?? "?" } };
    const status = latestStatus(rawTask);
    const name = nonEmptyString(get(rawTask, "discovery", "name")) ?? nonEmptyString(get(rawTask, "name"));
    if (name === undefined) return { problem: { item: loc.item, message: "missing name" } };
    const state = mapTaskState(get(rawTask, "state") ?? get(status, "state"));
    const ips = taskIpsOf(status);
    const taskIps = ips.length > 0 ? ips : [loc.agentIp];
    const onHostNetwork = taskIps.length === 1 && taskIps[0] === loc.agentIp;
    const warnings: ConversionProblem[] = [];
    const warn = (message: string) => void warnings.push({ item: loc.item, message });
    const ports = taskPorts(rawTask, status, { framework: loc.framework, state, onHostNetwork }, warn);
    const task: Task = { id: loc.id, name, framework: loc.framework, runtime: runtimeOf(rawTask), agentIp: loc.agentIp, taskIps, state, ports };
    const healthy = healthOf(rawTask, status);
    if (healthy !== undefined) task.healthy = healthy;
    const labels = labelsOf(rawTask, warn);
    if (labels) task.labels = labels;
    const checked = taskSchema.safeParse(task);
    if (!checked.success) {
      const issue = checked.error.issues[0];
      return { problem: { item: loc.item, message: `invalid ${issue?.path.join(".") ?? ""}: ${issue?.message ?? "?"}` } };
    }
    return warnings.length > 0 ? { task, warnings } : { task };
  } catch (err) {
    // Defence in depth: the readers above do not throw, but a converter must never take the listener down.
    return { problem: { item: "task ?", message: `conversion failed: ${String(err)}` } };
  }
}

interface StateResult {
  tasks: Task[];
  problems: ConversionProblem[];
  /** Ids of tasks whose agent or framework is absent from the snapshot (dcos-net drops them too). */
  waiting: string[];
}

/** Convert a whole snapshot (GET_STATE / SUBSCRIBED lists). */
export function tasksFromMesosState(state: MesosState, opts: ConvertOptions = {}): StateResult {
  const a = indexAgents(asArray(get(state, "agents")), opts);
  const f = indexFrameworks(asArray(get(state, "frameworks")));
  const problems = [...a.problems, ...f.problems];
  const tasks: Task[] = [];
  const waiting: string[] = [];
  for (const raw of asArray(get(state, "tasks"))) {
    const r = taskFromMesos(raw, a.agents, f.frameworks, opts);
    if (r.task) tasks.push(r.task);
    if (r.problem) problems.push(r.problem);
    if (r.warnings) problems.push(...r.warnings);
    if (r.waiting) waiting.push(`${nonEmptyString(get(raw, "framework_id", "value"))}/${nonEmptyString(get(raw, "task_id", "value"))}`);
  }
  return { tasks, problems, waiting };
}
