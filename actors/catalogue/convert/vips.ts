// VIP labels → VIP keys, tasks → backends, backends → the VIP table (dcos-net §3.1–§3.3:
// dcos_l4lb_mesos_poller.erl key/3 and backend selection, dcos_l4lb_lashup_vip_listener.erl names).
import type { Backend, Protocol, Task, VipKey } from "../model.js";
import { ipFamily } from "./json.js";
import { dcosDomainFrag } from "./labels.js";

export interface ConversionProblem {
  /** What was skipped, e.g. `task <framework-id>/<task-id>` or `vip label "/x:0"`. */
  readonly item: string;
  readonly message: string;
}

export function isConversionProblem(v: unknown): v is ConversionProblem {
  return typeof v === "object" && v !== null && "item" in v && "message" in v;
}

/**
 * Parse a raw VIP label (`/myapp:80`, `name:80`, `11.1.1.1:80`, `fd01::1:80`) split at the LAST ':'.
 * `protocol` comes from the port carrying the label (the label itself has none).
 */
export function parseVipLabel(label: string, framework: string, protocol: Protocol = "tcp"): VipKey | ConversionProblem {
  const item = `vip label ${JSON.stringify(String(label).slice(0, 300))}`;
  if (typeof label !== "string" || label.length < 3 || label.length > 300) {
    return { item, message: "must be a string of 3..300 characters" };
  }
  const at = label.lastIndexOf(":");
  const head = at > 0 ? label.slice(0, at) : "";
  const portText = label.slice(at + 1);
  if (at <= 0 || !/^[0-9]{1,5}$/.test(portText)) return { item, message: "expected <name-or-ip>:<port>" };
  const port = Number(portText);
  if (port < 1 || port > 65535) return { item, message: `port ${port} out of range 1..65535` };
  const bare = head.startsWith("[") && head.endsWith("]") ? head.slice(1, -1) : head;
  if (ipFamily(bare) !== undefined) return { protocol, name: bare.toLowerCase(), port, framework, kind: "ip" };
  // dcosDomainFrag(head) is empty exactly when head has no ASCII letter or digit.
  if (!/[A-Za-z0-9]/.test(head)) {
    return { item, message: "name part has no DNS-usable characters" };
  }
  return { protocol, name: head, port, framework, kind: "named" };
}

/** DNS name of a named VIP (without the `.l4lb.thisdcos.directory` zone): `/mygroup/myapp` → `mygroupmyapp.marathon`. */
export function vipDnsName(label: string, framework: string): string {
  return `${dcosDomainFrag(label)}.${dcosDomainFrag(framework)}`;
}

/** Canonical table key: `tcp:/myapp:80@marathon` (named), `tcp:11.1.1.1:80`, `udp:[fd01::1]:53` (IP). */
export function vipKeyString(vip: VipKey): string {
  if (vip.kind === "ip") {
    const host = vip.name.includes(":") ? `[${vip.name}]` : vip.name;
    return `${vip.protocol}:${host}:${vip.port}`;
  }
  return `${vip.protocol}:${vip.name}:${vip.port}@${vip.framework}`;
}

/** Inverse of vipKeyString (framework "" for IP VIPs, which are framework-independent). */
export function vipKeyFromString(key: string): VipKey | undefined {
  const m = /^(tcp|udp):(.*)$/.exec(key);
  if (!m || m[1] === undefined || m[2] === undefined) return undefined;
  const protocol = m[1] as Protocol;
  const at = m[2].lastIndexOf("@");
  const colon = m[2].lastIndexOf(":");
  if (at > colon) {
    const vip = parseVipLabel(m[2].slice(0, at), m[2].slice(at + 1), protocol);
    return isConversionProblem(vip) || vip.kind !== "named" ? undefined : vip;
  }
  const vip = parseVipLabel(m[2], "", protocol);
  return isConversionProblem(vip) || vip.kind !== "ip" ? undefined : vip;
}

/** Weight per §3.3: 1 when running and not known unhealthy; 0 when killing or unhealthy (draining). */
function weightOf(task: Task): 0 | 1 {
  return task.state === "running" && task.healthy !== false ? 1 : 0;
}

/** Backends this task contributes to each VIP on its ports (only running/killing tasks). */
export function backendsOf(task: Task, owner: string): Array<{ vip: VipKey; backend: Backend }> {
  if (task.state !== "running" && task.state !== "killing") return [];
  const weight = weightOf(task);
  const out: Array<{ vip: VipKey; backend: Backend }> = [];
  for (const p of task.ports) {
    for (const label of p.vips) {
      const vip = parseVipLabel(label, task.framework, p.protocol);
      if (isConversionProblem(vip)) continue;
      const base = { owner, taskId: task.id, agentIp: task.agentIp, weight };
      if (p.hostPort !== undefined) {
        const own = p.port === undefined ? undefined : task.taskIps.find((ip) => ip !== task.agentIp && ipFamily(ip) === ipFamily(task.agentIp));
        const direct = own !== undefined && p.port !== undefined ? { direct: { ip: own, port: p.port } } : {};
        out.push({ vip, backend: { ...base, ip: task.agentIp, port: p.hostPort, ...direct } });
        continue;
      }
      if (p.port === undefined) continue;
      const family = vip.kind === "ip" ? ipFamily(vip.name) : undefined;
      for (const ip of task.taskIps) {
        if (family !== undefined && ipFamily(ip) !== family) continue;
        out.push({ vip, backend: { ...base, ip, port: p.port } });
      }
    }
  }
  return out;
}

function compareBackends(a: Backend, b: Backend): number {
  return (
    cmp(a.ip, b.ip) || a.port - b.port || cmp(a.taskId, b.taskId) || cmp(a.owner, b.owner) || a.weight - b.weight
  );
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Group backends by canonical VIP key; keys and backends sorted, exact duplicates dropped. */
export function vipTable(entries: Iterable<{ vip: VipKey; backend: Backend }>): Map<string, Backend[]> {
  const groups = new Map<string, Map<string, Backend>>();
  for (const { vip, backend } of entries) {
    const key = vipKeyString(vip);
    let g = groups.get(key);
    if (!g) groups.set(key, (g = new Map()));
    const id = `${backend.owner}\u0000${backend.taskId}\u0000${backend.ip}\u0000${backend.port}\u0000${backend.weight}`;
    g.set(id, backend);
  }
  const table = new Map<string, Backend[]>();
  for (const key of [...groups.keys()].sort(cmp)) {
    table.set(key, [...(groups.get(key)?.values() ?? [])].sort(compareBackends));
  }
  return table;
}
