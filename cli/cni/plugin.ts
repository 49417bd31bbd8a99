// The CNI operations (SPEC.md §2) on one attachment: leases (ipam.ts) + the veth (netns.ts) + port
// mappings (portmap.ts). The kernel is a parameter, so the order of steps and every rollback are
// tested against a fake (plugin.test.ts) and the real tools in integration/cni.test.ts.
//
// ADD: lease → veth → port mappings; a failure at any step undoes the earlier ones, so a failed ADD
// leaves no lease, no veth, no element. DEL: port mappings → veth → lease, each step fine when its
// thing is already gone (DEL after the netns is gone, DEL twice, DEL of an unknown container).
import { existsSync } from "node:fs";
import { formatIp, parseIp } from "../../config/ip.js";
import { cidrText, derivedMacs, poolSize } from "./cidr.js";
import { SUPPORTED_VERSIONS, type Attachment, type AttachmentId, type CniRequest, type NetConf, type PortMapping } from "./config.js";
import { CniAttachmentExistsError, CniCheckFailedError, CniConfigError, CniError, CniKernelError, CniNoNetnsError, CniUnavailableError } from "./errors.js";
import { LeaseStore, ownedBy, tryUnlink, type Lease, type LeaseRecord } from "./ipam.js";
import { attach, bridgeInfo, detach, hostVethName, inspectContainer, inspectHost, type BridgeInfo, type ContainerView, type HostView, type VethPlan } from "./netns.js";
import { addMappings, listMappings, missingMappings, removeMappings } from "./portmap.js";
import { buildResult, containerInterface, parseResult, type CniResult } from "./result.js";
import type { Run } from "./run.js";

/** The kernel verbs the operations need; systemKernel runs `ip` and `nft`. */
export interface Kernel {
  netnsExists(path: string): boolean;
  bridgeInfo(bridge: string): Promise<BridgeInfo>;
  attach(plan: VethPlan): Promise<BridgeInfo>;
  detach(hostVeth: string): Promise<void>;
  inspectContainer(netns: string, ifname: string, v6: boolean): Promise<ContainerView | undefined>;
  inspectHost(hostVeth: string): Promise<HostView | undefined>;
  /** `subnet`: the container subnet (CIDR) whose containers reach each other through mapped ports. */
  addMappings(subnet: string, target: string, mappings: readonly PortMapping[]): Promise<void>;
  removeMappings(target: string, mappings: readonly PortMapping[]): Promise<void>;
  listMappings(): Promise<Map<string, string>>;
}

export function systemKernel(run: Run): Kernel {
  return {
    netnsExists: (p) => existsSync(p),
    bridgeInfo: (b) => bridgeInfo(run, b),
    attach: (p) => attach(run, p),
    detach: (v) => detach(run, v),
    inspectContainer: (n, i, v6) => inspectContainer(run, n, i, v6),
    inspectHost: (v) => inspectHost(run, v),
    addMappings: (b, t, m) => addMappings(run, b, t, m),
    removeMappings: (t, m) => removeMappings(run, t, m),
    listMappings: () => listMappings(run),
  };
}

/** What a call prints on stdout: a result, a version answer, or nothing. */
export type Output = CniResult | { readonly cniVersion: string; readonly supportedVersions: readonly string[] } | undefined;

export async function handle(req: CniRequest, k: Kernel): Promise<Output> {
  switch (req.command) {
    case "VERSION":
      return { cniVersion: req.cniVersion, supportedVersions: SUPPORTED_VERSIONS };
    case "ADD":
      return add(req.conf, req.att, k);
    case "DEL":
      return del(req.conf, req.att, k);
    case "CHECK":
      return check(req.conf, req.att, k);
    case "STATUS":
      return status(req.conf, k);
    case "GC":
      return gc(req.conf, req.valid, k);
  }
}

