// The container's link: a veth pair from the bridge (m-dcos) into the container's network namespace,
// made with iproute2. Why `ip` and not netlink from Node: Node cannot enter a network namespace
// (setns) without a native addon, and `ip -batch` does a whole side in one process.
//
// A process costs far more than anything else a call does, and a process started by Node (a large
// process to fork, pipes, event-loop turns) costs more than one started by a small one: on the bench
// machine an `ip -n … -batch` from Node took 31 ms at p50 under load where the same from Python took
// 18–20. So an ADD is ONE `ip -j -batch -` started by Node: the host lines (show the bridge, missing →
// nothing made; create the pair with the container end already in the netns under its final name;
// enslave the host end; hairpin on), then `netns exec <name> ip -batch <file>`, which `ip` forks
// itself to run the container's lines (addresses, up, default routes) inside the namespace. The
// node's CNI socket keeps that `ip -j -batch -` started ahead (HOST_IP, run.ts warmRun), so an ADD
// from the socket starts no process from Node at all. `ip netns exec` and `ip -n` take only names
// under /var/run/netns: a CNI_NETNS there (podman, containerd, `ip netns add`) is used by its name,
// any other path (/proc/<pid>/ns/net) through a symlink made there for the call (`ip` opens the name
// and follows it). The container's lines go through a file (in the lease directory, removed after):
// the outer `ip` reads its stdin buffered, so an inner one would find nothing left there. Any failure
// after the pair exists deletes it (the container end goes with it): no half-made veth survives a
// failed ADD. DEL's delete is a batch of HOST_IP too.
import { mkdirSync, symlinkSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { AttachmentId } from "./config.js";
import { CniAttachmentExistsError, CniBridgeMissingError, CniIoError, CniKernelError, CniNoNetnsError } from "./errors.js";
import { firstLines, type Run, type RunResult } from "./run.js";

export interface VethPlan {
  readonly bridge: string;
  readonly hostVeth: string;
  readonly hostMac: string;
  readonly containerMac: string;
  readonly ifname: string;
  readonly netns: string;
  readonly mtu: number;
  readonly addrs: ReadonlyArray<{ readonly family: "ip" | "ip6"; readonly address: string; readonly gateway: string }>;
  /** A private directory for the container's batch file (the lease directory). */
  readonly scratchDir: string;
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

/** The host side's one command: every host-side step is a batch of it, so a warm spare can run any of them. */
export const HOST_IP = ["ip", "-j", "-batch", "-"] as const;

function hostIp(run: Run, batch: string): Promise<RunResult> {
  return run(HOST_IP[0], HOST_IP.slice(1), batch);
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
export async function bridgeInfo(run: Run, bridge: string): Promise<BridgeInfo> {
  const r = await hostIp(run, `link show dev ${bridge}`);
  if (r.code !== 0) throw /does not exist|Cannot find device/.test(r.stderr) ? bridgeMissing(bridge, r.stderr) : kernel("ip link show", r.stderr);
  const l = linkOf(batchJson(r.stdout)[0]);
  return { mac: l?.address ?? "", mtu: l?.mtu ?? 0 };
}

/** The whole ADD as one HOST_IP batch: the host lines, then the container's lines from `file` inside the netns `name`. */
export function attachBatch(p: VethPlan, name: string, file: string): string {
  return `${hostBatch(p)}\nnetns exec ${name} ip -batch ${file}`;
}

/** Batch files this process wrote: pid and a counter keep the names apart. */
let batches = 0;

/** Makes the link of VethPlan, or throws with nothing left behind. Returns the bridge's MAC and MTU. */
export async function attach(run: Run, p: VethPlan): Promise<BridgeInfo> {
  // Named like a lease's temporary file, so GC removes one a killed call left behind.
  const file = join(p.scratchDir, `.lease-batch-${process.pid}-${(batches++).toString(36)}.tmp`);
  try {
    mkdirSync(p.scratchDir, { recursive: true, mode: 0o755 });
    writeFileSync(file, `${containerBatch(p)}\n`, { mode: 0o600, flag: "wx" });
  } catch (e) {
    throw new CniIoError(`cannot write the container's batch in ${p.scratchDir}`, e instanceof Error ? e.message : String(e));
  }
  let h: RunResult;
  try {
    h = await inNetns(p.netns, (name) => hostIp(run, attachBatch(p, name, file)));
  } finally {
    try {
      unlinkSync(file);
    } catch {
      // gone already
    }
  }
  if (h.code !== 0) {
    const line = failedLine(h.stderr) ?? 0;
    if (line === 1) throw bridgeMissing(p.bridge, h.stderr);
    if (line >= 3) await undo(run, p.hostVeth, h.stderr);
    if (line === 2 && /File exists/.test(h.stderr)) throw new CniAttachmentExistsError(`interface ${p.ifname} exists in ${p.netns} (or ${p.hostVeth} on the host)`, firstLines(h.stderr));
    if (line === 2 && /netns/.test(h.stderr)) throw new CniNoNetnsError(`network namespace ${p.netns} does not exist`, firstLines(h.stderr));
    if (line === 5 && NETNS_GONE.test(h.stderr)) throw new CniNoNetnsError(`network namespace ${p.netns} vanished during ADD`, firstLines(h.stderr));
    if (line === 5) throw kernel(`configuring ${p.ifname} in ${p.netns}`, h.stderr);
    throw kernel("attaching the host end of the veth", h.stderr);
  }
  const bridge = linkOf(batchJson(h.stdout)[0]);
  return { mac: bridge?.address ?? "", mtu: bridge?.mtu ?? p.mtu };
}

/** What `ip -n` says when the namespace's file is gone (or the symlink's target). */
const NETNS_GONE = /Cannot open network namespace .*No such file or directory/;

/** The name `ip -n` takes for a CNI_NETNS directly in /var/run/netns (or /run/netns, the same folder), else undefined. */
export function netnsName(path: string): string | undefined {
  const m = /^\/(?:var\/)?run\/netns\/([^/]+)$/.exec(path);
  return m && m[1] !== "." && m[1] !== ".." ? m[1] : undefined;
}

/** Symlinks this process made under /var/run/netns: pid, time and a counter keep the names apart. */
let linked = 0;

/**
 * Runs `fn` with a name `ip -n` accepts for `path`: its own, or a symlink to it made for the call and
 * removed after (a call killed in between leaves a dangling link named dcnet-cni-<pid>-…, harmless).
 */
export async function inNetns<T>(path: string, fn: (name: string) => Promise<T>): Promise<T> {
  const own = netnsName(path);
  if (own !== undefined) return fn(own);
  const name = `dcnet-cni-${process.pid}-${Date.now().toString(36)}-${(linked++).toString(36)}`;
  const link = `/var/run/netns/${name}`;
  try {
    mkdirSync("/var/run/netns", { recursive: true, mode: 0o755 });
    symlinkSync(path, link);
  } catch (e) {
    throw kernel(`naming the network namespace ${path} for ip -n`, e instanceof Error ? e.message : String(e));
  }
  try {
    return await fn(name);
  } finally {
    try {
      unlinkSync(link);
    } catch {
      // gone already
    }
  }
}

/** Deletes the host end (and with it the container end); one already gone is fine. */
export async function detach(run: Run, hostVeth: string): Promise<void> {
  const r = await hostIp(run, `link del dev ${hostVeth}`);
  if (r.code !== 0 && !/Cannot find device|does not exist/.test(r.stderr)) throw kernel(`deleting ${hostVeth}`, r.stderr);
}

async function undo(run: Run, hostVeth: string, why: string): Promise<void> {
  const r = await hostIp(run, `link del dev ${hostVeth}`);
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
export function inspectContainer(run: Run, netns: string, ifname: string, v6: boolean): Promise<ContainerView | undefined> {
  return inNetns(netns, (name) => readContainer(run, netns, name, ifname, v6));
}

async function readContainer(run: Run, netns: string, name: string, ifname: string, v6: boolean): Promise<ContainerView | undefined> {
  const r = await run("ip", ["-n", name, "-j", "-batch", "-"], `addr show dev ${ifname}\nroute show default`);
  if (r.code !== 0) {
    if (NETNS_GONE.test(r.stderr)) throw new CniNoNetnsError(`network namespace ${netns} does not exist`, firstLines(r.stderr));
    if (failedLine(r.stderr) === 1) return undefined;
    throw kernel(`reading ${ifname} in ${netns}`, r.stderr);
  }
  const [addrShow, routes4] = batchJson(r.stdout);
  const link = linkOf(addrShow);
  if (!link) return undefined;
  const routes = [...(routes4 ?? [])];
  if (v6) {
    // A batch line cannot say -6, and `route show ::/0` without it lists IPv4.
    const r6 = await run("ip", ["-n", name, "-6", "-j", "route", "show", "default"]);
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

export async function inspectHost(run: Run, hostVeth: string): Promise<HostView | undefined> {
  const r = await run("ip", ["-j", "-d", "link", "show", "dev", hostVeth]);
  if (r.code !== 0) {
    if (/does not exist|Cannot find device/.test(r.stderr)) return undefined;
    throw kernel(`reading ${hostVeth}`, r.stderr);
  }
  const l = linkOf(JSON.parse(r.stdout));
  if (!l) return undefined;
  return { mac: l.address ?? "", mtu: l.mtu ?? 0, master: l.master, hairpin: l.linkinfo?.info_slave_data?.hairpin === true };
}
