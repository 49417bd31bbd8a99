// Task ports from the three Mesos sources of dcos-net §3.1 (dcos_net_mesos_listener.erl):
// container port mappings, legacy `VIP_PORT<n>` task labels over the `ports` resources, and
// discovery ports with `VIP*`/`vip*` labels. Merged on (protocol, port) or (protocol, host port).
import type { Protocol, TaskPort, TaskState } from "../model.js";
import { parseVipLabel, isConversionProblem } from "./vips.js";
import { asArray, get, int, isObject, nonEmptyString, show } from "./json.js";

/** A port before it is made a TaskPort: name optional, vips unsorted. */
interface RawPort {
  name?: string;
  protocol: Protocol;
  port?: number;
  hostPort?: number;
  vips: string[];
}

/** Parts of the task that could not be used; the task itself is still converted. */
type Warn = (message: string) => void;

const MAX_PORTS = 256;
const MAX_VIPS = 32;

function protocolOf(v: unknown): Protocol | undefined {
  if (typeof v !== "string") return undefined;
  const p = v.toLowerCase();
  return p === "tcp" || p === "udp" ? p : undefined;
}

/** 1..65535 → the number; absent or 0 → undefined (ignored, as dcos-net); anything else → warn. */
function portNumber(v: unknown, what: string, warn: Warn): number | undefined {
  if (v === undefined || v === 0) return undefined;
  const n = int(v);
  if (n !== undefined && n >= 1 && n <= 65535) return n;
  warn(`${what}: invalid port ${show(v)}`);
  return undefined;
}

function fromMapping(m: unknown, warn: Warn): RawPort | undefined {
  if (!isObject(m)) return warn(`port mapping ${show(m)} is not an object`), undefined;
  // Mesos defaults an absent port-mapping protocol to tcp; dcos-net drops the whole port list instead.
  const protocol = m["protocol"] === undefined ? "tcp" : protocolOf(m["protocol"]);
  if (!protocol) return warn(`port mapping: unsupported protocol ${show(m["protocol"])}`), undefined;
  const port = portNumber(m["container_port"], "port mapping container_port", warn);
  const hostPort = portNumber(m["host_port"], "port mapping host_port", warn);
  if (port === undefined && hostPort === undefined) return undefined;
  return { protocol, port, hostPort, vips: [] };
}

/** Source 1: DOCKER `container.docker.port_mappings`, MESOS `container.network_infos[]` (else the status's). */
export function portMappings(task: unknown, status: unknown, warn: Warn): RawPort[] {
  const type = get(task, "container", "type") ?? "MESOS";
  let mappings: readonly unknown[] = [];
  if (type === "DOCKER") mappings = asArray(get(task, "container", "docker", "port_mappings"));
  else if (type === "MESOS") {
    const own = get(task, "container", "network_infos");
    const infos = Array.isArray(own) ? own : asArray(get(status, "container_status", "network_infos"));
    mappings = infos.flatMap((ni) => asArray(get(ni, "port_mappings")));
  }
  return mappings.flatMap((m) => fromMapping(m, warn) ?? []);
}

/** The idx-th port of the task's `ports` resources (RANGES expanded lazily, SCALAR as one port). */
export function nthResourcePort(resources: unknown, idx: number): number | undefined {
  let left = idx;
  for (const r of asArray(resources)) {
    if (get(r, "name") !== "ports") continue;
    if (get(r, "type") === "SCALAR") {
      const v = int(get(r, "scalar", "value"));
      if (v === undefined) continue;
      if (left === 0) return v;
      left -= 1;
      continue;
    }
    if (get(r, "type") !== "RANGES") continue;
    for (const range of asArray(get(r, "ranges", "range"))) {
      const b = int(get(range, "begin"));
      const e = int(get(range, "end"));
      if (b === undefined || e === undefined || e < b) continue;
      if (left <= e - b) return b + left;
      left -= e - b + 1;
    }
  }
  return undefined;
}

/** Source 2: task labels `VIP_PORT<n>` = `tcp://<vip>` | `udp://<vip>`; `<n>` indexes the ports resources. */
export function legacyLabelPorts(task: unknown, warn: Warn): RawPort[] {
  const out: RawPort[] = [];
  for (const label of asArray(get(task, "labels", "labels"))) {
    const key = get(label, "key");
    if (typeof key !== "string") continue;
    const m = /^vip_port([0-9]{1,5})$/.exec(key.toLowerCase());
    if (!m) continue;
    const value = get(label, "value");
    const v = typeof value === "string" ? /^(tcp|udp):\/\/(.*)$/i.exec(value) : null;
    if (!v || v[1] === undefined || v[2] === undefined) {
      warn(`label ${key}: expected tcp://<vip> or udp://<vip>, got ${show(value)}`);
      continue;
    }
    const hostPort = nthResourcePort(get(task, "resources"), Number(m[1]));
    const checked = portNumber(hostPort, `label ${key}`, warn);
    if (checked === undefined) {
      if (hostPort === undefined) warn(`label ${key}: no ports resource at index ${m[1]}`);
      continue;
    }
    out.push({ protocol: v[1].toLowerCase() as Protocol, hostPort: checked, vips: [v[2]] });
  }
  return out;
}

