// What this node's kernel must hold for the overlay, from its own facts and its peers' (dcos-net.md
// §4.3, dataplane.md §2): the VTEP, the two bridges on the halves of its subnet, and one entry set
// per peer. Peer facts come from other nodes through the replicated store, so they are checked
// here: a fact that would misroute (an address outside the VTEP subnet, a MAC, VTEP address or
// subnet another node also claims) is skipped with a reason, never programmed, never thrown.
// Collisions skip every node involved: which one is right cannot be told from the facts (the
// allocator makes them unique, so a collision is a stale or forged fact), and skipping all of them
// makes the result independent of the order the facts came in.
import { formatIp, parseIp } from "../../../config/ip.js";
import { OverlayOwnInvalidError } from "../errors.js";
import { CNI_BRIDGE, DOCKER_BRIDGE, VNI, VTEP_DEVICE, VXLAN_PORT, type DirectRouting, type NodeOverlay, type OverlayDesired } from "../model.js";
import { canonicalMac, contains, familyBits, formatPrefix, halves, isUnicastMac, lastOf, parsePrefix, withPrefix, type Family, type Prefix } from "./ip.js";

export interface OverlayDesiredOptions {
  /** MTU of the VTEP and the bridges (underlay MTU − 50). */
  readonly mtu: number;
  /** Length of the VTEP subnet around own.vtepIp (DC/OS: 20, 44.128.0.0/20). */
  readonly vtepPrefix: number;
  /** Same for own.vtepIp6; default 64 (fd01:a::/64). */
  readonly vtepPrefix6?: number;
  /** Length every node's subnet has (DC/OS: 24). */
  readonly subnetPrefix: number;
  /** Length every node's subnet6 has (DC/OS: 80); not checked when absent. */
  readonly subnetPrefix6?: number;
  /**
   * Direct routing (overlay.directRouting): the underlay device holding this node's agent address
   * and that address's subnet (`10.99.0.1/24` or the network); absent: every peer over VXLAN.
   */
  readonly direct?: DirectRouting;
}

export type SkipReason = "bad-address" | "own-agent-ip" | "vtep-outside-subnet" | "vtep-collision" | "mac-collision" | "subnet-overlap" | "duplicate-node";

export interface SkippedPeer {
  readonly node: string;
  /** Stable, for a metric label. */
  readonly reason: SkipReason;
  /** For the log: which field, which value, which other node. */
  readonly message: string;
}

export interface OverlayDesiredResult {
  /** Peers canonical (kernel text forms), by node id in id order; IPv6 fields only when both ends have IPv6. */
  readonly desired: OverlayDesired;
  /** In node id order. */
  readonly skipped: readonly SkippedPeer[];
}

interface Own {
  readonly fact: NodeOverlay;
  readonly agentFamily: Family;
  readonly vtepNet: Prefix;
  readonly vtepNet6: Prefix | undefined;
  readonly subnet: Prefix;
  readonly subnet6: Prefix | undefined;
}

/** Deterministic: the same own facts, peers (in any order) and options give the same result. */
export function overlayDesired(own: NodeOverlay, peers: Iterable<NodeOverlay>, opts: OverlayDesiredOptions): OverlayDesiredResult {
  const me = ownFacts(own, opts);
  const skipped: SkippedPeer[] = [];
  const valid: NodeOverlay[] = [];
  for (const [node, facts] of byNode(own.node, peers)) {
    if (facts.length > 1) {
      skipped.push({ node, reason: "duplicate-node", message: `${facts.length} different overlay facts for one node` });
      continue;
    }
    const checked = checkPeer(facts[0] as NodeOverlay, me, opts);
    if ("reason" in checked) skipped.push({ node, ...checked });
    else valid.push(checked);
  }
  const conflicts = collisions(me, valid);
  const programmed = new Map<string, NodeOverlay>();
  for (const p of valid) {
    const c = conflicts.get(p.node);
    if (c) skipped.push({ node: p.node, ...c });
    else programmed.set(p.node, p);
  }
  skipped.sort((a, b) => cmp(a.node, b.node));
  return { desired: { vtep: vtepOf(me, opts), bridges: bridgesOf(me, opts.mtu), peers: programmed, ...directOf(me, opts) }, skipped };
}

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Peers by node id in id order, identical duplicates merged, this node left out. */
function byNode(self: string, peers: Iterable<NodeOverlay>): Array<[string, NodeOverlay[]]> {
  const out = new Map<string, NodeOverlay[]>();
  for (const p of peers) {
    const node = typeof p?.node === "string" ? p.node : "";
    if (node === self) continue;
    const list = out.get(node) ?? [];
    if (!list.some((q) => sameFacts(p, q))) list.push(p);
    out.set(node, list);
  }
  return [...out].sort(([a], [b]) => cmp(a, b));
}

