// Lenient reader for the Mesos `/master/state` JSON: input is `unknown` from the network, so
// every field is checked and anything malformed becomes a problem instead of an exception.
import { splitHostPort } from "./ip.js";

export interface MesosDnsProblem {
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

export interface MesosDnsTask {
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
  readonly tasks: readonly MesosDnsTask[];
}

export interface Slave {
  readonly id: string;
  readonly pid: Pid | undefined;
}

export interface MesosDnsState {
  readonly leader: string;
  readonly slaves: readonly Slave[];
  readonly frameworks: readonly Framework[];
}

type Obj = Record<string, unknown>;

function objOrEmpty(v: unknown): Obj {
  return typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Obj) : {};
}

function arrOrEmpty(v: unknown): readonly unknown[] {
  return Array.isArray(v) ? v : [];
}

function strOrEmpty(v: unknown): string {
  return typeof v === "string" ? v : "";
}

function num(v: unknown): number {
  return typeof v === "number" && Number.isFinite(v) ? v : 0;
}

/** Mesos UPID `id@host:port`; upstream trims spaces and quotes before parsing. */
export function parsePid(v: unknown): Pid | undefined {
  const s = strOrEmpty(v).trim().replace(/^"+|"+$/g, "").trim();
  const parts = s.split("@");
  if (parts.length !== 2 || parts[1] === undefined) return undefined;
  return splitHostPort(parts[1]);
}

/** Labels appear as a bare array in state.json and as `{labels: [...]}` in protobuf JSON. */
function readLabels(v: unknown): Label[] {
  const list = Array.isArray(v) ? v : arrOrEmpty(objOrEmpty(v)["labels"]);
  return list.map((l) => ({ key: strOrEmpty(objOrEmpty(l)["key"]), value: strOrEmpty(objOrEmpty(l)["value"]) }));
}

function readNetworkInfo(v: unknown): NetworkInfo {
  const o = objOrEmpty(v);
  const ipAddresses = arrOrEmpty(o["ip_addresses"]).map((a) => strOrEmpty(objOrEmpty(a)["ip_address"]));
  return { ipAddresses, ipAddress: strOrEmpty(o["ip_address"]) };
}

function readStatus(v: unknown): Status {
  const o = objOrEmpty(v);
  const cs = objOrEmpty(o["container_status"]);
  return {
    state: strOrEmpty(o["state"]),
    timestamp: num(o["timestamp"]),
    labels: readLabels(o["labels"]),
    networkInfos: arrOrEmpty(cs["network_infos"]).map(readNetworkInfo),
  };
}

function readDiscoveryPort(v: unknown): DiscoveryPort {
  const o = objOrEmpty(v);
  return { number: num(o["number"]), protocol: strOrEmpty(o["protocol"]), name: strOrEmpty(o["name"]) };
}

function readTask(v: unknown): MesosDnsTask {
  const o = objOrEmpty(v);
  const disc = objOrEmpty(o["discovery"]);
  return {
    id: strOrEmpty(o["id"]),
    name: strOrEmpty(o["name"]),
    slaveId: strOrEmpty(o["slave_id"]),
    state: strOrEmpty(o["state"]),
    ports: strOrEmpty(objOrEmpty(o["resources"])["ports"]),
    statuses: arrOrEmpty(o["statuses"]).map(readStatus),
    discoveryName: strOrEmpty(disc["name"]),
    discoveryPorts: arrOrEmpty(objOrEmpty(disc["ports"])["ports"]).map(readDiscoveryPort),
  };
}

function readFramework(v: unknown, problems: MesosDnsProblem[]): Framework {
  const o = objOrEmpty(v);
  const name = strOrEmpty(o["name"]);
  const pid = parsePid(o["pid"]);
  if (pid === undefined && o["pid"] !== undefined && o["pid"] !== null) {
    problems.push({ item: `framework ${name}`, message: `unparseable pid ${JSON.stringify(o["pid"])}` });
  }
  return { name, hostname: strOrEmpty(o["hostname"]), pid, tasks: arrOrEmpty(o["tasks"]).map(readTask) };
}

function readSlave(v: unknown, problems: MesosDnsProblem[]): Slave {
  const o = objOrEmpty(v);
  const id = strOrEmpty(o["id"]);
  const pid = parsePid(o["pid"]);
  if (pid === undefined) problems.push({ item: `agent ${id}`, message: "missing or unparseable pid" });
  return { id, pid };
}

/** Read the parts of the state document the generator uses; never throws. */
export function readState(v: unknown, problems: MesosDnsProblem[]): MesosDnsState {
  const o = objOrEmpty(v);
  if (o !== v) problems.push({ item: "state", message: "state is not a JSON object" });
  return {
    leader: strOrEmpty(o["leader"]),
    slaves: arrOrEmpty(o["slaves"]).map((s) => readSlave(s, problems)),
    frameworks: arrOrEmpty(o["frameworks"]).map((f) => readFramework(f, problems)),
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
