// The `dcos.thisdcos.directory` zone: dcos-net's dcos_dns_mesos.erl as a pure function of the
// catalogue's tasks and the known masters (dcos-net.md §2.2). dcos-net keeps per-task record
// lists and reference counts because it pushes diffs; rebuilding from all tasks gives the same
// set (a name+IP shared by two tasks stays until both are gone) without that bookkeeping.
import type { Task } from "../../catalogue/index.js";
import { ZoneBuilder, type ZoneOptions } from "./builder.js";
import { dcosLabel } from "../../catalogue/model.js";
import type { Zone } from "./types.js";

export const DCOS_ORIGIN = "dcos.thisdcos.directory";

interface DcosZoneInput {
  readonly tasks: readonly Task[];
  /** Master IPs (dcos-net: `mesos_resolvers`). */
  readonly masters: readonly string[];
  /** IP of the node that holds the Mesos stream, when known (dcos-net: always itself). */
  readonly leader?: string;
}

/** `<label(name)>.<label(framework)>` — the framework is one label, dots and all (`format_name/2`). */
function dcosTaskPrefix(task: Pick<Task, "name" | "framework">): string | undefined {
  const name = dcosLabel(task.name);
  const framework = dcosLabel(task.framework);
  return name === "" || framework === "" ? undefined : `${name}.${framework}`;
}

/** Addresses behind `….autoip.`: the agent when any port is mapped or the task has no IP of its own. */
export function autoIps(task: Pick<Task, "agentIp" | "taskIps" | "ports">): readonly string[] {
  const mapped = task.ports.some((p) => p.hostPort !== undefined);
  return mapped || task.taskIps.length === 0 ? [task.agentIp] : task.taskIps;
}

function addTask(b: ZoneBuilder, task: Task, report: (message: string) => void): void {
  const prefix = dcosTaskPrefix(task);
  if (prefix === undefined) {
    report(`name ${JSON.stringify(task.name)} or framework ${JSON.stringify(task.framework)} has no usable character`);
    return;
  }
  b.addAddress(`${prefix}.agentip.${DCOS_ORIGIN}`, task.agentIp);
  for (const ip of task.taskIps) b.addAddress(`${prefix}.containerip.${DCOS_ORIGIN}`, ip);
  for (const ip of autoIps(task)) b.addAddress(`${prefix}.autoip.${DCOS_ORIGIN}`, ip);
}

/**
 * Every running task's agentip/containerip/autoip names, `master.` and `leader.`, with dcos-net's
 * SOA/NS and TTL 5 unless `opts` overrides them. Records that cannot be built go to `opts.onProblem`.
 */
export function dcosZone(input: DcosZoneInput, opts: ZoneOptions = {}): Zone {
  const b = ZoneBuilder.dcos(DCOS_ORIGIN, opts);
  for (const task of input.tasks) {
    if (task.state !== "running") continue;
    addTask(b, task, (message) => opts.onProblem?.({ item: `task ${task.id}`, message }));
  }
  for (const ip of input.masters) b.addAddress(`master.${DCOS_ORIGIN}`, ip);
  if (input.leader !== undefined) b.addAddress(`leader.${DCOS_ORIGIN}`, input.leader);
  return b.build();
}
