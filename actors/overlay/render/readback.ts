// The overlay's kernel state read back (`ip -j -d addr show dev …`, `ip -j neigh`, `bridge -j fdb`,
// `ip -j route`, `ip -j -6 route`, and with direct routing the underlay device's routes of
// DIRECT_ROUTE_PROTO) and compared with the desired state: dcos-net re-applied every
// 5 min without looking; we look, count what differs and repair only that. A VTEP whose VXLAN
// parameters or MAC differ is recreated (neither can be changed in place without flushing the
// neighbours: ops.ts), which takes every peer entry with it, so the repair re-adds them all; an
// MTU or a down device is fixed in place (an MTU change keeps the entries; a down device has
// already lost them, and the listing shows it).
import { VTEP_DEVICE, type OverlayDesired } from "../model.js";
import { canonicalIp, canonicalMac, formatPrefix, isUnicastMac, parsePrefix } from "./ip.js";
import { batchTexts, BRIDGE_LINK_LOCAL, bridgePlan, entryPlan, peerEntries, vtepPlan, type BatchTexts, type OverlayOp, type PeerEntries, type RouteTo } from "./ops.js";

/** What each listing printed, parsed as JSON; a device listed but absent maps to undefined. */
export interface OverlayListings {
  /** `ip -j -d addr show dev <name>` per device (VTEP and bridges). */
  readonly links: ReadonlyMap<string, unknown>;
  /** `ip -j neigh show dev <vtep>` (both families); undefined when not listed. */
  readonly neigh?: unknown;
  /** `bridge -j fdb show dev <vtep>`. */
  readonly fdb?: unknown;
  /** The VTEP's name (default vtep1024). */
  readonly vtep?: string;
  /** `ip -j route show dev <vtep>` and `ip -j -6 route show dev <vtep>`. */
  readonly routes?: unknown;
  readonly routes6?: unknown;
  /** The underlay device and its routes of DIRECT_ROUTE_PROTO (`ip -j [-6] route show dev <dev> proto 77`), when listed. */
  readonly underlay?: { readonly dev: string; readonly routes?: unknown; readonly routes6?: unknown };
}

export interface ObservedLink {
  readonly name: string;
  readonly kind: string | undefined;
  readonly up: boolean;
  readonly mtu: number | undefined;
  readonly mac: string | undefined;
  /** VXLAN only. */
  readonly vni?: number;
  readonly port?: number;
  readonly local?: string;
  readonly learning?: boolean;
  /** Global addresses with their length, canonical. */
  readonly addrs: readonly string[];
  /** Link-local (scope link) ones. */
  readonly linkLocal: readonly string[];
}

export interface ObservedOverlay {
  /** By device name: null when listed and absent. A device not listed is not judged. */
  readonly links: ReadonlyMap<string, ObservedLink | null>;
  /** Neighbours: address → MAC and whether permanent. Undefined when not listed or unreadable. */
  readonly neigh: ReadonlyMap<string, { readonly mac: string | undefined; readonly permanent: boolean }> | undefined;
  /** FDB rows of unicast MACs: MAC → its remotes (a VXLAN FDB entry may have several). */
  readonly fdb: ReadonlyMap<string, ReadonlyArray<{ readonly dst: string | undefined; readonly permanent: boolean }>> | undefined;
  /** The overlay's routes (the VTEP's other than the kernel's own, the underlay's of DIRECT_ROUTE_PROTO): destination → gateway and device. */
  readonly routes: ReadonlyMap<string, { readonly via: string | undefined; readonly dev: string }> | undefined;
  /** Entries or listings that could not be read (the comparison then re-adds without deleting). */
  readonly problems: readonly string[];
}

export interface OverlayComparison {
  /** One per wrong VTEP parameter, missing device, wrong or missing or extra address and entry. */
  readonly drift: number;
  /** Batch texts that bring the kernel to the desired state; both "" when there is no drift. */
  readonly repair: BatchTexts;
  /** The same as data. */
  readonly ops: readonly OverlayOp[];
  /** One line per drift, for the log. */
  readonly reasons: readonly string[];
}

type Json = unknown;
const isObj = (v: Json): v is Record<string, Json> => typeof v === "object" && v !== null && !Array.isArray(v);
const num = (v: Json): number | undefined => (typeof v === "number" && Number.isFinite(v) ? v : undefined);

/** Never throws: whatever is not understood becomes a problem. */
export function parseOverlay(l: OverlayListings): ObservedOverlay {
  const problems: string[] = [];
  const links = new Map<string, ObservedLink | null>();
  for (const [name, json] of l.links) {
    if (json === undefined) links.set(name, null);
    else {
      const link = guard(problems, `link ${name}`, () => parseLink(name, json, problems));
      if (link !== undefined) links.set(name, link);
    }
  }
  return {
    links,
    neigh: l.neigh === undefined ? undefined : guard(problems, "neighbours", () => parseNeigh(l.neigh, problems)),
    fdb: l.fdb === undefined ? undefined : guard(problems, "fdb", () => parseFdb(l.fdb, problems)),
    routes: l.routes === undefined && l.routes6 === undefined ? undefined : guard(problems, "routes", () => parseRoutes(l, problems)),
    problems,
  };
}