function sameFacts(a: NodeOverlay, b: NodeOverlay): boolean {
  return a.agentIp === b.agentIp && a.vtepIp === b.vtepIp && a.vtepMac === b.vtepMac && a.vtepIp6 === b.vtepIp6 && a.subnet === b.subnet && a.subnet6 === b.subnet6;
}

function ownFacts(own: NodeOverlay, opts: OverlayDesiredOptions): Own {
  if (!Number.isInteger(opts.mtu) || opts.mtu < 68 || opts.mtu > 65535) bad(`MTU ${opts.mtu} is not 68–65535`);
  if (!Number.isInteger(opts.subnetPrefix) || opts.subnetPrefix < 1 || opts.subnetPrefix > 30) bad(`subnet prefix ${opts.subnetPrefix} is not 1–30`);
  const agent = parseIp(String(own.agentIp));
  if (!agent) bad(`agent address ${JSON.stringify(own.agentIp)} is not an IP address`);
  const vtepNet = vtepSubnet(own.vtepIp, "ip", opts.vtepPrefix) ?? bad(`VTEP address ${JSON.stringify(own.vtepIp)}/${opts.vtepPrefix} is not an IPv4 address in a /1–/31`);
  const mac = canonicalMac(own.vtepMac);
  if (!mac || !isUnicastMac(mac)) bad(`VTEP MAC ${JSON.stringify(own.vtepMac)} is not a unicast MAC`);
  const subnet = parsePrefix(own.subnet);
  if (subnet?.family !== "ip" || subnet.bits !== opts.subnetPrefix) bad(`subnet ${JSON.stringify(own.subnet)} is not an IPv4 /${opts.subnetPrefix} network`);
  let vtepNet6: Prefix | undefined;
  if (own.vtepIp6 !== undefined) vtepNet6 = vtepSubnet(own.vtepIp6, "ip6", opts.vtepPrefix6 ?? 64) ?? bad(`VTEP address ${JSON.stringify(own.vtepIp6)}/${opts.vtepPrefix6 ?? 64} is not an IPv6 address in a /1–/127`);
  let subnet6: Prefix | undefined;
  if (own.subnet6 !== undefined) {
    subnet6 = parsePrefix(own.subnet6);
    const want = opts.subnetPrefix6;
    if (subnet6?.family !== "ip6" || subnet6.bits > 126 || (want !== undefined && subnet6.bits !== want)) bad(`subnet6 ${JSON.stringify(own.subnet6)} is not an IPv6 /${want ?? "1–126"} network`);
  }
  const fact: NodeOverlay = {
    node: own.node,
    agentIp: formatIp(agent.family, agent.value),
    vtepIp: canonicalText(own.vtepIp),
    vtepMac: mac,
    subnet: formatPrefix(subnet),
    ...(own.vtepIp6 !== undefined ? { vtepIp6: canonicalText(own.vtepIp6) } : {}),
    ...(subnet6 ? { subnet6: formatPrefix(subnet6) } : {}),
  };
  return { fact, agentFamily: agent.family, vtepNet, vtepNet6, subnet, subnet6 };
}

function bad(what: string): never {
  throw new OverlayOwnInvalidError(`this node's overlay facts cannot be programmed: ${what}`);
}

function canonicalText(s: string): string {
  const ip = parseIp(s);
  return ip ? formatIp(ip.family, ip.value) : s;
}

function vtepSubnet(ip: unknown, family: Family, bits: number): Prefix | undefined {
  const a = typeof ip === "string" ? parseIp(ip) : undefined;
  if (a?.family !== family || !Number.isInteger(bits) || bits < 1 || bits >= familyBits(family)) return undefined;
  return parsePrefix(`${formatIp(family, a.value)}/${bits}`, false);
}