export async function add(conf: NetConf, att: Attachment, k: Kernel): Promise<CniResult> {
  if (!k.netnsExists(att.netns)) throw new CniNoNetnsError(`network namespace ${att.netns} does not exist`);
  const prev = conf.prevResult ? parseResult(conf.prevResult, conf.cniVersion) : undefined;
  const store = new LeaseStore(conf.dataDir);
  const leases = store.scan();
  const mine = ownedBy(leases, att);
  if (mine.length > 0) {
    throw new CniAttachmentExistsError(`container ${att.containerId} is attached with ${att.ifname} already (${mine.map((l) => l.ip).join(", ")})`, "the spec allows one ADD per (container, ifname) until its DEL");
  }
  const mtu = conf.mtu ?? (await k.bridgeInfo(conf.bridge)).mtu;
  const record: LeaseRecord = { containerId: att.containerId, ifname: att.ifname, netns: att.netns, ...(conf.portMappings.length > 0 ? { portMappings: conf.portMappings } : {}) };
  const taken = new Set(leases.map((l) => l.ip));
  const reserved: string[] = [];
  // Set once the veth exists: attach() undoes its own partial work, everything after it is undone here.
  let veth: string | undefined;
  try {
    const ip4 = store.reserve(conf.v4, record, taken);
    reserved.push(ip4);
    const ip6 = conf.v6 ? store.reserve(conf.v6, record, taken) : undefined;
    if (ip6) reserved.push(ip6);
    const macs = derivedMacs(parseIp(ip4)?.value ?? 0n);
    const addrs: VethPlan["addrs"] = [
      { family: "ip", address: `${ip4}/${conf.v4.cidr.prefix}`, gateway: formatIp("ip", conf.v4.gateway) },
      ...(ip6 && conf.v6 ? [{ family: "ip6" as const, address: `${ip6}/${conf.v6.cidr.prefix}`, gateway: formatIp("ip6", conf.v6.gateway) }] : []),
    ];
    const plan: VethPlan = { bridge: conf.bridge, hostVeth: hostVethName(att), hostMac: macs.host, containerMac: macs.container, ifname: att.ifname, netns: att.netns, mtu, addrs, scratchDir: conf.dataDir };
    const bridge = await k.attach(plan);
    veth = plan.hostVeth;
    await k.addMappings(cidrText(conf.v4.cidr), ip4, conf.portMappings);
    const ends = { host: { name: plan.hostVeth, mac: plan.hostMac }, container: { name: att.ifname, mac: plan.containerMac, sandbox: att.netns } };
    return buildResult(conf.cniVersion, { bridge: { name: conf.bridge, mac: bridge.mac }, ...ends, mtu, ips: addrs }, conf.dns, prev);
  } catch (e) {
    await rollback(k, store, veth, reserved, e);
    throw e;
  }
}

/** Undoes an ADD's veth (when it got that far) and its leases; a failing undo keeps the leases. */
async function rollback(k: Kernel, store: LeaseStore, hostVeth: string | undefined, reserved: readonly string[], cause: unknown): Promise<void> {
  if (hostVeth) {
    try {
      await k.detach(hostVeth);
    } catch (e) {
      // Keeping the leases keeps the addresses out of use until the runtime's DEL removes the veth.
      const why = e instanceof CniError ? `${e.message}: ${e.details ?? ""}` : String(e);
      throw new CniKernelError(`ADD failed and its rollback too; DEL removes what is left`, `${cause instanceof Error ? cause.message : String(cause)}; rollback: ${why}`, { cause });
    }
  }
  store.release(reserved);
}

export async function del(conf: NetConf, att: AttachmentId, k: Kernel): Promise<undefined> {
  const store = new LeaseStore(conf.dataDir);
  const mine = ownedBy(store.scan(), att);
  const mapped = mine.find((l) => l.family === "ip" && (l.record?.portMappings?.length ?? 0) > 0);
  if (mapped) await k.removeMappings(mapped.ip, mapped.record?.portMappings ?? []);
  await k.detach(hostVethName(att));
  store.release(mine.map((l) => l.ip));
  return undefined;
}

export async function check(conf: NetConf, att: Attachment, k: Kernel): Promise<undefined> {
  if (!conf.prevResult) throw new CniConfigError("Required prevResult missing", "CHECK needs the result of the attachment's ADD as prevResult");
  if (!k.netnsExists(att.netns)) throw new CniNoNetnsError(`network namespace ${att.netns} does not exist`);
  const prev = parseResult(conf.prevResult, conf.cniVersion);
  const fail = (what: string): never => {
    throw new CniCheckFailedError(`${att.ifname} in ${att.netns}: ${what}`);
  };
  const idx = containerInterface(prev, att.ifname, att.netns);
  if (idx < 0) fail("prevResult lists no such interface in this sandbox");
  const expected = (prev.ips ?? []).filter((ip) => ip.interface === idx);
  const view = (await k.inspectContainer(att.netns, att.ifname, conf.v6 !== undefined)) ?? fail("the interface is missing");
  const want = prev.interfaces?.[idx];
  if (want?.mac && want.mac.toLowerCase() !== view.mac.toLowerCase()) fail(`MAC is ${view.mac}, prevResult says ${want.mac}`);
  if (conf.mtu !== undefined && view.mtu !== conf.mtu) fail(`MTU is ${view.mtu}, the config says ${conf.mtu}`);
  if (!view.up) fail("the interface is down");
  for (const ip of expected) if (!view.addrs.includes(ip.address)) fail(`address ${ip.address} is missing`);
  for (const r of prev.routes ?? []) {
    if (r.dst !== "0.0.0.0/0" && r.dst !== "::/0") continue;
    const gw = r.gw ?? expected.find((ip) => ip.gateway && ip.gateway.includes(":") === r.dst.includes(":"))?.gateway;
    if (gw && !view.gateways.includes(gw)) fail(`the default route via ${gw} is missing${unreachedResolvers(conf, gw)}`);
  }
  await checkHost(conf, att, k);
  await checkLeases(conf, att, expected.map((ip) => ip.address.split("/")[0] as string), k);
  return undefined;
}