function discoveryPort(p: unknown, warn: Warn): RawPort | undefined {
  const protocol = protocolOf(get(p, "protocol"));
  if (!protocol) return warn(`discovery port: unsupported protocol ${show(get(p, "protocol"))}`), undefined;
  const name = nonEmptyString(get(p, "name")) ?? "default";
  const labels = asArray(get(p, "labels", "labels"));
  const vips: string[] = [];
  const scopes: unknown[] = [];
  for (const l of labels) {
    const key = get(l, "key");
    if (typeof key !== "string") continue;
    if (key.startsWith("VIP") || key.startsWith("vip")) {
      const value = get(l, "value");
      if (typeof value === "string") vips.push(value);
      else warn(`discovery port ${name}: label ${key} has non-string value ${show(value)}`);
    } else if (key === "network-scope") scopes.push(get(l, "value"));
  }
  const number = portNumber(get(p, "number"), `discovery port ${name}`, warn);
  if (number === undefined) return undefined;
  const scope = scopes.length === 0 ? "container" : scopes.length === 1 ? scopes[0] : undefined;
  if (scope !== "container" && scope !== "host") warn(`discovery port ${name}: bad network-scope ${show(scopes)}`);
  const port: RawPort = { name: name.slice(0, 63), protocol, vips };
  if (scope === "host") port.hostPort = number;
  else port.port = number;
  return port;
}

/** Source 3: `discovery.ports.ports[]`. */
export function discoveryPorts(task: unknown, warn: Warn): RawPort[] {
  return asArray(get(task, "discovery", "ports", "ports")).flatMap((p) => discoveryPort(p, warn) ?? []);
}

function matches(a: RawPort, b: RawPort): boolean {
  if (a.protocol !== b.protocol) return false;
  return (a.port !== undefined && a.port === b.port) || (a.hostPort !== undefined && a.hostPort === b.hostPort);
}

/** `over` wins on fields both have; VIP lists are unioned. */
function mergePort(base: RawPort, over: RawPort): RawPort {
  return {
    name: over.name ?? base.name,
    protocol: base.protocol,
    port: over.port ?? base.port,
    hostPort: over.hostPort ?? base.hostPort,
    vips: [...base.vips, ...over.vips],
  };
}

/** Fold each port of `over` into the first matching port of `base` (or append it). */
export function mergePorts(over: readonly RawPort[], base: readonly RawPort[]): RawPort[] {
  const acc = [...base];
  for (const p of over) {
    const i = acc.findIndex((b) => matches(p, b));
    const hit = i >= 0 ? acc[i] : undefined;
    if (hit) acc[i] = mergePort(hit, p);
    else acc.push(p);
  }
  return acc;
}

/** On the host network the host port IS the port: fold hostPort into port, merging on (protocol, port). */
export function foldHostPorts(ports: readonly RawPort[]): RawPort[] {
  const byKey = new Map<string, RawPort>();
  for (const p of ports) {
    const { hostPort, ...rest } = p;
    const q: RawPort = hostPort !== undefined ? { ...rest, port: hostPort } : p;
    const key = `${q.protocol}/${q.port}`;
    const prev = byKey.get(key);
    byKey.set(key, prev ? mergePort(prev, q) : q);
  }
  return [...byKey.values()];
}

function toTaskPort(p: RawPort, framework: string, warn: Warn): TaskPort {
  const vips: string[] = [];
  for (const label of new Set(p.vips)) {
    const vip = parseVipLabel(label, framework, p.protocol);
    if (isConversionProblem(vip)) warn(`port ${p.name ?? "default"}: ${vip.item}: ${vip.message}`);
    else vips.push(label);
  }
  vips.sort();
  if (vips.length > MAX_VIPS) warn(`port ${p.name ?? "default"}: more than ${MAX_VIPS} VIPs, extra dropped`);
  const out: TaskPort = { name: p.name ?? "default", protocol: p.protocol, vips: vips.slice(0, MAX_VIPS) };
  if (p.port !== undefined) out.port = p.port;
  if (p.hostPort !== undefined) out.hostPort = p.hostPort;
  return out;
}

function comparePorts(a: TaskPort, b: TaskPort): number {
  if (a.protocol !== b.protocol) return a.protocol < b.protocol ? -1 : 1;
  return (a.port ?? a.hostPort ?? 0) - (b.port ?? b.hostPort ?? 0) || (a.hostPort ?? 0) - (b.hostPort ?? 0);
}

interface PortContext {
  framework: string;
  state: TaskState;
  onHostNetwork: boolean;
}

/** All ports of a raw task, merged as dcos-net does, sorted by (protocol, port, hostPort). */
export function taskPorts(task: unknown, status: unknown, ctx: PortContext, warn: Warn): TaskPort[] {
  const first = mergePorts(portMappings(task, status, warn), legacyLabelPorts(task, warn));
  let ports = mergePorts(first, discoveryPorts(task, warn));
  if (ctx.onHostNetwork && ctx.state !== "preparing" && ctx.state !== "terminal") ports = foldHostPorts(ports);
  const out = ports.map((p) => toTaskPort(p, ctx.framework, warn)).sort(comparePorts);
  if (out.length > MAX_PORTS) warn(`more than ${MAX_PORTS} ports, extra dropped`);
  return out.slice(0, MAX_PORTS);
}
