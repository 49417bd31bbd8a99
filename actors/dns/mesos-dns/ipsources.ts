// Task IP sources (dns.md §1.4): the first source in the configured order that yields at
// least one parseable IP wins, and all of its IPs are used.
import { parseIp, type ParsedIp } from "./ip.js";
import type { Status, MesosDnsTask } from "./state.js";

const MESOS_LABEL = "MesosContainerizer.NetworkSettings.IPAddress";
const DOCKER_LABEL = "Docker.NetworkSettings.IPAddress";

/** Statuses are unordered in state.json: only the newest TASK_RUNNING one is read. */
function latestRunning(task: MesosDnsTask): Status | undefined {
  let best: Status | undefined;
  for (const s of task.statuses) {
    if (s.state === "TASK_RUNNING" && (best === undefined || s.timestamp > best.timestamp)) best = s;
  }
  return best;
}

function labelValues(status: Status | undefined, key: string): string[] {
  return status === undefined ? [] : status.labels.filter((l) => l.key === key).map((l) => l.value);
}

/** Mesos ≥0.26 `ip_addresses`; the 0.25 `ip_address` only when the list is empty. */
function netinfoValues(status: Status | undefined): string[] {
  if (status === undefined) return [];
  return status.networkInfos.flatMap((ni) => (ni.ipAddresses.length > 0 ? [...ni.ipAddresses] : [ni.ipAddress]));
}

function sourceValues(source: string, task: MesosDnsTask, agentIps: readonly string[]): readonly string[] {
  switch (source) {
    case "host":
      return agentIps;
    case "mesos":
      return labelValues(latestRunning(task), MESOS_LABEL);
    case "docker":
      return labelValues(latestRunning(task), DOCKER_LABEL);
    case "netinfo":
      return netinfoValues(latestRunning(task));
    default:
      // Upstream ignores unknown source names at the task level.
      return [];
  }
}

/** IPs of the first source in `sources` that yields any parseable IP. */
export function taskIps(task: MesosDnsTask, agentIps: readonly string[], sources: readonly string[]): ParsedIp[] {
  for (const source of sources) {
    const ips = sourceValues(source, task, agentIps)
      .map(parseIp)
      .filter((ip): ip is ParsedIp => ip !== undefined);
    if (ips.length > 0) return ips;
  }
  return [];
}
