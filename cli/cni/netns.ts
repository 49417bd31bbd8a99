// The container's link: a veth pair from the bridge (m-dcos) into the container's network namespace,
// made with iproute2. Why `ip` and not netlink from Node: Node cannot enter a network namespace
// (setns) without a native addon, and `ip -batch` does a whole side in one process.
//
// CNI_NETNS is a path (/var/run/netns/x, /proc/<pid>/ns/net): `ip link add … netns <path>` takes one,
// `ip -n` takes only names under /var/run/netns, so the container side runs as
// `nsenter --net=<path> ip -batch -` (util-linux; `ip netns exec` also wants a name and remounts /sys).
// Host side, one `ip -j -batch -`: show the bridge (missing → nothing made), create the pair with the
// container end already in the netns under its final name, enslave the host end, hairpin on.
// Container side, one batch: addresses, up, default routes. Any failure after the pair exists deletes
// it (the container end goes with it): no half-made veth survives a failed ADD.
import type { AttachmentId } from "./config.js";
import { CniAttachmentExistsError, CniBridgeMissingError, CniKernelError, CniNoNetnsError } from "./errors.js";
import { firstLines, type Run } from "./run.js";

export interface VethPlan {
  readonly bridge: string;
  readonly hostVeth: string;
  readonly hostMac: string;
  readonly containerMac: string;
  readonly ifname: string;
  readonly netns: string;
  readonly mtu: number;
  readonly addrs: ReadonlyArray<{ readonly family: "ip" | "ip6"; readonly address: string; readonly gateway: string }>;
}

export interface BridgeInfo {
  readonly mac: string;
  readonly mtu: number;
}

/**
 * The host end's name, derived from the attachment so DEL finds it without a prevResult and a
 * retried ADD cannot make a second one: "dcv" + 12 hex digits (48 bits) of a 64-bit FNV-1a hash
 * (15 bytes, IFNAMSIZ - 1). Not node:crypto: loading it costs a few ms of every container start.
 */
export function hostVethName(id: AttachmentId): string {
  return `dcv${fnv1a64(`${id.containerId}\0${id.ifname}`).slice(0, 12)}`;
}

/** FNV-1a, 64 bits, over the UTF-16 code units, as 16 hex digits. */
export function fnv1a64(s: string): string {
  const PRIME = 0x100000001b3n;
  let h = 0xcbf29ce484222325n;
  for (let i = 0; i < s.length; i++) h = ((h ^ BigInt(s.charCodeAt(i))) * PRIME) & 0xffffffffffffffffn;
  return h.toString(16).padStart(16, "0");
}

export function hostBatch(p: VethPlan): string {
  return [
    `link show dev ${p.bridge}`,
    `link add ${p.hostVeth} address ${p.hostMac} mtu ${p.mtu} type veth peer name ${p.ifname} address ${p.containerMac} mtu ${p.mtu} netns ${p.netns}`,
    `link set dev ${p.hostVeth} master ${p.bridge} up`,
    `link set dev ${p.hostVeth} type bridge_slave hairpin on`,
  ].join("\n");
}

export function containerBatch(p: VethPlan): string {
  return [
    // nodad: the address is ours by lease; DAD would keep it tentative (unusable) for a second or two.
    ...p.addrs.map((a) => `addr add ${a.address} dev ${p.ifname}${a.family === "ip6" ? " nodad" : ""}`),
    `link set dev ${p.ifname} up`,
    ...p.addrs.map((a) => `route add ${a.family === "ip" ? "0.0.0.0/0" : "::/0"} via ${a.gateway} dev ${p.ifname}`),
  ].join("\n");
}

/** The line of a batch that failed (`Command failed -:3`), 1-based. */
export function failedLine(stderr: string): number | undefined {
  const m = /Command failed -:(\d+)/.exec(stderr);
  return m ? Number(m[1]) : undefined;
}

/** `ip -j -batch` prints one JSON array per show command, each on its own line. */
export function batchJson(stdout: string): unknown[][] {
  return stdout
    .split("\n")
    .filter((l) => l.startsWith("["))
    .map((l) => JSON.parse(l) as unknown[]);
}

interface IpLink {
  readonly ifname?: string;
  readonly address?: string;
  readonly mtu?: number;
  readonly flags?: readonly string[];
  readonly master?: string;
  readonly linkinfo?: { readonly info_slave_data?: { readonly hairpin?: boolean } };
  readonly addr_info?: ReadonlyArray<{ readonly family?: string; readonly local?: string; readonly prefixlen?: number }>;
}

function linkOf(v: unknown): IpLink | undefined {
  return Array.isArray(v) && typeof v[0] === "object" && v[0] !== null ? (v[0] as IpLink) : undefined;
}

function bridgeMissing(bridge: string, stderr: string): CniBridgeMissingError {
  return new CniBridgeMissingError(`bridge ${bridge} does not exist`, `dcnet's overlay creates it when the node has its subnet; is the overlay enabled and the node up? (${firstLines(stderr)})`);
}

/** The bridge's MAC and MTU; CniBridgeMissingError when it is not there. */
export function bridgeInfo(run: Run, bridge: string): BridgeInfo {
  const r = run("ip", ["-j", "link", "show", "dev", bridge]);
  if (r.code !== 0) throw /does not exist|Cannot find device/.test(r.stderr) ? bridgeMissing(bridge, r.stderr) : kernel("ip link show", r.stderr);
  const l = linkOf(JSON.parse(r.stdout));
  return { mac: l?.address ?? "", mtu: l?.mtu ?? 0 };
}

