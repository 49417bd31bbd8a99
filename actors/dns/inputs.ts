// What the zone actor reads from the replicated store, parsed at the border: tasks (every source),
// node facts (address, roles), the Mesos leader key, and the `.mesos` record sets published by the
// node that follows the leading master. Anything malformed is skipped, never thrown.
import type { KeyView } from "../gossip/index.js";
import type { WatchEvent } from "../gossip/index.js";
import { taskSchema, type Task } from "../catalogue/index.js";
import { TASKS_PREFIX } from "../catalogue/index.js";
import { LEADER_KEY } from "../catalogue/index.js";
import type { DnsRecord } from "./mesos-dns/generate.js";

/** Key prefix of the `.mesos` record sets: one key per owner name (`dns/mesos/<name>`), field `rrs`. */
export const MESOS_RECORDS_PREFIX = "dns/mesos/";
export const NODES_PREFIX = "nodes/";

/** Everything the zones are built from, as the zone actor holds it. */
export interface ZoneInputs {
  /** Every task of every source, by store key (records are sets: two sources of one task give one name). */
  readonly tasks: Map<string, Task>;
  readonly nodes: Map<string, NodeFacts>;
  leaderNode: string | undefined;
  /** `.mesos` records by owner name. */
  readonly mesos: Map<string, DnsRecord[]>;
}

/** The zones an input feeds: dcos.thisdcos.directory, or .mesos and its mirror. */
export type ZonePart = "dcos" | "mesos";

/** Folds one store event into the inputs; returns the part it changes, if any. */
export function foldEvent(inputs: ZoneInputs, ev: WatchEvent): ZonePart | undefined {
  const { key } = ev;
  if (key.startsWith(TASKS_PREFIX)) {
    const task = parseTask(ev.value);
    if (task) inputs.tasks.set(key, task);
    else if (!inputs.tasks.delete(key)) return undefined;
    return "dcos";
  }
  if (key.startsWith(NODES_PREFIX)) {
    const facts = parseNodeFacts(ev.value);
    const id = key.slice(NODES_PREFIX.length);
    if (facts) inputs.nodes.set(id, facts);
    else if (!inputs.nodes.delete(id)) return undefined;
    return "dcos";
  }
  if (key === LEADER_KEY) {
    inputs.leaderNode = parseLeaderNode(ev.value);
    return "dcos";
  }
  if (key.startsWith(MESOS_RECORDS_PREFIX)) {
    const name = key.slice(MESOS_RECORDS_PREFIX.length);
    const records = decodeRrs(name, ev.value);
    if (records.length > 0) inputs.mesos.set(name, records);
    else if (!inputs.mesos.delete(name)) return undefined;
    return "mesos";
  }
  return undefined;
}

export function mesosRecordsKey(name: string): string {
  return `${MESOS_RECORDS_PREFIX}${name}`;
}

/** Records of one name as stored: "A 10.0.0.1", "SRV host.marathon.slave.mesos.:31000". */
export function encodeRrs(records: readonly DnsRecord[]): string[] {
  return records.map((r) => `${r.type} ${r.value}`).sort();
}

export function decodeRrs(name: string, view: KeyView | undefined): DnsRecord[] {
  const field = view?.rrs;
  if (field?.type !== "lww" || !Array.isArray(field.value)) return [];
  const out: DnsRecord[] = [];
  for (const v of field.value) {
    if (typeof v !== "string") continue;
    const sp = v.indexOf(" ");
    const type = v.slice(0, sp);
    if (type === "A" || type === "AAAA" || type === "SRV") out.push({ name, type, value: v.slice(sp + 1) });
  }
  return out;
}

export function parseTask(view: KeyView | undefined): Task | undefined {
  const field = view?.task;
  if (field?.type !== "lww") return undefined;
  const r = taskSchema.safeParse(field.value);
  return r.success ? r.data : undefined;
}

export interface NodeFacts {
  readonly ip?: string;
  readonly roles: readonly string[];
}

export function parseNodeFacts(view: KeyView | undefined): NodeFacts | undefined {
  if (!view) return undefined;
  const ip = view.ip?.type === "lww" && typeof view.ip.value === "string" ? view.ip.value : undefined;
  const roles = view.roles?.type === "lww" && Array.isArray(view.roles.value) ? view.roles.value.filter((r): r is string => typeof r === "string") : [];
  return { ...(ip ? { ip } : {}), roles };
}

/** The node id holding the Mesos leader's stream (key `mesos/leader`, field `node`). */
export function parseLeaderNode(view: KeyView | undefined): string | undefined {
  const f = view?.node;
  return f?.type === "lww" && typeof f.value === "string" && f.value !== "" ? f.value : undefined;
}
