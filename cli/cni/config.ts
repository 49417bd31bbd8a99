// One plugin call as the runtime makes it (SPEC.md §2: CNI_* environment variables, the network
// config on stdin) → a typed request, or the spec's error. Checked in the spec's (and libcni skel's)
// order: environment (code 4), then stdin's JSON (6), then cniVersion (1), then the config (2, 7).
// Pure: main.ts reads the environment and stdin.
import { parseIp } from "../../config/ip.js";
import { CNI_BRIDGE } from "../../actors/overlay/model.js";
import { contains, hostRange, parseCidr, type Cidr } from "./cidr.js";
import { CniConfigError, CniDecodeError, CniEnvError, CniUnsupportedFieldError, CniVersionError } from "./errors.js";

/** Spec versions this plugin speaks; STATUS and GC exist from 1.1.0 on. */
export const SUPPORTED_VERSIONS = ["1.0.0", "1.1.0"] as const;
export type CniVersion = (typeof SUPPORTED_VERSIONS)[number];
export const LATEST_VERSION: CniVersion = "1.1.0";
/** Where leases live when the config names no `dataDir`: `<this>/<network name>`. */
export const DEFAULT_STATE_DIR = "/var/lib/dcnet/cni";

export type CniCommand = "ADD" | "DEL" | "CHECK" | "VERSION" | "STATUS" | "GC";
const COMMANDS: readonly string[] = ["ADD", "DEL", "CHECK", "VERSION", "STATUS", "GC"];

export type Protocol = "tcp" | "udp" | "sctp";
/** One entry of the `portMappings` capability (CONVENTIONS.md), normalised. */
export interface PortMapping {
  readonly hostPort: number;
  readonly containerPort: number;
  readonly protocol: Protocol;
  /** Only on this host address (IPv4); absent = every local address. */
  readonly hostIP?: string;
}

export interface Pool {
  readonly cidr: Cidr;
  readonly gateway: bigint;
}

export interface Dns {
  readonly nameservers?: readonly string[];
  readonly domain?: string;
  readonly search?: readonly string[];
  readonly options?: readonly string[];
}

export interface NetConf {
  readonly cniVersion: CniVersion;
  readonly name: string;
  readonly bridge: string;
  readonly v4: Pool;
  readonly v6?: Pool;
  /** MTU of both veth ends; absent = the bridge's. */
  readonly mtu?: number;
  readonly dataDir: string;
  readonly dns?: Dns;
  readonly portMappings: readonly PortMapping[];
  /** The previous plugin's (ADD) or the final ADD's (CHECK, DEL) result, unparsed. */
  readonly prevResult?: Readonly<Record<string, unknown>>;
}

export interface AttachmentId {
  readonly containerId: string;
  readonly ifname: string;
}

export interface Attachment extends AttachmentId {
  readonly netns: string;
}

export type CniRequest =
  | { readonly command: "VERSION"; readonly cniVersion: string }
  | { readonly command: "ADD" | "CHECK"; readonly conf: NetConf; readonly att: Attachment }
  | { readonly command: "DEL"; readonly conf: NetConf; readonly att: AttachmentId & { readonly netns?: string } }
  | { readonly command: "STATUS"; readonly conf: NetConf }
  | { readonly command: "GC"; readonly conf: NetConf; readonly valid: readonly AttachmentId[] };

export type Env = Readonly<Record<string, string | undefined>>;

/** libcni's rule for container ids and network names (pkg/utils). */
const NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

/** `stdin` is read only once the environment has passed (a bare run by hand must not wait for input). */
export function parseRequest(env: Env, stdin: () => string): CniRequest {
  const command = env.CNI_COMMAND ?? "";
  if (!COMMANDS.includes(command)) throw new CniEnvError(command ? `unknown CNI_COMMAND ${JSON.stringify(command)}` : "required env variables [CNI_COMMAND] missing");
  const cmd = command as CniCommand;
  if (cmd === "VERSION") return { command: "VERSION", cniVersion: versionOf(stdin()) };
  const att = parseEnv(cmd, env);
  const raw = decode(stdin());
  const cniVersion = checkVersion(raw.cniVersion);
  if ((cmd === "STATUS" || cmd === "GC") && cniVersion === "1.0.0") throw new CniVersionError(`config version ${cniVersion} does not allow ${cmd}`, `${cmd} needs cniVersion 1.1.0`);
  const conf = parseConf(raw, cniVersion);
  switch (cmd) {
    case "ADD":
    case "CHECK":
      return { command: cmd, conf, att: att as Attachment };
    case "DEL":
      return { command: cmd, conf, att: att as AttachmentId };
    case "STATUS":
      return { command: cmd, conf };
    case "GC":
      return { command: cmd, conf, valid: validAttachments(raw["cni.dev/valid-attachments"]) };
  }
}

/** VERSION answers with the version it was asked in; with no readable one, the latest. */
function versionOf(stdin: string): string {
  try {
    const v: unknown = JSON.parse(stdin);
    if (isObject(v) && typeof v.cniVersion === "string" && v.cniVersion) return v.cniVersion;
  } catch {
    // VERSION needs no config: an empty or odd stdin still gets an answer
  }
  return LATEST_VERSION;
}

