// The ADD result (SPEC.md §5 "ADD Success") and the prevResult a runtime hands back for CHECK and
// DEL. Pure.
import { CniConfigError } from "./errors.js";
import { isObject, type CniVersion, type Dns } from "./config.js";

export interface CniInterface {
  readonly name: string;
  readonly mac?: string;
  /** 1.1.0 only. */
  readonly mtu?: number;
  readonly sandbox?: string;
}

export interface CniIp {
  /** CIDR: the address with the subnet's prefix length. */
  readonly address: string;
  readonly gateway?: string;
  /** Index into `interfaces`. */
  readonly interface?: number;
}

export interface CniRoute {
  readonly dst: string;
  readonly gw?: string;
}

export interface CniResult {
  readonly cniVersion: string;
  readonly interfaces?: readonly CniInterface[];
  readonly ips?: readonly CniIp[];
  readonly routes?: readonly CniRoute[];
  readonly dns?: Dns;
}

/** What an ADD made: the bridge, both veth ends, and one address (and default route) per family. */
export interface Attached {
  readonly bridge: { readonly name: string; readonly mac: string };
  readonly host: { readonly name: string; readonly mac: string };
  readonly container: { readonly name: string; readonly mac: string; readonly sandbox: string };
  readonly mtu: number;
  readonly ips: ReadonlyArray<{ readonly family: "ip" | "ip6"; readonly address: string; readonly gateway: string }>;
}

/**
 * The result: bridge, host end, container end (as the reference bridge plugin lists them), each
 * address on the container end, a default route per family via its gateway. A prevResult (a plugin
 * before this one in the chain) is kept and extended, as the spec requires of ADD.
 */
export function buildResult(cniVersion: CniVersion, a: Attached, dns: Dns | undefined, prev?: CniResult): CniResult {
  const mtu = cniVersion === "1.0.0" ? {} : { mtu: a.mtu };
  const ours: CniInterface[] = [
    { name: a.bridge.name, mac: a.bridge.mac },
    { name: a.host.name, mac: a.host.mac, ...mtu },
    { name: a.container.name, mac: a.container.mac, ...mtu, sandbox: a.container.sandbox },
  ];
  const base = prev?.interfaces?.length ?? 0;
  const ips: CniIp[] = a.ips.map((ip) => ({ address: ip.address, gateway: ip.gateway, interface: base + 2 }));
  const routes: CniRoute[] = a.ips.map((ip) => ({ dst: ip.family === "ip" ? "0.0.0.0/0" : "::/0", gw: ip.gateway }));
  const d = dns ?? prev?.dns;
  return {
    cniVersion,
    interfaces: [...(prev?.interfaces ?? []), ...ours],
    ips: [...(prev?.ips ?? []), ...ips],
    routes: [...(prev?.routes ?? []), ...routes],
    ...(d && Object.keys(d).length > 0 ? { dns: d } : {}),
  };
}

/** A prevResult as the spec shapes it, or CniConfigError naming the first thing wrong. */
export function parseResult(raw: Readonly<Record<string, unknown>>, cniVersion: string): CniResult {
  const bad = (what: string): never => {
    throw new CniConfigError(`invalid "prevResult": ${what}`);
  };
  const list = (k: string): unknown[] | undefined => {
    const v = raw[k];
    if (v === undefined || v === null) return undefined;
    return Array.isArray(v) ? v : bad(`"${k}" is not a list`);
  };
  const interfaces = list("interfaces")?.map((x, i): CniInterface => {
    if (!isObject(x) || typeof x.name !== "string") return bad(`interfaces[${i}] has no name`);
    return { name: x.name, ...str(x, "mac"), ...str(x, "sandbox"), ...(typeof x.mtu === "number" ? { mtu: x.mtu } : {}) };
  });
  const ips = list("ips")?.map((x, i): CniIp => {
    if (!isObject(x) || typeof x.address !== "string") return bad(`ips[${i}] has no address`);
    if (x.interface !== undefined && (!Number.isInteger(x.interface) || (x.interface as number) < 0 || (x.interface as number) >= (interfaces?.length ?? 0))) return bad(`ips[${i}].interface is not an index of interfaces`);
    return { address: x.address, ...str(x, "gateway"), ...(x.interface !== undefined ? { interface: x.interface as number } : {}) };
  });
  const routes = list("routes")?.map((x, i): CniRoute => {
    if (!isObject(x) || typeof x.dst !== "string") return bad(`routes[${i}] has no dst`);
    return { dst: x.dst, ...str(x, "gw") };
  });
  return {
    cniVersion: typeof raw.cniVersion === "string" ? raw.cniVersion : cniVersion,
    ...(interfaces ? { interfaces } : {}),
    ...(ips ? { ips } : {}),
    ...(routes ? { routes } : {}),
    ...(isObject(raw.dns) ? { dns: raw.dns as Dns } : {}),
  };
}

function str(x: Record<string, unknown>, k: string): Record<string, string> {
  return typeof x[k] === "string" ? { [k]: x[k] as string } : {};
}

/** The container interface of an attachment in a result: its index, or -1. */
export function containerInterface(r: CniResult, ifname: string, netns: string): number {
  return (r.interfaces ?? []).findIndex((i) => i.name === ifname && i.sandbox === netns);
}
