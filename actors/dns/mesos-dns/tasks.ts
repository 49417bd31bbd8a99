// Per-task records (dns.md §1.3), including upstream's "legacy double" for DiscoveryInfo.
import { hashString } from "./hash.js";
import { parseIp, type ParsedIp } from "./ip.js";
import { taskIps } from "./ipsources.js";
import { mesosDnsDomainFrag, type LabelFn } from "./labels.js";
import type { RecordSet } from "./recordset.js";
import { parsePorts, type Framework, type MesosDnsTask } from "./state.js";

/** What every record of one task (under one task name) is derived from. */
interface TaskContext {
  taskName: string;
  fname: string;
  canonical: string;
  tail: string;
  taskIps: readonly ParsedIp[];
  agentIps: readonly string[];
}

/** Agent id tail: last `-` field, lower-cased (`…-S1` → `s1`). */
function slaveIdTail(slaveId: string): string {
  const fields = slaveId.split("-");
  return (fields[fields.length - 1] ?? "").toLowerCase();
}

function addressRecords(rs: RecordSet, ctx: TaskContext): void {
  const arec = `${ctx.taskName}.${ctx.fname}`;
  for (const ip of ctx.taskIps) {
    rs.addIp(arec + ctx.tail, ip);
    rs.addIp(ctx.canonical + ctx.tail, ip);
  }
  for (const agentIp of ctx.agentIps) {
    const ip = parseIp(agentIp);
    // Upstream bug #509: an unresolvable agent host is stored verbatim as an "A" value.
    const type = ip?.family === 6 ? "AAAA" : "A";
    const value = ip?.text ?? agentIp;
    rs.add(`${arec}.slave${ctx.tail}`, type, value);
    rs.add(`${ctx.canonical}.slave${ctx.tail}`, type, value);
  }
}

/** Resource-port SRVs; DiscoveryInfo tasks get them only under `.slave`. */
function resourcePortRecords(rs: RecordSet, ctx: TaskContext, task: MesosDnsTask, withDiscovery: boolean): void {
  const target = `${ctx.canonical}.slave${ctx.tail}`;
  const subdomains = withDiscovery ? [".slave"] : [".slave", ""];
  for (const port of parsePorts(task.ports)) {
    for (const sub of subdomains) {
      for (const proto of ["_tcp", "_udp"]) {
        rs.add(`_${ctx.taskName}.${proto}.${ctx.fname}${sub}${ctx.tail}`, "SRV", `${target}:${port}`);
      }
    }
  }
}

/** DiscoveryInfo-port SRVs: `_T._proto.F.D.` and, for a named port, `_N._T._proto.F.D.`. */
function discoveryPortRecords(rs: RecordSet, ctx: TaskContext, task: MesosDnsTask, spec: LabelFn): void {
  for (const port of task.discoveryPorts) {
    const target = `${ctx.canonical}${ctx.tail}:${port.number}`;
    const protos = port.protocol === "" ? ["_tcp", "_udp"] : [`_${spec(port.protocol)}`];
    for (const proto of protos) {
      const base = `_${ctx.taskName}.${proto}.${ctx.fname}${ctx.tail}`;
      rs.add(base, "SRV", target);
      if (port.name !== "") rs.add(`_${spec(port.name)}.${base}`, "SRV", target);
    }
  }
}

function contextRecords(rs: RecordSet, ctx: TaskContext, task: MesosDnsTask, spec: LabelFn): void {
  const withDiscovery = task.discoveryName !== "";
  addressRecords(rs, ctx);
  resourcePortRecords(rs, ctx, task, withDiscovery);
  if (withDiscovery) discoveryPortRecords(rs, ctx, task, spec);
}

interface TaskInputs {
  domain: string;
  spec: LabelFn;
  ipSources: readonly string[];
  agentIps: ReadonlyMap<string, readonly string[]>;
}

/** Records for one task; only TASK_RUNNING tasks on a known agent produce any. */
export function taskRecords(rs: RecordSet, fw: Framework, task: MesosDnsTask, inp: TaskInputs): void {
  const agentIps = inp.agentIps.get(task.slaveId);
  if (agentIps === undefined || task.state !== "TASK_RUNNING") return;
  const fname = mesosDnsDomainFrag(fw.name, inp.spec);
  const suffix = `${hashString(task.id)}-${slaveIdTail(task.slaveId)}`;
  const names =
    task.discoveryName === ""
      ? [inp.spec(task.name)]
      : // LEGACY double (upstream "TODO: REMOVE"): raw DiscoveryInfo name, then sanitised.
        [task.discoveryName, inp.spec(task.discoveryName)];
  const ips = taskIps(task, agentIps, inp.ipSources);
  for (const taskName of names) {
    const canonical = `${taskName}-${suffix}.${fname}`;
    const ctx = { taskName, fname, canonical, tail: `.${inp.domain}.`, taskIps: ips, agentIps };
    contextRecords(rs, ctx, task, inp.spec);
  }
}
