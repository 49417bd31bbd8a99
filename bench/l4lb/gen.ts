// Generated VIP sets for bench/l4lb-sync: N IP VIPs × K backends, as the catalogue would publish
// them (its own vipTable, so keys and backends are sorted as the applier sees them), the native
// tasks that register exactly those backends, and one-backend replacements for the change rounds.
// Addresses stay in ranges that only exist inside the bench's namespaces: VIPs 11.100.0.0/14,
// backends 10.64.0.0/11, replacements 10.128.0.0/12.
import { backendsOf, vipTable, type Task } from "../../actors/catalogue/index.js";
import type { Backend, Protocol } from "../../actors/l4lb/model.js";

export type VipTable = ReadonlyMap<string, readonly Backend[]>;

export interface GenOptions {
  /** VIPs, 1–65,536. */
  readonly vips: number;
  /** Backends per VIP, 1–32. */
  readonly backends: number;
  /** Backend.owner: the node the tasks are registered with. */
  readonly owner: string;
  /** Every `udpEvery`-th VIP is UDP (0: all TCP). */
  readonly udpEvery?: number;
}

export const VIP_PORT = 80;
export const BACKEND_PORT = 8080;
const MAX_VIPS = 65_536;
const MAX_BACKENDS = 32;
const MAX_REPLACEMENTS = 1 << 20;

function check(o: GenOptions): void {
  if (!Number.isInteger(o.vips) || o.vips < 1 || o.vips > MAX_VIPS) throw new RangeError(`vips must be 1..${MAX_VIPS}, not ${o.vips}`);
  if (!Number.isInteger(o.backends) || o.backends < 1 || o.backends > MAX_BACKENDS) throw new RangeError(`backends must be 1..${MAX_BACKENDS}, not ${o.backends}`);
}

/** Address of VIP i. */
export function vipAddr(i: number): string {
  return `11.${100 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`;
}

export function vipProtocol(i: number, o: Pick<GenOptions, "udpEvery">): Protocol {
  return o.udpEvery && i % o.udpEvery === o.udpEvery - 1 ? "udp" : "tcp";
}

/** The catalogue's key of VIP i (vipKeyString of an IP VIP). */
export function vipKey(i: number, o: Pick<GenOptions, "udpEvery">): string {
  return `${vipProtocol(i, o)}:${vipAddr(i)}:${VIP_PORT}`;
}

/** Address of backend j of VIP i: distinct for every (i, j). */
export function backendIp(i: number, j: number): string {
  return `10.${64 + j}.${(i >> 8) & 255}.${i & 255}`;
}

/** The c-th replacement backend's address: distinct from every generated one and from each other. */
export function replacementIp(c: number): string {
  if (!Number.isInteger(c) || c < 0 || c >= MAX_REPLACEMENTS) throw new RangeError(`replacement index must be 0..${MAX_REPLACEMENTS - 1}, not ${c}`);
  return `10.${128 + (c >> 16)}.${(c >> 8) & 255}.${c & 255}`;
}

/**
 * The native task of backend j of VIP i: one container port carrying the VIP label, the task's own
 * address as its only IP (so it contributes exactly one backend), running.
 */
export function benchTask(i: number, j: number, o: Pick<GenOptions, "udpEvery">): Task {
  const ip = backendIp(i, j);
  return {
    id: `b${i}-${j}`,
    name: `app${i}`,
    framework: "bench",
    runtime: "native",
    agentIp: ip,
    taskIps: [ip],
    state: "running",
    ports: [{ name: "p", protocol: vipProtocol(i, o), port: BACKEND_PORT, vips: [`${vipAddr(i)}:${VIP_PORT}`] }],
  };
}

/** Every task of the set, VIP by VIP, as native registrations. */
export function* benchTasks(o: GenOptions): Generator<Task> {
  check(o);
  for (let i = 0; i < o.vips; i++) for (let j = 0; j < o.backends; j++) yield benchTask(i, j, o);
}