function guard<T>(problems: string[], what: string, f: () => T | undefined): T | undefined {
  try {
    return f();
  } catch (e) {
    problems.push(`${what}: unreadable (${e instanceof Error ? e.message : String(e)})`);
    return undefined;
  }
}

function list(json: Json, what: string, problems: string[]): readonly Json[] | undefined {
  if (Array.isArray(json)) return json;
  problems.push(`${what}: not a JSON list`);
  return undefined;
}

function parseLink(name: string, json: Json, problems: string[]): ObservedLink | null | undefined {
  const items = list(json, `link ${name}`, problems);
  if (!items) return undefined;
  const it = items.find((i) => isObj(i) && i["ifname"] === name);
  if (!isObj(it)) return items.length === 0 ? null : (problems.push(`link ${name}: not in its listing`), undefined);
  const info = isObj(it["linkinfo"]) ? it["linkinfo"] : {};
  const data = isObj(info["info_data"]) ? info["info_data"] : {};
  const kind = typeof info["info_kind"] === "string" ? info["info_kind"] : undefined;
  const addrs: string[] = [];
  const linkLocal: string[] = [];
  for (const a of Array.isArray(it["addr_info"]) ? it["addr_info"] : []) {
    if (!isObj(a) || (a["scope"] !== "global" && a["scope"] !== "link")) continue;
    const ip = canonicalIp(a["local"]);
    const len = num(a["prefixlen"]);
    if (ip && len !== undefined) (a["scope"] === "global" ? addrs : linkLocal).push(`${ip}/${len}`);
    else problems.push(`link ${name}: unreadable address ${JSON.stringify(a).slice(0, 120)}`);
  }
  const vx =
    kind === "vxlan"
      ? {
          ...(num(data["id"]) !== undefined ? { vni: num(data["id"]) as number } : {}),
          ...(num(data["port"]) !== undefined ? { port: num(data["port"]) as number } : {}),
          ...(canonicalIp(data["local"]) ? { local: canonicalIp(data["local"]) as string } : {}),
          ...(typeof data["learning"] === "boolean" ? { learning: data["learning"] } : {}),
        }
      : {};
  const flags = Array.isArray(it["flags"]) ? it["flags"] : [];
  return { name, kind, up: flags.includes("UP"), mtu: num(it["mtu"]), mac: canonicalMac(it["address"]), ...vx, addrs: addrs.sort(), linkLocal: linkLocal.sort() };
}

function parseNeigh(json: Json, problems: string[]): Map<string, { mac: string | undefined; permanent: boolean }> | undefined {
  const items = list(json, "neighbours", problems);
  if (!items) return undefined;
  const out = new Map<string, { mac: string | undefined; permanent: boolean }>();
  for (const n of items) {
    const ip = isObj(n) ? canonicalIp(n["dst"]) : undefined;
    if (!isObj(n) || !ip) {
      problems.push(`neighbours: unreadable entry ${JSON.stringify(n)?.slice(0, 120)}`);
      continue;
    }
    const state = Array.isArray(n["state"]) ? n["state"] : [n["state"]];
    out.set(ip, { mac: canonicalMac(n["lladdr"]), permanent: state.includes("PERMANENT") });
  }
  return out;
}

function parseFdb(json: Json, problems: string[]): Map<string, Array<{ dst: string | undefined; permanent: boolean }>> | undefined {
  const items = list(json, "fdb", problems);
  if (!items) return undefined;
  const out = new Map<string, Array<{ dst: string | undefined; permanent: boolean }>>();
  for (const f of items) {
    const mac = isObj(f) ? canonicalMac(f["mac"]) : undefined;
    if (!isObj(f) || !mac) {
      problems.push(`fdb: unreadable entry ${JSON.stringify(f)?.slice(0, 120)}`);
      continue;
    }
    // Multicast and all-zero rows are the device's own (flooding, multicast lists), not a peer's;
    // a row with a master is the FDB of a bridge the device is a port of, not the VXLAN device's.
    if (!isUnicastMac(mac) || f["master"] !== undefined) continue;
    const rows = out.get(mac) ?? [];
    rows.push({ dst: canonicalIp(f["dst"]), permanent: f["state"] === "permanent" || (Array.isArray(f["state"]) && f["state"].includes("permanent")) });
    out.set(mac, rows);
  }
  return out;
}

