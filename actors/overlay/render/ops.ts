// The overlay's kernel operations, as data (OverlayOp) and as the text `ip -force -batch -` and
// `bridge -force -batch -` read. What the lines look like, and why (measured on iproute2 6.1 /
// kernel 6.18, see integration/overlay-kernel.test.ts):
//
// - The VTEP gets its MAC and MTU on `link add`, never from `link set … address`: setting a MAC,
//   even the one it already has, flushes every neighbour entry of the device, permanent ones too
//   (dcos-net's DCOS_OSS-3855). So setup can run again on a live node without cutting its peers;
//   an existing device with other parameters is left alone here and recreated by compareOverlay.
//   `link set … down` flushes neighbours and routes as well; an MTU change keeps them.
// - Batches run with -force, so one refused line (a route that clashes with someone else's)
//   does not keep the lines after it, other peers, from being programmed. The runner
//   (kernel/ip.ts) reports every refused line, and takes "already so" refusals as success: an add
//   of a link that exists, a delete of an entry that is gone.
// - `ip neigh` exits the whole batch on an error, even with -force (ipneigh.c calls exit()), so
//   neighbour lines come last, and a neighbour is removed with `neigh flush to IP … nud permanent`,
//   which finds nothing rather than failing when the entry is already gone.
// - Run the ip text before the bridge text: the device must exist for FDB entries, and a departing
//   peer's route goes before its FDB entry does (a new peer's FDB entry follows its route by the
//   few milliseconds between the two processes).
// - No `-4`/`-6` in a batch line (iproute2 does not take options there): the address says the family.
// - A bridge with an IPv6 address also gets the link-local fe80::1 without duplicate detection. A
//   bridge has no carrier until its first port, so its own link-local address is still tentative
//   for 1–2 s after the first container attaches, and meanwhile the kernel sends no neighbour
//   solicitation for a forwarded packet (ndisc_solicit finds no usable source): inbound IPv6 to
//   the first container on a node was lost for that long (measured in the lab).
import { formatIp, parseIp } from "../../../config/ip.js";
import { DIRECT_ROUTE_PROTO, VTEP_DEVICE, type DirectRouting, type NodeOverlay, type OverlayDesired } from "../model.js";
import { contains, parsePrefix } from "./ip.js";

/** The link-local address every bridge with IPv6 gets at once (why: the head of this file). */
export const BRIDGE_LINK_LOCAL = "fe80::1/64";

export type OverlayOp =
  | { readonly kind: "vxlan-add"; readonly name: string; readonly vni: number; readonly port: number; readonly local: string; readonly mac: string; readonly mtu: number }
  | { readonly kind: "bridge-add"; readonly name: string; readonly mtu: number; readonly mac?: string }
  | { readonly kind: "link-up"; readonly name: string; readonly mtu: number }
  | { readonly kind: "link-del"; readonly name: string }
  | { readonly kind: "addr-replace"; readonly dev: string; readonly addr: string }
  | { readonly kind: "addr-del"; readonly dev: string; readonly addr: string }
  | { readonly kind: "route-replace"; readonly dev: string; readonly dst: string; readonly via: string; readonly proto?: number }
  | { readonly kind: "route-del"; readonly dev: string; readonly dst: string }
  | { readonly kind: "neigh-replace"; readonly dev: string; readonly ip: string; readonly mac: string }
  | { readonly kind: "neigh-del"; readonly dev: string; readonly ip: string }
  | { readonly kind: "fdb-replace"; readonly dev: string; readonly mac: string; readonly dst: string }
  | { readonly kind: "fdb-del"; readonly dev: string; readonly mac: string };

export interface BatchTexts {
  /** For `ip -force -batch -`; "" when nothing to do. */
  readonly ip: string;
  /** For `bridge -force -batch -`; "" when nothing to do. Run after `ip`. */
  readonly bridge: string;
}