/** The VIP table those tasks give, registered with `o.owner` (the catalogue's own derivation). */
export function benchTable(o: GenOptions): Map<string, Backend[]> {
  return vipTable([...benchTasks(o)].flatMap((t) => backendsOf(t, o.owner)));
}

export interface Replacement {
  /** The catalogue key of the VIP changed. */
  readonly key: string;
  /** The backend taken out and the one put in. */
  readonly removed: Backend;
  readonly added: Backend;
  /** The table after the change (a copy; the input is not touched). */
  readonly table: Map<string, readonly Backend[]>;
}

/**
 * The table with one backend of one VIP replaced by a new address, backends re-sorted as the
 * catalogue sorts them (by address): what a task restarting elsewhere looks like to the applier.
 * `vip` and `slot` pick the VIP (by its position in the table) and the backend; `c` the new address.
 */
export function replaceBackend(table: VipTable, vip: number, slot: number, c: number): Replacement {
  const keys = [...table.keys()];
  const key = keys[((vip % keys.length) + keys.length) % keys.length];
  const list = key === undefined ? undefined : table.get(key);
  if (key === undefined || !list || list.length === 0) throw new RangeError("replaceBackend needs a table with backends");
  const at = ((slot % list.length) + list.length) % list.length;
  const removed = list[at] as Backend;
  const ip = replacementIp(c);
  const added: Backend = { ...removed, taskId: `r${c}`, agentIp: ip, ip };
  const next = list.filter((_, k) => k !== at).concat(added);
  next.sort((a, b) => (a.ip < b.ip ? -1 : a.ip > b.ip ? 1 : a.port - b.port));
  const out = new Map<string, readonly Backend[]>(table);
  out.set(key, next);
  return { key, removed, added, table: out };
}

/** Ids the generated Mesos agent state uses. */
export const BENCH_AGENT_ID = "bench-agent-0";
export const BENCH_FRAMEWORK_ID = "bench-framework-0";

/**
 * The same backends as a Mesos agent's Operator API answers (GET_STATE's `get_state`, GET_AGENT's
 * `get_agent`): one running task per backend on the overlay (its own address, container port
 * BACKEND_PORT, a discovery port labelled with its VIP), on the agent at `agentIp`. What the node's
 * agent poller (mesos.agent) reads: a whole task set in one answer, as DC/OS gives it.
 */
export function benchAgentState(o: GenOptions, agentIp: string): { readonly getState: unknown; readonly getAgent: unknown } {
  check(o);
  const tasks: unknown[] = [];
  for (let i = 0; i < o.vips; i++) {
    for (let j = 0; j < o.backends; j++) {
      const ip = backendIp(i, j);
      tasks.push({
        task_id: { value: `b${i}-${j}` },
        framework_id: { value: BENCH_FRAMEWORK_ID },
        agent_id: { value: BENCH_AGENT_ID },
        name: `app${i}`,
        state: "TASK_RUNNING",
        statuses: [{ state: "TASK_RUNNING", timestamp: 1_700_000_000, container_status: { network_infos: [{ name: "dcos", ip_addresses: [{ protocol: "IPv4", ip_address: ip }] }] } }],
        discovery: {
          visibility: "FRAMEWORK",
          name: `app${i}`,
          ports: { ports: [{ number: BACKEND_PORT, name: "p", protocol: vipProtocol(i, o), labels: { labels: [{ key: "VIP_0", value: `${vipAddr(i)}:${VIP_PORT}` }] } }] },
        },
        container: { type: "MESOS", network_infos: [{ name: "dcos" }] },
      });
    }
  }
  return {
    getState: { get_tasks: { launched_tasks: tasks }, get_frameworks: { frameworks: [{ framework_info: { id: { value: BENCH_FRAMEWORK_ID }, name: "bench" } }] }, get_executors: {} },
    getAgent: { agent_info: { id: { value: BENCH_AGENT_ID }, hostname: agentIp } },
  };
}