/** A container without its default route cannot reach the node's resolver addresses either: say so, and how to mend it. */
function unreachedResolvers(conf: NetConf, gw: string): string {
  const servers = (conf.dns?.nameservers ?? []).filter((n) => n.includes(":") === gw.includes(":"));
  if (servers.length === 0) return "";
  return `: its resolvers ${servers.join(", ")} (the node's DNS, reached through the gateway) are unreachable, so every DNS lookup in it fails; add it back (ip route add default via ${gw}) or re-create the container`;
}

async function checkHost(conf: NetConf, att: Attachment, k: Kernel): Promise<void> {
  const name = hostVethName(att);
  const host = await k.inspectHost(name);
  if (!host) throw new CniCheckFailedError(`host end ${name} of ${att.ifname} is missing`);
  if (host.master !== conf.bridge) throw new CniCheckFailedError(`host end ${name} is not a port of ${conf.bridge}`);
  if (!host.hairpin) throw new CniCheckFailedError(`host end ${name} has hairpin off`);
}

async function checkLeases(conf: NetConf, att: Attachment, addresses: readonly string[], k: Kernel): Promise<void> {
  const mine: Lease[] = ownedBy(new LeaseStore(conf.dataDir).scan(), att);
  for (const a of addresses) {
    if (!mine.some((l) => l.ip === a)) throw new CniCheckFailedError(`${att.ifname} in ${att.netns}: address ${a} is not leased to container ${att.containerId}`);
  }
  const mapped = mine.find((l) => l.family === "ip" && (l.record?.portMappings?.length ?? 0) > 0);
  if (!mapped) return;
  const missing = missingMappings(await k.listMappings(), mapped.ip, mapped.record?.portMappings ?? []);
  if (missing.length > 0) throw new CniCheckFailedError(`port mappings missing: ${missing.map((m) => `${m.protocol}/${m.hostPort}`).join(", ")}`);
}

/** STATUS (1.1): ready when the bridge is there and the subnet has a free address. */
export async function status(conf: NetConf, k: Kernel): Promise<undefined> {
  try {
    await k.bridgeInfo(conf.bridge);
  } catch (e) {
    if (e instanceof CniError) throw new CniUnavailableError(e.message, e.details);
    throw e;
  }
  const store = new LeaseStore(conf.dataDir);
  const used = store.scan().filter((l) => l.family === "ip").length;
  if (BigInt(used) >= poolSize(conf.v4.cidr, conf.v4.gateway)) throw new CniUnavailableError(`subnet ${formatIp("ip", conf.v4.cidr.base)}/${conf.v4.cidr.prefix} exhausted`);
  return undefined;
}

/**
 * GC (1.1): every lease whose attachment is not in the runtime's valid list goes, with its port
 * mappings and host veth; also temporary files of killed plugin calls. Goes on past a failure and
 * reports the failures together.
 */
export async function gc(conf: NetConf, valid: readonly AttachmentId[], k: Kernel): Promise<undefined> {
  const store = new LeaseStore(conf.dataDir);
  const keep = new Set(valid.map((v) => `${v.containerId}\0${v.ifname}`));
  const stale = new Map<string, Lease[]>();
  for (const l of store.scan()) {
    if (!l.record) continue;
    const id = `${l.record.containerId}\0${l.record.ifname}`;
    if (!keep.has(id)) stale.set(id, [...(stale.get(id) ?? []), l]);
  }
  const errors: string[] = [];
  for (const leases of stale.values()) {
    const rec = leases[0]?.record as LeaseRecord;
    try {
      await del(conf, { containerId: rec.containerId, ifname: rec.ifname }, k);
    } catch (e) {
      errors.push(e instanceof Error ? e.message : String(e));
    }
  }
  for (const f of store.staleTemporaries(60_000)) tryUnlink(f);
  if (errors.length > 0) throw new CniKernelError(`GC could not remove ${errors.length} stale attachment(s)`, errors.join("; "));
  return undefined;
}