/** One op as its batch line, and the tool that reads it. */
export function opLine(op: OverlayOp): { tool: "ip" | "bridge"; line: string } {
  const ip = (line: string) => ({ tool: "ip" as const, line });
  switch (op.kind) {
    case "vxlan-add":
      return ip(`link add ${op.name} address ${op.mac} mtu ${op.mtu} type vxlan id ${op.vni} dstport ${op.port} local ${op.local} nolearning`);
    case "bridge-add":
      return ip(`link add ${op.name}${op.mac ? ` address ${op.mac}` : ""} mtu ${op.mtu} type bridge`);
    case "link-up":
      return ip(`link set ${op.name} mtu ${op.mtu} up`);
    case "link-del":
      return ip(`link del ${op.name}`);
    case "addr-replace":
      // nodad: an IPv6 address is usable at once, not after duplicate detection (~1 s).
      return ip(`addr replace ${op.addr} dev ${op.dev}${op.addr.includes(":") ? " nodad" : ""}`);
    case "addr-del":
      return ip(`addr del ${op.addr} dev ${op.dev}`);
    case "route-replace":
      return ip(`route replace ${op.dst} via ${op.via} dev ${op.dev} onlink${op.proto !== undefined ? ` proto ${op.proto}` : ""}`);
    case "route-del":
      return ip(`route del ${op.dst} dev ${op.dev}`);
    case "neigh-replace":
      return ip(`neigh replace ${op.ip} lladdr ${op.mac} dev ${op.dev} nud permanent`);
    case "neigh-del":
      return ip(`neigh flush to ${op.ip} dev ${op.dev} nud permanent`);
    case "fdb-replace":
      return { tool: "bridge", line: `fdb replace ${op.mac} dev ${op.dev} dst ${op.dst} self permanent` };
    case "fdb-del":
      return { tool: "bridge", line: `fdb del ${op.mac} dev ${op.dev} self` };
  }
}

/** Ops as the two batch texts, in the order given (the planners below order them). */
export function batchTexts(ops: readonly OverlayOp[]): BatchTexts {
  const ip: string[] = [];
  const bridge: string[] = [];
  for (const op of ops) {
    const { tool, line } = opLine(op);
    (tool === "ip" ? ip : bridge).push(line);
  }
  const text = (lines: string[]): string => (lines.length ? `${lines.join("\n")}\n` : "");
  return { ip: text(ip), bridge: text(bridge) };
}

/** Creates what is missing of the VTEP and the bridges, and sets MTU, up and addresses. Re-runnable. */
export function setupPlan(d: OverlayDesired): OverlayOp[] {
  return [...vtepPlan(d.vtep), ...d.bridges.flatMap(bridgePlan)];
}

export function vtepPlan(v: OverlayDesired["vtep"]): OverlayOp[] {
  const ops: OverlayOp[] = [
    { kind: "vxlan-add", name: v.name, vni: v.vni, port: v.port, local: v.local, mac: v.mac, mtu: v.mtu },
    { kind: "link-up", name: v.name, mtu: v.mtu },
    { kind: "addr-replace", dev: v.name, addr: v.addr },
  ];
  if (v.addr6) ops.push({ kind: "addr-replace", dev: v.name, addr: v.addr6 });
  return ops;
}

/**
 * A bridge's own MAC, from its gateway address (0e:58:<4 address bytes>): without one, a bridge takes
 * its first port's MAC and changes it when ports come and go, so containers would keep a stale
 * gateway entry. (dcnet-cni gives container ends 0a:58:<address>: never equal.)
 */
function bridgeMac(addr: string): { mac?: string } {
  const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)\//.exec(addr);
  return m ? { mac: `0e:58:${m.slice(1, 5).map((b) => Number(b).toString(16).padStart(2, "0")).join(":")}` } : {};
}

export function bridgePlan(b: OverlayDesired["bridges"][number]): OverlayOp[] {
  const ops: OverlayOp[] = [
    { kind: "bridge-add", name: b.name, mtu: b.mtu, ...bridgeMac(b.addr) },
    { kind: "link-up", name: b.name, mtu: b.mtu },
    { kind: "addr-replace", dev: b.name, addr: b.addr },
  ];
  if (b.addr6) ops.push({ kind: "addr-replace", dev: b.name, addr: b.addr6 }, { kind: "addr-replace", dev: b.name, addr: BRIDGE_LINK_LOCAL });
  return ops;
}

/** setupPlan as `ip -force -batch` text (setup has no bridge-tool lines). */
export function setupOps(d: OverlayDesired): string {
  return batchTexts(setupPlan(d)).ip;
}

/** Where a peer subnet's route goes: via its VTEP address on the VTEP, or (direct routing) via its underlay address on the underlay device, tagged with DIRECT_ROUTE_PROTO. */
export interface RouteTo {
  readonly via: string;
  readonly dev: string;
  readonly proto?: number;
}

/** The kernel entries a set of peers needs, keyed the way the kernel keys them. */
export interface PeerEntries {
  /** Neighbour on the VTEP: VTEP address (v4 and v6) → VTEP MAC. */
  readonly neigh: ReadonlyMap<string, string>;
  /** FDB on the VTEP: VTEP MAC → underlay address. */
  readonly fdb: ReadonlyMap<string, string>;
  /** Route: subnet (v4 and v6) → where it goes. */
  readonly route: ReadonlyMap<string, RouteTo>;
}

