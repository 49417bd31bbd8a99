// What the built-in zone parts read from the replicated store, parsed at the border: tasks (every
// source), node facts (address, roles), the Mesos leader key, and the `.mesos` record sets published
// by the node that follows the leading master (written by ../../mesos-records/). Anything malformed
// is skipped, never thrown.
import type { KeyView } from "../../../gossip/index.js";
import { readTask, type Task } from "../../../catalogue/model.js";
import type { DnsRecord } from "../../mesos-dns/generate.js";

/** Key prefix of the `.mesos` record sets: one key per owner name (`dns/mesos/<name>`), field `rrs`. */
export const MESOS_RECORDS_PREFIX = "dns/mesos/";
export const NODES_PREFIX = "nodes/";

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
  // readTask hands back the store's own record (checked), so the zone shares it with the catalogue.
  const r = readTask(field.value);
  return r.ok ? r.task : undefined;
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