type Checked = NodeOverlay | { reason: SkipReason; message: string };

function checkPeer(p: NodeOverlay, me: Own, opts: OverlayDesiredOptions): Checked {
  const badAddr = (message: string): Checked => ({ reason: "bad-address", message });
  if (typeof p.node !== "string" || p.node === "") return badAddr("no node id");
  const agent = typeof p.agentIp === "string" ? parseIp(p.agentIp) : undefined;
  if (!agent) return badAddr(`agent address ${JSON.stringify(p.agentIp)} is not an IP address`);
  if (agent.family !== me.agentFamily) return badAddr(`agent address ${p.agentIp} is not of this node's underlay family`);
  const agentIp = formatIp(agent.family, agent.value);
  if (agentIp === me.fact.agentIp) return { reason: "own-agent-ip", message: `agent address ${agentIp} is this node's` };
  const vtep = typeof p.vtepIp === "string" ? parseIp(p.vtepIp) : undefined;
  if (vtep?.family !== "ip") return badAddr(`VTEP address ${JSON.stringify(p.vtepIp)} is not an IPv4 address`);
  if (!contains(me.vtepNet, "ip", vtep.value)) return { reason: "vtep-outside-subnet", message: `VTEP address ${p.vtepIp} is outside the VTEP subnet ${formatPrefix(me.vtepNet)}` };
  const mac = canonicalMac(p.vtepMac);
  if (!mac || !isUnicastMac(mac)) return badAddr(`VTEP MAC ${JSON.stringify(p.vtepMac)} is not a unicast MAC`);
  const subnet = parsePrefix(p.subnet);
  if (subnet?.family !== "ip" || subnet.bits !== opts.subnetPrefix) return badAddr(`subnet ${JSON.stringify(p.subnet)} is not an IPv4 /${opts.subnetPrefix} network`);
  const out: { -readonly [K in keyof NodeOverlay]: NodeOverlay[K] } = { node: p.node, agentIp, vtepIp: formatIp("ip", vtep.value), vtepMac: mac, subnet: formatPrefix(subnet) };
  // IPv6 only when this node has a v6 VTEP: otherwise the peer's v6 facts are not ours to judge.
  if (me.vtepNet6 && p.vtepIp6 !== undefined) {
    const v6 = typeof p.vtepIp6 === "string" ? parseIp(p.vtepIp6) : undefined;
    if (v6?.family !== "ip6") return badAddr(`VTEP address ${JSON.stringify(p.vtepIp6)} is not an IPv6 address`);
    if (!contains(me.vtepNet6, "ip6", v6.value)) return { reason: "vtep-outside-subnet", message: `VTEP address ${p.vtepIp6} is outside the VTEP subnet ${formatPrefix(me.vtepNet6)}` };
    out.vtepIp6 = formatIp("ip6", v6.value);
    if (p.subnet6 !== undefined) {
      const s6 = parsePrefix(p.subnet6);
      const want = opts.subnetPrefix6;
      if (s6?.family !== "ip6" || (want !== undefined && s6.bits !== want)) return badAddr(`subnet6 ${JSON.stringify(p.subnet6)} is not an IPv6 /${want ?? ""} network`);
      out.subnet6 = formatPrefix(s6);
    }
  }
  return out;
}

type Conflict = { reason: SkipReason; message: string };