/** Makes the link of VethPlan, or throws with nothing left behind. Returns the bridge's MAC and MTU. */
export function attach(run: Run, p: VethPlan): BridgeInfo {
  const h = run("ip", ["-j", "-batch", "-"], hostBatch(p));
  if (h.code !== 0) {
    const line = failedLine(h.stderr) ?? 0;
    if (line === 1) throw bridgeMissing(p.bridge, h.stderr);
    if (line >= 3) undo(run, p.hostVeth, h.stderr);
    if (line === 2 && /File exists/.test(h.stderr)) throw new CniAttachmentExistsError(`interface ${p.ifname} exists in ${p.netns} (or ${p.hostVeth} on the host)`, firstLines(h.stderr));
    if (line === 2 && /netns/.test(h.stderr)) throw new CniNoNetnsError(`network namespace ${p.netns} does not exist`, firstLines(h.stderr));
    throw kernel("attaching the host end of the veth", h.stderr);
  }
  const bridge = linkOf(batchJson(h.stdout)[0]);
  const c = run("nsenter", [`--net=${p.netns}`, "ip", "-batch", "-"], containerBatch(p));
  if (c.code !== 0) {
    undo(run, p.hostVeth, c.stderr);
    if (/nsenter: cannot open/.test(c.stderr)) throw new CniNoNetnsError(`network namespace ${p.netns} vanished during ADD`, firstLines(c.stderr));
    throw kernel(`configuring ${p.ifname} in ${p.netns}`, c.stderr);
  }
  return { mac: bridge?.address ?? "", mtu: bridge?.mtu ?? p.mtu };
}

/** Deletes the host end (and with it the container end); one already gone is fine. */
export function detach(run: Run, hostVeth: string): void {
  const r = run("ip", ["link", "del", "dev", hostVeth]);
  if (r.code !== 0 && !/Cannot find device|does not exist/.test(r.stderr)) throw kernel(`deleting ${hostVeth}`, r.stderr);
}

function undo(run: Run, hostVeth: string, why: string): void {
  const r = run("ip", ["link", "del", "dev", hostVeth]);
  if (r.code !== 0 && !/Cannot find device|does not exist/.test(r.stderr)) {
    throw kernel(`rolling back ${hostVeth} (it may be left behind; DEL removes it)`, `${why}\n${r.stderr}`);
  }
}

function kernel(what: string, stderr: string): CniKernelError {
  return new CniKernelError(`${what} failed`, firstLines(stderr));
}

export interface ContainerView {
  readonly mac: string;
  readonly mtu: number;
  readonly up: boolean;
  /** Global addresses with prefix length: `9.0.7.5/25`. */
  readonly addrs: readonly string[];
  /** Gateways of the default routes through the interface. */
  readonly gateways: readonly string[];
}

/** The container interface as the kernel has it, or undefined when it is missing (CHECK). */
export function inspectContainer(run: Run, netns: string, ifname: string, v6: boolean): ContainerView | undefined {
  const r = run("nsenter", [`--net=${netns}`, "ip", "-j", "-batch", "-"], `addr show dev ${ifname}\nroute show default`);
  if (r.code !== 0) {
    if (/nsenter: cannot open/.test(r.stderr)) throw new CniNoNetnsError(`network namespace ${netns} does not exist`, firstLines(r.stderr));
    if (failedLine(r.stderr) === 1) return undefined;
    throw kernel(`reading ${ifname} in ${netns}`, r.stderr);
  }
  const [addrShow, routes4] = batchJson(r.stdout);
  const link = linkOf(addrShow);
  if (!link) return undefined;
  const routes = [...(routes4 ?? [])];
  if (v6) {
    // A batch line cannot say -6, and `route show ::/0` without it lists IPv4.
    const r6 = run("nsenter", [`--net=${netns}`, "ip", "-6", "-j", "route", "show", "default"]);
    if (r6.code !== 0) throw kernel(`reading IPv6 routes in ${netns}`, r6.stderr);
    routes.push(...(JSON.parse(r6.stdout || "[]") as unknown[]));
  }
  const gateways = routes
    .filter((x): x is { dev?: string; gateway?: string } => typeof x === "object" && x !== null)
    .filter((x) => x.dev === ifname && typeof x.gateway === "string")
    .map((x) => x.gateway as string);
  return {
    mac: link.address ?? "",
    mtu: link.mtu ?? 0,
    up: (link.flags ?? []).includes("UP"),
    addrs: (link.addr_info ?? []).filter((a) => a.local && !a.local.startsWith("fe80:")).map((a) => `${a.local}/${a.prefixlen}`),
    gateways,
  };
}

export interface HostView {
  readonly mac: string;
  readonly mtu: number;
  readonly master: string | undefined;
  readonly hairpin: boolean;
}

export function inspectHost(run: Run, hostVeth: string): HostView | undefined {
  const r = run("ip", ["-j", "-d", "link", "show", "dev", hostVeth]);
  if (r.code !== 0) {
    if (/does not exist|Cannot find device/.test(r.stderr)) return undefined;
    throw kernel(`reading ${hostVeth}`, r.stderr);
  }
  const l = linkOf(JSON.parse(r.stdout));
  if (!l) return undefined;
  return { mac: l.address ?? "", mtu: l.mtu ?? 0, master: l.master, hairpin: l.linkinfo?.info_slave_data?.hairpin === true };
}