function parseRoutes(l: OverlayListings, problems: string[]): Map<string, { via: string | undefined; dev: string }> | undefined {
  const out = new Map<string, { via: string | undefined; dev: string }>();
  let any = false;
  const vtep = l.vtep ?? VTEP_DEVICE;
  const listings: Array<[Json, string]> = [
    [l.routes, vtep],
    [l.routes6, vtep],
    ...(l.underlay ? ([[l.underlay.routes, l.underlay.dev], [l.underlay.routes6, l.underlay.dev]] as Array<[Json, string]>) : []),
  ];
  for (const [json, dev] of listings) {
    if (json === undefined) continue;
    const items = list(json, "routes", problems);
    if (!items) continue;
    any = true;
    for (const r of items) {
      if (!isObj(r)) {
        problems.push(`routes: unreadable entry ${JSON.stringify(r)?.slice(0, 120)}`);
        continue;
      }
      // The device's connected and link-local routes are the kernel's.
      if (r["protocol"] === "kernel" || (r["type"] !== undefined && r["type"] !== "unicast")) continue;
      const dst = parsePrefix(r["dst"], false);
      if (!dst) {
        problems.push(`routes: unreadable destination ${JSON.stringify(r["dst"])}`);
        continue;
      }
      out.set(formatPrefix(dst), { via: canonicalIp(r["gateway"]), dev });
    }
  }
  return any ? out : undefined;
}

/** What differs between the kernel and the desired state, and the ops that repair it. */
export function compareOverlay(observed: ObservedOverlay, desired: OverlayDesired): OverlayComparison {
  const ops: OverlayOp[] = [];
  const reasons: string[] = [...observed.problems];
  const rebuilt = compareVtep(observed.links.get(desired.vtep.name), desired, ops, reasons);
  for (const b of desired.bridges) compareBridge(observed.links.get(b.name), b, ops, reasons);
  const dev = desired.vtep.name;
  const want = peerEntries(desired.peers, desired.direct, dev);
  if (rebuilt) {
    // The new VTEP starts with no entries; the underlay's direct routes are not its and stay, so
    // a departed direct peer's route is still found and removed.
    const under = new Map<string, RouteTo>();
    for (const [dst, r] of observed.routes ?? []) if (r.dev !== dev) under.set(dst, { via: r.via ?? "none", dev: r.dev });
    const plan = entryPlan({ ...EMPTY, route: under }, want, dev);
    for (const op of plan) if (op.kind === "route-del") reasons.push(`extra route ${op.dst}`);
    ops.push(...plan);
  } else comparePeers(observed, want, dev, ops, reasons);
  return { drift: reasons.length, repair: batchTexts(ops), ops, reasons };
}

const EMPTY: PeerEntries = { neigh: new Map(), fdb: new Map(), route: new Map() };

/** True when the VTEP is (re)created, so every peer entry has to be added again. */
function compareVtep(link: ObservedLink | null | undefined, d: OverlayDesired, ops: OverlayOp[], reasons: string[]): boolean {
  const v = d.vtep;
  if (link === undefined) return false;
  const create = vtepPlan(v);
  if (link === null) {
    reasons.push(`${v.name} is missing`);
    ops.push(...create);
    return true;
  }
  const wrong: string[] = [];
  const check = (what: string, got: unknown, want: unknown) => {
    if (got !== undefined && got !== want) wrong.push(`${v.name} has ${what} ${String(got)} (want ${String(want)})`);
  };
  check("kind", link.kind ?? "none", "vxlan");
  check("VNI", link.vni, v.vni);
  check("port", link.port, v.port);
  check("local", link.local, v.local);
  check("MAC", link.mac, v.mac);
  check("learning", link.learning, false);
  if (wrong.length > 0) {
    reasons.push(...wrong);
    ops.push({ kind: "link-del", name: v.name }, ...create);
    return true;
  }
  if (link.mtu !== v.mtu || !link.up) {
    reasons.push(link.up ? `${v.name} has MTU ${String(link.mtu)} (want ${v.mtu})` : `${v.name} is down`);
    ops.push({ kind: "link-up", name: v.name, mtu: v.mtu });
  }
  compareAddrs(link, [v.addr, v.addr6], ops, reasons);
  return false;
}

function compareBridge(link: ObservedLink | null | undefined, b: OverlayDesired["bridges"][number], ops: OverlayOp[], reasons: string[]): void {
  if (link === undefined) return;
  const create = bridgePlan(b);
  if (link === null || link.kind !== "bridge") {
    reasons.push(link === null ? `${b.name} is missing` : `${b.name} is a ${link.kind ?? "plain"} device, not a bridge`);
    if (link !== null) ops.push({ kind: "link-del", name: b.name });
    ops.push(...create);
    return;
  }
  if (link.mtu !== b.mtu || !link.up) {
    reasons.push(link.up ? `${b.name} has MTU ${String(link.mtu)} (want ${b.mtu})` : `${b.name} is down`);
    ops.push({ kind: "link-up", name: b.name, mtu: b.mtu });
  }
  compareAddrs(link, [b.addr, b.addr6], ops, reasons);
  if (b.addr6 && !link.linkLocal.includes(BRIDGE_LINK_LOCAL)) {
    reasons.push(`${b.name} lacks its link-local ${BRIDGE_LINK_LOCAL}`);
    ops.push({ kind: "addr-replace", dev: b.name, addr: BRIDGE_LINK_LOCAL });
  }
}

