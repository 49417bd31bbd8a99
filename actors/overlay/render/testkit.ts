// Builders and a small kernel model shared by the renderer's tests (imported by *.test.ts only).
// Address plan: host N has agent 10.83.0.N, VTEP 44.128.0.N / fd01:a::N, MAC 70:b3:d5:00:00:0N,
// subnet 9.0.N.0/24 and fd01:b:0:0:N::/80.
import { DIRECT_ROUTE_PROTO, type NodeOverlay } from "../model.js";
import type { OverlayDesiredOptions } from "./desired.js";
import type { OverlayListings } from "./readback.js";
import type { OverlayOp } from "./ops.js";

export const OPTS: OverlayDesiredOptions = { mtu: 1450, vtepPrefix: 20, vtepPrefix6: 64, subnetPrefix: 24, subnetPrefix6: 80 };

const hex = (n: number): string => n.toString(16).padStart(2, "0");

export function host(n: number, v6 = true, more: Partial<NodeOverlay> = {}): NodeOverlay {
  return {
    node: `h${n}`,
    agentIp: `10.83.0.${n}`,
    vtepIp: `44.128.0.${n}`,
    vtepMac: `70:b3:d5:00:00:${hex(n)}`,
    subnet: `9.0.${n}.0/24`,
    ...(v6 ? { vtepIp6: `fd01:a::${n.toString(16)}`, subnet6: `fd01:b:0:0:${n.toString(16)}::/80` } : {}),
    ...more,
  };
}

/** The underlay device of the models (a host's own, always present). */
export const UNDERLAY = "eth0";

/** A kernel as far as the overlay sees it: links, the VTEP's neighbours and FDB, and routes on the VTEP or the underlay. */
export interface KernelModel {
  links: Map<string, { kind: string; vni?: number; port?: number; local?: string; learning?: boolean; mac: string; mtu: number; up: boolean; addrs: Set<string> }>;
  neigh: Map<string, { mac: string; permanent: boolean }>;
  fdb: Map<string, Array<{ dst: string; permanent: boolean }>>;
  routes: Map<string, { via: string; dev: string; proto?: number }>;
}

export const emptyKernel = (): KernelModel => ({ links: new Map(), neigh: new Map(), fdb: new Map(), routes: new Map() });

/**
 * Applies ops the way the kernel does (as measured, render/ops.ts): `link add` of an existing link
 * changes nothing, deleting the VTEP takes its entries with it, a deleted or absent entry is no
 * error. Entries need their device; `vtep` names the VTEP.
 */
export function applyOps(k: KernelModel, ops: readonly OverlayOp[], vtep = "vtep1024"): void {
  const need = (dev: string): void => {
    if (dev !== UNDERLAY && !k.links.has(dev)) throw new Error(`Cannot find device ${dev}`);
  };
  for (const op of ops) {
    switch (op.kind) {
      case "vxlan-add":
        if (!k.links.has(op.name)) k.links.set(op.name, { kind: "vxlan", vni: op.vni, port: op.port, local: op.local, learning: false, mac: op.mac, mtu: op.mtu, up: false, addrs: new Set() });
        break;
      case "bridge-add":
        if (!k.links.has(op.name)) k.links.set(op.name, { kind: "bridge", mac: "02:00:00:00:00:01", mtu: op.mtu, up: false, addrs: new Set() });
        break;
      case "link-up": {
        need(op.name);
        const l = k.links.get(op.name);
        if (l) Object.assign(l, { mtu: op.mtu, up: true });
        break;
      }
      case "link-del":
        k.links.delete(op.name);
        if (op.name === vtep) {
          k.neigh.clear();
          k.fdb.clear();
          for (const [dst, r] of k.routes) if (r.dev === vtep) k.routes.delete(dst);
        }
        break;
      case "addr-replace":
        need(op.dev);
        k.links.get(op.dev)?.addrs.add(op.addr);
        break;
      case "addr-del":
        k.links.get(op.dev)?.addrs.delete(op.addr);
        break;
      case "route-replace":
        need(op.dev);
        k.routes.set(op.dst, { via: op.via, dev: op.dev, ...(op.proto !== undefined ? { proto: op.proto } : {}) });
        break;
      case "route-del":
        k.routes.delete(op.dst);
        break;
      case "neigh-replace":
        need(op.dev);
        k.neigh.set(op.ip, { mac: op.mac, permanent: true });
        break;
      case "neigh-del":
        k.neigh.delete(op.ip);
        break;
      case "fdb-replace": {
        need(op.dev);
        const rows = k.fdb.get(op.mac);
        // replace changes the first remote of an existing entry
        if (rows?.[0]) rows[0] = { dst: op.dst, permanent: true };
        else k.fdb.set(op.mac, [{ dst: op.dst, permanent: true }]);
        break;
      }
      case "fdb-del":
        k.fdb.delete(op.mac);
        break;
    }
  }
}

