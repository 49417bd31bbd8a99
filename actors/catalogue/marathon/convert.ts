// Pure: Marathon's app list (`GET /v2/apps?embed=apps.tasks`) → the catalogue's task model, and
// the one event that changes a task without changing its app (`status_update_event`) folded into
// that list. Nothing here throws on any input: a malformed app or task is skipped and reported as a
// ConversionProblem naming it.
//
// What Marathon adds to what the Mesos sources already know: the app's labels whole (Marathon-LB's
// HAPROXY_* and any other, for Edge-LB selectors) and each port's **service port** (Marathon-LB's
// frontend port when HAPROXY_{n}_PORT is absent). Task ids are Mesos's (`<framework-id>/<task-id>`
// once /v2/info gave the framework id), so a task also seen by a Mesos source is one task to the
// edge and one name to DNS (records are sets). VIP labels are left to the Mesos sources (Marathon
// passes them to Mesos): a record here lists no VIPs, so no backend is counted twice by the L4LB.
import { asArray, get, int, ipFamily, isObject, nonEmptyString, show, type JsonObject } from "../convert/json.js";
import { mapTaskState } from "../convert/mesos-state.js";
import type { ConversionProblem } from "../convert/vips.js";
import type { Task, TaskPort } from "../model.js";

/** A task as this source writes it: every port carries Marathon's service port when the app has one (record version 3). */
export type MarathonTask = Task;
type MarathonPort = TaskPort;

export interface ConvertOptions {
  /** The framework's name (Marathon's /v2/info `name`; "marathon" by default). */
  readonly framework: string;
  /** Marathon's Mesos framework id (/v2/info `frameworkId`): task ids become `<framework-id>/<task-id>`, as the Mesos sources write them. */
  readonly frameworkId?: string;
  /** Agent host names that are not IP literals, resolved by the caller beforehand. */
  readonly resolveHost: (host: string) => string | undefined;
}

export interface Converted {
  readonly tasks: MarathonTask[];
  readonly problems: ConversionProblem[];
}

/** The `apps` list of a /v2/apps answer, or why the answer is not one. */
export function appsOf(json: unknown): { readonly ok: true; readonly apps: readonly unknown[] } | { readonly ok: false; readonly reason: string } {
  const apps = get(json, "apps");
  if (!Array.isArray(apps)) return { ok: false, reason: `no "apps" list in the answer (got ${show(json)})` };
  return { ok: true, apps };
}

/** `/shop/web` → `web.shop`: the Mesos task name Marathon gives an app's tasks (PathId.toHostname). */
export function marathonTaskName(appId: string): string {
  return appId.split("/").filter((s) => s.length > 0).reverse().join(".");
}

/** Agent host names of the tasks that are not IP literals (for the caller to resolve). */
export function hostNames(apps: readonly unknown[]): string[] {
  const names = new Set<string>();
  for (const app of apps) for (const t of asArray(get(app, "tasks"))) {
    const h = nonEmptyString(get(t, "host"));
    if (h && ipFamily(h) === undefined) names.add(h);
  }
  return [...names].sort();
}

export function tasksFromApps(apps: readonly unknown[], opts: ConvertOptions): Converted {
  const tasks: MarathonTask[] = [];
  const problems: ConversionProblem[] = [];
  for (const app of apps) {
    const appId = nonEmptyString(get(app, "id"));
    if (!appId || !isObject(app)) {
      problems.push({ item: `app ${show(get(app, "id") ?? app)}`, message: "no app id" });
      continue;
    }
    const shape = appShape(app, appId, problems);
    for (const raw of asArray(app["tasks"])) {
      const r = taskOf(raw, appId, shape, opts);
      if ("problem" in r) problems.push(r.problem);
      else if (r.task.state !== "terminal") tasks.push(r.task);
    }
  }
  return { tasks, problems };
}

/** What every task of an app shares: labels, port layout, network, health checks. */
interface AppShape {
  readonly labels: Readonly<Record<string, string>>;
  readonly ports: readonly { readonly name: string; readonly protocol: "tcp" | "udp"; readonly containerPort?: number; readonly servicePort?: number }[];
  /** Host networking: the task's ports are the agent's (no port mappings). */
  readonly host: boolean;
  readonly docker: boolean;
  readonly healthChecked: boolean;
}

function appShape(app: JsonObject, appId: string, problems: ConversionProblem[]): AppShape {
  const labels: Record<string, string> = {};
  const rawLabels = app["labels"];
  if (isObject(rawLabels)) {
    for (const [k, v] of Object.entries(rawLabels)) {
      if (typeof v === "string" && k.length > 0 && k.length <= 255 && v.length <= 4096) labels[k] = v;
      else problems.push({ item: `app ${appId}`, message: `label ${show(k)} skipped: a string key ≤ 255 and a string value ≤ 4096 characters expected (got ${show(v)})` });
    }
  }
  // Marathon ≥ 1.5 keeps mappings in container.portMappings, earlier ones in container.docker.portMappings.
  const mappings = asArray(get(app, "container", "portMappings")).length > 0 ? asArray(get(app, "container", "portMappings")) : asArray(get(app, "container", "docker", "portMappings"));
  const defs = asArray(app["portDefinitions"]);
  const host = mappings.length === 0;
  const ports = (host ? defs : mappings).map((p) => {
    const proto = String(get(p, "protocol") ?? "tcp").toLowerCase();
    const containerPort = host ? undefined : positive(get(p, "containerPort"));
    const servicePort = positive(host ? get(p, "port") : get(p, "servicePort"));
    return {
      name: nonEmptyString(get(p, "name"))?.slice(0, 63) ?? "default",
      protocol: proto.split(",").includes("tcp") || !proto.includes("udp") ? ("tcp" as const) : ("udp" as const),
      ...(containerPort !== undefined ? { containerPort } : {}),
      ...(servicePort !== undefined ? { servicePort } : {}),
    };
  });
  return { labels, ports, host, docker: get(app, "container", "type") === "DOCKER", healthChecked: asArray(app["healthChecks"]).length > 0 };
}