/**
 * Peers as canonical in OverlayDesired.peers (overlayDesired made them so). A direct peer keeps its
 * neighbour and FDB entry (unused by its routed subnet, they cost nothing and keep its VXLAN path
 * one route change away); its subnet of the underlay's family is routed over the underlay, and an
 * IPv6 subnet over an IPv4 underlay stays on VXLAN (the kernel refuses an IPv4 gateway for an IPv6 route).
 */
export function peerEntries(peers: ReadonlyMap<string, NodeOverlay>, direct?: DirectRouting, vtep = VTEP_DEVICE): PeerEntries {
  const neigh = new Map<string, string>();
  const fdb = new Map<string, string>();
  const route = new Map<string, RouteTo>();
  const net = direct ? parsePrefix(direct.net, false) : undefined;
  for (const p of peers.values()) {
    const agent = net ? parseIp(p.agentIp) : undefined;
    const onNet = net && agent?.family === net.family && contains(net, agent.family, agent.value) ? { via: formatIp(agent.family, agent.value), dev: (direct as DirectRouting).dev, proto: DIRECT_ROUTE_PROTO } : undefined;
    neigh.set(p.vtepIp, p.vtepMac);
    fdb.set(p.vtepMac, p.agentIp);
    route.set(p.subnet, (net?.family === "ip" && onNet) || { via: p.vtepIp, dev: vtep });
    if (p.vtepIp6 !== undefined) {
      neigh.set(p.vtepIp6, p.vtepMac);
      if (p.subnet6 !== undefined) route.set(p.subnet6, (net?.family === "ip6" && onNet) || { via: p.vtepIp6, dev: vtep });
    }
  }
  return { neigh, fdb, route };
}

const sameRoute = (a: RouteTo | undefined, b: RouteTo): boolean => a !== undefined && a.via === b.via && a.dev === b.dev;

/**
 * The ops that turn the entries of `from` into those of `to`: replace what is new or different,
 * remove what `to` no longer has (dcos-net never removed a departed agent's entries). Entries are
 * diffed by key, so a key that moved to another peer (a subnet re-used after the grace) or to the
 * other path (VXLAN ↔ direct) is replaced, never deleted and re-added. `dev` is the VTEP, which
 * holds the neighbours and FDB entries; a route names its own device.
 */
export function entryPlan(from: PeerEntries, to: PeerEntries, dev = VTEP_DEVICE): OverlayOp[] {
  const changed = (a: ReadonlyMap<string, string>, b: ReadonlyMap<string, string>) => [...b].filter(([k, v]) => a.get(k) !== v);
  const gone = <V>(a: ReadonlyMap<string, V>, b: ReadonlyMap<string, V>) => [...a].filter(([k]) => !b.has(k));
  return [
    ...gone(from.route, to.route).map(([dst, r]): OverlayOp => ({ kind: "route-del", dev: r.dev, dst })),
    ...[...to.route].filter(([dst, r]) => !sameRoute(from.route.get(dst), r)).map(([dst, r]): OverlayOp => ({ kind: "route-replace", dev: r.dev, dst, via: r.via, ...(r.proto !== undefined ? { proto: r.proto } : {}) })),
    ...gone(from.neigh, to.neigh).map(([ip]): OverlayOp => ({ kind: "neigh-del", dev, ip })),
    ...changed(from.neigh, to.neigh).map(([ip, mac]): OverlayOp => ({ kind: "neigh-replace", dev, ip, mac })),
    ...gone(from.fdb, to.fdb).map(([mac]): OverlayOp => ({ kind: "fdb-del", dev, mac })),
    ...changed(from.fdb, to.fdb).map(([mac, dst]): OverlayOp => ({ kind: "fdb-replace", dev, mac, dst })),
  ];
}

export function peerPlan(prev: ReadonlyMap<string, NodeOverlay>, next: ReadonlyMap<string, NodeOverlay>, direct?: DirectRouting): OverlayOp[] {
  return entryPlan(peerEntries(prev, direct), peerEntries(next, direct));
}

/** What changes between two programmed peer sets, as batch texts ("" for a tool with nothing to do). */
export function peerOps(prev: ReadonlyMap<string, NodeOverlay>, next: ReadonlyMap<string, NodeOverlay>, direct?: DirectRouting): BatchTexts {
  return batchTexts(peerPlan(prev, next, direct));
}