function compareAddrs(link: ObservedLink, wanted: ReadonlyArray<string | undefined>, ops: OverlayOp[], reasons: string[]): void {
  const want = new Set(wanted.filter((a): a is string => a !== undefined).map(canonicalAddr));
  for (const a of want) {
    if (link.addrs.includes(a)) continue;
    reasons.push(`${link.name} lacks address ${a}`);
    ops.push({ kind: "addr-replace", dev: link.name, addr: a });
  }
  for (const a of link.addrs) {
    if (want.has(a)) continue;
    reasons.push(`${link.name} has extra address ${a}`);
    ops.push({ kind: "addr-del", dev: link.name, addr: a });
  }
}

/** `fd01:a:0::7/64` → `fd01:a::7/64`: the address canonical, host bits kept. */
function canonicalAddr(a: string): string {
  const [ip = "", len = ""] = a.split("/");
  return `${canonicalIp(ip) ?? ip}/${len}`;
}

function comparePeers(o: ObservedOverlay, want: PeerEntries, dev: string, ops: OverlayOp[], reasons: string[]): void {
  // An unreadable listing is taken as empty: the repair re-adds everything of its kind (replace is
  // idempotent) and deletes nothing it could not see.
  const neigh = new Map<string, string>();
  if (o.neigh) for (const [ip, n] of o.neigh) if (n.permanent && n.mac) neigh.set(ip, n.mac);
  const fdb = new Map<string, string>();
  const fdbFirst: OverlayOp[] = [];
  const multi = new Set<string>();
  if (o.fdb) {
    for (const [mac, rows] of o.fdb) {
      const only = rows.length === 1 ? rows[0] : undefined;
      if (only?.permanent && only.dst) fdb.set(mac, only.dst);
      else {
        // Several remotes, or a learned one: `fdb replace` would change only the first remote.
        reasons.push(`fdb ${mac} has ${rows.length} remote(s) ${rows.map((r) => `${r.dst ?? "?"}${r.permanent ? "" : " (not permanent)"}`).join(", ")}`);
        fdbFirst.push({ kind: "fdb-del", dev, mac });
        multi.add(mac);
      }
    }
  }
  const route = new Map<string, RouteTo>();
  if (o.routes) for (const [dst, r] of o.routes) route.set(dst, { via: r.via ?? "none", dev: r.dev });
  const seen: PeerEntries = {
    neigh: o.neigh ? neigh : new Map(),
    fdb: o.fdb ? fdb : new Map(),
    route: o.routes ? route : new Map(),
  };
  const plan = entryPlan(seen, want, dev);
  // A MAC deleted for its remotes and wanted is re-added by the plan (it is not in `seen`): one drift, not two.
  for (const op of plan) if (!(op.kind === "fdb-replace" && multi.has(op.mac))) reasons.push(entryReason(op, seen));
  const isFdb = (op: OverlayOp): boolean => op.kind === "fdb-del" || op.kind === "fdb-replace";
  ops.push(...plan.filter((op) => !isFdb(op)), ...fdbFirst, ...plan.filter(isFdb));
}

function entryReason(op: OverlayOp, seen: PeerEntries): string {
  switch (op.kind) {
    case "route-del":
      return `extra route ${op.dst}`;
    case "route-replace":
      return seen.route.has(op.dst) ? `route ${op.dst} via ${routeText(seen.route.get(op.dst) as RouteTo)} (want ${routeText(op)})` : `missing route ${op.dst} via ${routeText(op)}`;
    case "neigh-del":
      return `extra neighbour ${op.ip}`;
    case "neigh-replace":
      return seen.neigh.has(op.ip) ? `neighbour ${op.ip} is ${seen.neigh.get(op.ip) as string} (want ${op.mac})` : `missing neighbour ${op.ip} ${op.mac}`;
    case "fdb-del":
      return `extra fdb ${op.mac}`;
    case "fdb-replace":
      return seen.fdb.has(op.mac) ? `fdb ${op.mac} goes to ${seen.fdb.get(op.mac) as string} (want ${op.dst})` : `missing fdb ${op.mac} → ${op.dst}`;
    default:
      return `${op.kind}`;
  }
}

const routeText = (r: RouteTo): string => `${r.via} dev ${r.dev}`;