const REQUIRED: Record<Exclude<CniCommand, "VERSION">, readonly string[]> = {
  ADD: ["CNI_CONTAINERID", "CNI_NETNS", "CNI_IFNAME"],
  CHECK: ["CNI_CONTAINERID", "CNI_NETNS", "CNI_IFNAME"],
  DEL: ["CNI_CONTAINERID", "CNI_IFNAME"],
  STATUS: [],
  GC: [],
};

function parseEnv(cmd: Exclude<CniCommand, "VERSION">, env: Env): Partial<Attachment> {
  const missing = REQUIRED[cmd].filter((k) => !env[k]);
  if (missing.length > 0) throw new CniEnvError(`required env variables [${missing.join(",")}] missing`);
  if (REQUIRED[cmd].length === 0) return {};
  const containerId = env.CNI_CONTAINERID as string;
  const ifname = env.CNI_IFNAME as string;
  if (!NAME_RE.test(containerId)) throw new CniEnvError("invalid characters in CNI_CONTAINERID", containerId);
  const bad = ifnameProblem(ifname);
  if (bad) throw new CniEnvError(`invalid CNI_IFNAME: ${bad}`, ifname);
  const netns = env.CNI_NETNS || undefined;
  if (netns !== undefined && !netns.startsWith("/")) throw new CniEnvError("CNI_NETNS must be the path of a network namespace", netns);
  return { containerId, ifname, ...(netns ? { netns } : {}) };
}

/** Linux's rule for interface names (IFNAMSIZ 16 with the NUL), as libcni's ValidateInterfaceName. */
export function ifnameProblem(name: string): string | undefined {
  if (name.length === 0) return "empty";
  if (Buffer.byteLength(name) > 15) return "longer than 15 bytes";
  if (name === "." || name === "..") return "is . or ..";
  if (/[/:\s]/.test(name)) return "contains /, : or whitespace";
  return undefined;
}

function decode(stdin: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(stdin);
  } catch (e) {
    throw new CniDecodeError("failed to decode the network config from stdin", e instanceof Error ? e.message : String(e));
  }
  if (!isObject(v)) throw new CniDecodeError("failed to decode the network config from stdin", "not a JSON object");
  return v;
}

function checkVersion(v: unknown): CniVersion {
  const supported: readonly string[] = SUPPORTED_VERSIONS;
  if (typeof v === "string" && supported.includes(v)) return v as CniVersion;
  const said = typeof v === "string" ? JSON.stringify(v) : "missing";
  throw new CniVersionError("Incompatible CNI version", `config cniVersion is ${said}, dcnet-cni supports ${SUPPORTED_VERSIONS.join(", ")}`);
}

function parseConf(raw: Record<string, unknown>, cniVersion: CniVersion): NetConf {
  const name = raw.name;
  if (typeof name !== "string" || !NAME_RE.test(name)) throw new CniConfigError(name === undefined ? "missing network name" : `invalid network name ${JSON.stringify(name)}`);
  if (raw.ipam !== undefined) throw new CniUnsupportedFieldError(`unsupported field "ipam": ${JSON.stringify(raw.ipam)}`, "dcnet-cni assigns addresses itself from `subnet` (and `subnet6`); remove the ipam section");
  const bridge = raw.bridge ?? CNI_BRIDGE;
  if (typeof bridge !== "string" || ifnameProblem(bridge)) throw new CniConfigError(`invalid "bridge" ${JSON.stringify(bridge)}`);
  const v4 = pool(raw, "subnet", "gateway", "ip");
  if (!v4) throw new CniConfigError(`missing "subnet" (the IPv4 subnet containers get addresses from, e.g. "9.0.7.0/25")`);
  const v6 = pool(raw, "subnet6", "gateway6", "ip6");
  const mtu = raw.mtu;
  if (mtu !== undefined && (!Number.isInteger(mtu) || (mtu as number) < 576 || (mtu as number) > 65535)) throw new CniConfigError(`invalid "mtu" ${JSON.stringify(mtu)}: an integer 576–65535`);
  const dataDir = raw.dataDir ?? `${DEFAULT_STATE_DIR}/${name}`;
  if (typeof dataDir !== "string" || !dataDir.startsWith("/")) throw new CniConfigError(`invalid "dataDir" ${JSON.stringify(dataDir)}: an absolute path`);
  const prevResult = raw.prevResult;
  if (prevResult !== undefined && !isObject(prevResult)) throw new CniConfigError(`invalid "prevResult": not an object`);
  return {
    cniVersion,
    name,
    bridge,
    v4,
    ...(v6 ? { v6 } : {}),
    ...(mtu !== undefined ? { mtu: mtu as number } : {}),
    dataDir,
    ...(raw.dns !== undefined ? { dns: dns(raw.dns) } : {}),
    portMappings: portMappings(raw.runtimeConfig),
    ...(prevResult ? { prevResult } : {}),
  };
}