/** The model as the `-j` listings print it (shapes captured from iproute2 6.1); the underlay's routes of DIRECT_ROUTE_PROTO when `underlay`. */
export function listingsOf(k: KernelModel, vtep = "vtep1024", bridges = ["m-dcos", "d-dcos"], underlay = false): OverlayListings {
  const link = (name: string): unknown => {
    const l = k.links.get(name);
    if (!l) return undefined;
    const info = l.kind === "vxlan" ? { info_kind: "vxlan", info_data: { id: l.vni, local: l.local, port_range: { low: 0, high: 0 }, port: l.port, learning: l.learning, ttl: 0 } } : { info_kind: l.kind, info_data: { stp_state: 0 } };
    const addr_info = [...l.addrs].map((a) => {
      const [local, len] = a.split("/");
      return { family: a.includes(":") ? "inet6" : "inet", local, prefixlen: Number(len), scope: a.startsWith("fe80:") ? "link" : "global", valid_life_time: 4294967295 };
    });
    if (l.up) addr_info.push({ family: "inet6", local: "fe80::72b3:d5ff:fe00:1", prefixlen: 64, scope: "link", valid_life_time: 4294967295 });
    return [{ ifindex: 4, ifname: name, flags: ["BROADCAST", "MULTICAST", ...(l.up ? ["UP", "LOWER_UP"] : [])], mtu: l.mtu, address: l.mac, linkinfo: info, addr_info }];
  };
  const hasVtep = k.links.has(vtep);
  const routes = [...k.routes].filter(([, r]) => r.dev === vtep).map(([dst, r]) => ({ dst, gateway: r.via, flags: ["onlink"] }));
  const direct = [...k.routes].filter(([, r]) => r.dev === UNDERLAY && r.proto === DIRECT_ROUTE_PROTO).map(([dst, r]) => ({ dst, gateway: r.via, flags: ["onlink"] }));
  return {
    links: new Map([vtep, ...bridges].map((n) => [n, link(n)])),
    neigh: hasVtep ? [...k.neigh].map(([dst, n]) => ({ dst, lladdr: n.mac, state: [n.permanent ? "PERMANENT" : "STALE"] })) : [],
    fdb: hasVtep ? [...k.fdb].flatMap(([mac, rows]) => rows.map((r) => ({ mac, dst: r.dst, flags: ["self"], state: r.permanent ? "permanent" : "" }))) : [],
    routes: [...routes.filter((r) => !r.dst.includes(":")), ...(hasVtep ? [{ dst: "44.128.0.0/20", protocol: "kernel", scope: "link", prefsrc: "44.128.0.1", flags: [] }] : [])],
    routes6: [...routes.filter((r) => r.dst.includes(":")), ...(hasVtep ? [{ dst: "fe80::/64", protocol: "kernel", metric: 256, flags: [], pref: "medium" }] : [])],
    vtep,
    ...(underlay ? { underlay: { dev: UNDERLAY, routes: direct.filter((r) => !r.dst.includes(":")), routes6: direct.filter((r) => r.dst.includes(":")) } } : {}),
  };
}