function positive(v: unknown): number | undefined {
  const n = int(v);
  return n !== undefined && n >= 1 && n <= 65535 ? n : undefined;
}

function taskOf(raw: unknown, appId: string, shape: AppShape, opts: ConvertOptions): { task: MarathonTask } | { problem: ConversionProblem } {
  const tid = nonEmptyString(get(raw, "id"));
  if (!tid) return { problem: { item: `app ${appId} task ${show(get(raw, "id"))}`, message: "no task id" } };
  const item = `task ${tid}`;
  const hostRaw = nonEmptyString(get(raw, "host"));
  if (!hostRaw) return { problem: { item, message: "no host" } };
  const agentIp = ipFamily(hostRaw) !== undefined ? hostRaw : opts.resolveHost(hostRaw);
  if (agentIp === undefined) return { problem: { item, message: `agent host ${show(hostRaw)} does not resolve` } };
  const state = mapTaskState(get(raw, "state"));
  const ips = [...new Set(asArray(get(raw, "ipAddresses")).map((a) => get(a, "ipAddress")).filter((a): a is string => ipFamily(a) !== undefined))].slice(0, 16);
  const taskIps = shape.host || ips.length === 0 ? [agentIp] : ips;
  const hostPorts = asArray(get(raw, "ports")).map(positive);
  const servicePorts = asArray(get(raw, "servicePorts")).map(positive);
  const ports: MarathonPort[] = shape.ports.map((p, i) => {
    const hostPort = hostPorts[i];
    const servicePort = p.servicePort ?? servicePorts[i];
    // As the Mesos sources write a host-network port: the agent's port is the task's port.
    const at = shape.host ? (hostPort !== undefined ? { port: hostPort } : {}) : { ...(p.containerPort !== undefined ? { port: p.containerPort } : {}), ...(hostPort !== undefined ? { hostPort } : {}) };
    return { name: p.name, protocol: p.protocol, ...at, vips: [], ...(servicePort !== undefined ? { servicePort } : {}) };
  });
  const results = asArray(get(raw, "healthCheckResults"));
  const healthy = shape.healthChecked ? results.length > 0 && results.every((r) => get(r, "alive") === true) : undefined;
  const task: MarathonTask = {
    id: opts.frameworkId ? `${opts.frameworkId}/${tid}` : tid,
    name: marathonTaskName(appId) || tid,
    framework: opts.framework,
    runtime: shape.docker ? "docker" : "mesos",
    agentIp,
    taskIps,
    state,
    ...(healthy !== undefined ? { healthy } : {}),
    labels: shape.labels,
    ports,
  };
  return { task };
}

/** How a /v2/events event bears on the app list. */
export type EventEffect =
  /** The app list changed in place (a task started, moved or ended): publish it. */
  | { readonly kind: "applied"; readonly apps: readonly unknown[] }
  /** The event may change apps or health in ways only a fresh /v2/apps says: refetch. */
  | { readonly kind: "refetch"; readonly why: string }
  | { readonly kind: "ignore" }
  | { readonly kind: "bad"; readonly reason: string };

/** Events after which the app list is refetched (Marathon-LB's set, plus deployments and app removal). */
const REFETCH = new Set(["api_post_event", "deployment_success", "deployment_failed", "deployment_step_success", "health_status_changed_event", "app_terminated_event", "instance_health_changed_event"]);

/** Folds one event (its SSE `event` name and parsed `data`) into the app list. */
export function applyEvent(apps: readonly unknown[], type: string, data: unknown): EventEffect {
  if (type === "status_update_event") return applyStatusUpdate(apps, data);
  if (REFETCH.has(type)) return { kind: "refetch", why: type };
  return { kind: "ignore" };
}

function applyStatusUpdate(apps: readonly unknown[], ev: unknown): EventEffect {
  const appId = nonEmptyString(get(ev, "appId"));
  const taskId = nonEmptyString(get(ev, "taskId"));
  const status = nonEmptyString(get(ev, "taskStatus"));
  if (!appId || !taskId || !status) return { kind: "bad", reason: `status_update_event without appId, taskId or taskStatus: ${show(ev)}` };
  const at = apps.findIndex((a) => get(a, "id") === appId);
  // A task of an app this list does not have yet: the app was just created; its definition is needed.
  if (at < 0) return { kind: "refetch", why: `status_update_event for an unknown app ${appId}` };
  const app = apps[at] as JsonObject;
  const tasks = asArray(app["tasks"]);
  const i = tasks.findIndex((t) => get(t, "id") === taskId);
  const prev = i >= 0 ? (tasks[i] as JsonObject) : undefined;
  const next = mapTaskState(status) === "terminal" ? undefined : { ...prev, id: taskId, appId, host: get(ev, "host"), ipAddresses: get(ev, "ipAddresses") ?? prev?.["ipAddresses"], ports: get(ev, "ports") ?? prev?.["ports"], state: status, slaveId: get(ev, "slaveId"), version: get(ev, "version") };
  const list = [...tasks];
  if (i >= 0 && next) list[i] = next;
  else if (i >= 0) list.splice(i, 1);
  else if (next) list.push(next);
  else return { kind: "ignore" }; // the end of a task we never had
  const out = [...apps];
  out[at] = { ...app, tasks: list };
  return { kind: "applied", apps: out };
}