function pool(raw: Record<string, unknown>, subnetKey: string, gatewayKey: string, family: "ip" | "ip6"): Pool | undefined {
  const s = raw[subnetKey];
  if (s === undefined) {
    if (raw[gatewayKey] !== undefined) throw new CniConfigError(`"${gatewayKey}" without "${subnetKey}"`);
    return undefined;
  }
  const cidr = typeof s === "string" ? parseCidr(s, family) : "not a string";
  if (typeof cidr === "string") throw new CniConfigError(`invalid "${subnetKey}" ${JSON.stringify(s)}: ${cidr}`);
  const { first, last } = hostRange(cidr);
  // The gateway plus at least one container.
  if (last <= first) throw new CniConfigError(`"${subnetKey}" ${s} is too small: it needs room for the gateway and a container`);
  const g = raw[gatewayKey];
  if (g === undefined) return { cidr, gateway: first };
  const ip = typeof g === "string" ? parseIp(g) : undefined;
  if (!ip || ip.family !== family || !contains(cidr, ip.value) || ip.value < first || ip.value > last) {
    throw new CniConfigError(`invalid "${gatewayKey}" ${JSON.stringify(g)}: a host address of ${s}`);
  }
  return { cidr, gateway: ip.value };
}

function dns(v: unknown): Dns {
  if (!isObject(v)) throw new CniConfigError(`invalid "dns": not an object`);
  const list = (k: string): readonly string[] | undefined => {
    const x = v[k];
    if (x === undefined) return undefined;
    if (!Array.isArray(x) || !x.every((e) => typeof e === "string")) throw new CniConfigError(`invalid "dns.${k}": a list of strings`);
    return x as string[];
  };
  if (v.domain !== undefined && typeof v.domain !== "string") throw new CniConfigError(`invalid "dns.domain": a string`);
  const out: { -readonly [K in keyof Dns]: Dns[K] } = {};
  for (const k of ["nameservers", "search", "options"] as const) {
    const l = list(k);
    if (l) out[k] = l;
  }
  if (typeof v.domain === "string") out.domain = v.domain;
  return out;
}

function portMappings(runtimeConfig: unknown): readonly PortMapping[] {
  if (runtimeConfig === undefined) return [];
  if (!isObject(runtimeConfig)) throw new CniConfigError(`invalid "runtimeConfig": not an object`);
  const pm = runtimeConfig.portMappings;
  if (pm === undefined || pm === null) return [];
  if (!Array.isArray(pm)) throw new CniConfigError(`invalid "runtimeConfig.portMappings": not a list`);
  const out = pm.map((m, i) => portMapping(m, i));
  const seen = new Set<string>();
  for (const m of out) {
    const key = `${m.hostIP ?? "*"} ${m.protocol} ${m.hostPort}`;
    if (seen.has(key)) throw new CniConfigError(`"runtimeConfig.portMappings" maps ${m.protocol} port ${m.hostPort}${m.hostIP ? ` on ${m.hostIP}` : ""} twice`);
    seen.add(key);
  }
  return out;
}

function portMapping(m: unknown, i: number): PortMapping {
  const where = `runtimeConfig.portMappings[${i}]`;
  if (!isObject(m)) throw new CniConfigError(`invalid "${where}": not an object`);
  const port = (k: string): number => {
    const p = m[k];
    if (!Number.isInteger(p) || (p as number) < 1 || (p as number) > 65535) throw new CniConfigError(`invalid "${where}.${k}" ${JSON.stringify(p)}: a port 1–65535`);
    return p as number;
  };
  const protocol = typeof m.protocol === "string" ? m.protocol.toLowerCase() : (m.protocol ?? "tcp");
  if (protocol !== "tcp" && protocol !== "udp" && protocol !== "sctp") throw new CniConfigError(`invalid "${where}.protocol" ${JSON.stringify(m.protocol)}: tcp, udp or sctp`);
  const hostIP = m.hostIP;
  if (hostIP !== undefined && hostIP !== "" && (typeof hostIP !== "string" || !parseIp(hostIP))) throw new CniConfigError(`invalid "${where}.hostIP" ${JSON.stringify(hostIP)}`);
  // The port map is an `ip` (IPv4) nftables table: an IPv6 host address would be silently unmapped.
  if (typeof hostIP === "string" && parseIp(hostIP)?.family === "ip6") throw new CniUnsupportedFieldError(`unsupported "${where}.hostIP" ${JSON.stringify(hostIP)}: dcnet-cni maps IPv4 host addresses only`);
  const any = hostIP === undefined || hostIP === "" || hostIP === "0.0.0.0";
  return { hostPort: port("hostPort"), containerPort: port("containerPort"), protocol, ...(any ? {} : { hostIP: hostIP as string }) };
}

function validAttachments(v: unknown): readonly AttachmentId[] {
  if (!Array.isArray(v)) throw new CniConfigError(`GC needs "cni.dev/valid-attachments": a list of {containerID, ifname}`);
  return v.map((a, i) => {
    if (!isObject(a) || typeof a.containerID !== "string" || typeof a.ifname !== "string") throw new CniConfigError(`invalid "cni.dev/valid-attachments[${i}]": {containerID, ifname}`);
    return { containerId: a.containerID, ifname: a.ifname };
  });
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