/** Peers whose VTEP address, MAC or subnet another node (this one included) also has, by node. */
function collisions(me: Own, peers: readonly NodeOverlay[]): Map<string, Conflict> {
  const out = new Map<string, Conflict>();
  const mark = (node: string, reason: SkipReason, message: string): void => {
    if (node !== me.fact.node && !out.has(node)) out.set(node, { reason, message });
  };
  const all = [me.fact, ...peers];
  const whose = (node: string): string => (node === me.fact.node ? "this node's" : `${node}'s`);
  const same = (reason: SkipReason, what: string, key: (p: NodeOverlay) => string | undefined): void => {
    const holders = new Map<string, string[]>();
    for (const p of all) {
      const k = key(p);
      if (k !== undefined) holders.set(k, [...(holders.get(k) ?? []), p.node]);
    }
    for (const [k, nodes] of holders) {
      if (nodes.length < 2) continue;
      for (const n of nodes) mark(n, reason, `${what} ${k} is also ${nodes.filter((o) => o !== n).map(whose).join(", ")}`);
    }
  };
  same("vtep-collision", "VTEP address", (p) => p.vtepIp);
  same("vtep-collision", "VTEP address", (p) => p.vtepIp6);
  same("mac-collision", "VTEP MAC", (p) => p.vtepMac);
  overlapping(all, (p) => p.subnet, mark, whose);
  overlapping(all, (p) => p.subnet6, mark, whose);
  return out;
}

/**
 * Subnets that share addresses. Prefixes either nest or are disjoint, so after sorting by network
 * (the shorter first on a tie) a subnet overlaps an earlier one exactly when it starts
 * before the furthest end seen so far: one pass, not every pair (clusters have thousands of nodes).
 */
function overlapping(all: readonly NodeOverlay[], key: (p: NodeOverlay) => string | undefined, mark: (node: string, reason: SkipReason, message: string) => void, whose: (node: string) => string): void {
  const items = all.flatMap((p) => {
    const text = key(p);
    const pre = text === undefined ? undefined : parsePrefix(text);
    return pre ? [{ node: p.node, text: text as string, pre, end: lastOf(pre) }] : [];
  });
  items.sort((a, b) => (a.pre.net < b.pre.net ? -1 : a.pre.net > b.pre.net ? 1 : a.pre.bits - b.pre.bits));
  let open: (typeof items)[number] | undefined;
  for (const it of items) {
    if (open && it.pre.net <= open.end) {
      mark(it.node, "subnet-overlap", `subnet ${it.text} overlaps ${whose(open.node)} ${open.text}`);
      mark(open.node, "subnet-overlap", `subnet ${open.text} overlaps ${whose(it.node)} ${it.text}`);
    }
    if (!open || it.end > open.end) open = it;
  }
}

function vtepOf(me: Own, opts: OverlayDesiredOptions): OverlayDesired["vtep"] {
  return {
    name: VTEP_DEVICE,
    vni: VNI,
    port: VXLAN_PORT,
    local: me.fact.agentIp,
    mac: me.fact.vtepMac,
    mtu: opts.mtu,
    addr: `${me.fact.vtepIp}/${me.vtepNet.bits}`,
    ...(me.vtepNet6 && me.fact.vtepIp6 ? { addr6: `${me.fact.vtepIp6}/${me.vtepNet6.bits}` } : {}),
  };
}

/** The underlay's subnet as its network; it must hold this node's agent address, or nothing is routed directly. */
function directOf(me: Own, opts: OverlayDesiredOptions): { direct?: DirectRouting } {
  if (!opts.direct) return {};
  const net = parsePrefix(opts.direct.net, false);
  const agent = parseIp(me.fact.agentIp);
  if (!/^[\w.:@-]{1,15}$/.test(opts.direct.dev)) bad(`underlay device ${JSON.stringify(opts.direct.dev)} is not an interface name`);
  if (!net || !agent || net.family !== agent.family || !contains(net, agent.family, agent.value)) bad(`underlay subnet ${JSON.stringify(opts.direct.net)} does not hold the agent address ${me.fact.agentIp}`);
  return { direct: { dev: opts.direct.dev, net: formatPrefix(net) } };
}

/** m-dcos on the first half of the subnet, d-dcos on the second, each at its first address (DC/OS). */
function bridgesOf(me: Own, mtu: number): OverlayDesired["bridges"] {
  const h4 = halves(me.subnet) as [Prefix, Prefix];
  const h6 = me.subnet6 ? halves(me.subnet6) : undefined;
  const gw = (p: Prefix): string => withPrefix(p.family, p.net + 1n, p.bits);
  return [CNI_BRIDGE, DOCKER_BRIDGE].map((name, i) => ({
    name,
    addr: gw(h4[i] as Prefix),
    ...(h6 ? { addr6: gw(h6[i] as Prefix) } : {}),
    mtu,
  }));
}
