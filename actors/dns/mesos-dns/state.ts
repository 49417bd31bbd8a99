// Lenient reader for the Mesos `/master/state` JSON: input is `unknown` from the network, so
// every field is checked and anything malformed becomes a problem instead of an exception.
import { splitHostPort } from "./ip.js";

export interface Problem {
  item: string;
  message: string;
}

export interface Pid {
  readonly host: string;
  readonly port: string;
}

export interface Label {
  readonly key: string;
  readonly value: string;
}

export interface NetworkInfo {
  readonly ipAddresses: readonly string[];
  readonly ipAddress: string;
}

export interface Status {
  readonly state: string;
  readonly timestamp: number;
  readonly labels: readonly Label[];
  readonly networkInfos: readonly NetworkInfo[];
}

export interface DiscoveryPort {
  readonly number: number;
  readonly protocol: string;
  readonly name: string;
}

export interface Task {
  readonly id: string;
  readonly name: string;
  readonly slaveId: string;
  readonly state: string;
  readonly ports: string;
  readonly statuses: readonly Status[];
  readonly discoveryName: string;
  readonly discoveryPorts: readonly DiscoveryPort[];
}

export interface Framework {
  readonly name: string;
  readonly hostname: string;
  readonly pid: Pid | undefined;
  readonly tasks: readonly Task[];
}

export interface Slave {
  readonly id: string;
  readonly pid: Pid | undefined;
}

export interface MesosState {
  readonly leader: string;
  readonly slaves: readonly Slave[];
  readonly frameworks: readonly Framework[];
}

type Obj = Record<string, unknown>;

export function obj(v: unknown): Obj {
  return typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Obj) : {};
}

export function arr(v: unknown): readonly unknown[] {
  return Array.isArray(v) ? v : [];
}

export function str(v: unknown): string {
  return typeof v === "string" ? v : "";
}

function num(v: unknown): number {
  return typeof v === "number" && Number.isFinite(v) ? v : 0;
}

/** Mesos UPID `id@host:port`; upstream trims spaces and quotes before parsing. */
export function parsePid(v: unknown): Pid | undefined {
  const s = str(v).trim().replace(/^"+|"+$/g, "").trim();
  const parts = s.split("@");
  if (parts.length !== 2 || parts[1] === undefined) return undefined;
  return splitHostPort(parts[1]);
}

/** Labels appear as a bare array in state.json and as `{labels: [...]}` in protobuf JSON. */
function readLabels(v: unknown): Label[] {
  const list = Array.isArray(v) ? v : arr(obj(v)["labels"]);
  return list.map((l) => ({ key: str(obj(l)["key"]), value: str(obj(l)["value"]) }));
}

function readNetworkInfo(v: unknown): NetworkInfo {
  const o = obj(v);
  const ipAddresses = arr(o["ip_addresses"]).map((a) => str(obj(a)["ip_address"]));
  return { ipAddresses, ipAddress: str(o["ip_address"]) };
}

function readStatus(v: unknown): Status {
  const o = obj(v);
  const cs = obj(o["container_status"]);
  return {
    state: str(o["state"]),
    timestamp: num(o["timestamp"]),
    labels: readLabels(o["labels"]),
    networkInfos: arr(cs["network_infos"]).map(readNetworkInfo),
  };
}

function readDiscoveryPort(v: unknown): DiscoveryPort {
  const o = obj(v);
  return { number: num(o["number"]), protocol: str(o["protocol"]), name: str(o["name"]) };
}

function readTask(v: unknown): Task {
  const o = obj(v);
  const disc = obj(o["discovery"]);
  return {
    id: str(o["id"]),
    name: str(o["name"]),
    slaveId: str(o["slave_id"]),
    state: str(o["state"]),
    ports: str(obj(o["resources"])["ports"]),
    statuses: arr(o["statuses"]).map(readStatus),
    discoveryName: str(disc["name"]),
    discoveryPorts: arr(obj(disc["ports"])["ports"]).map(readDiscoveryPort),
  };
}

function readFramework(v: unknown, problems: Problem[]): Framework {
  const o = obj(v);
  const name = str(o["name"]);
  const pid = parsePid(o["pid"]);
  if (pid === undefined && o["pid"] !== undefined && o["pid"] !== null) {
    problems.push({ item: `framework ${name}`, message: `unparseable pid ${JSON.stringify(o["pid"])}` });
  }
  return { name, hostname: str(o["hostname"]), pid, tasks: arr(o["tasks"]).map(readTask) };
}

function readSlave(v: unknown, problems: Problem[]): Slave {
  const o = obj(v);
  const id = str(o["id"]);
  const pid = parsePid(o["pid"]);
  if (pid === undefined) problems.push({ item: `agent ${id}`, message: "missing or unparseable pid" });
  return { id, pid };
}

/** Read the parts of the state document the generator uses; never throws. */
export function readState(v: unknown, problems: Problem[]): MesosState {
  const o = obj(v);
  if (o !== v) problems.push({ item: "state", message: "state is not a JSON object" });
  return {
    leader: str(o["leader"]),
    slaves: arr(o["slaves"]).map((s) => readSlave(s, problems)),
    frameworks: arr(o["frameworks"]).map((f) => readFramework(f, problems)),
  };
}

/** Port ranges `"[31000-31002, 31005-31005]"` → every port, as decimal strings. */
export function parsePorts(ranges: string): string[] {
  const out: string[] = [];
  const body = ranges.trim().replace(/^\[/, "").replace(/\]$/, "");
  for (const part of body.split(",")) {
    const m = /^\s*(\d+)\s*-\s*(\d+)\s*$/.exec(part);
    if (!m?.[1] || !m[2]) continue;
    const lo = Number(m[1]);
    const hi = Math.min(Number(m[2]), 65535);
    for (let p = lo; p <= hi; p++) out.push(String(p));
  }
  return out;
}
