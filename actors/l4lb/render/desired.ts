// The catalogue's VIP table → what this node's kernel must hold (dcos-net §3.1–3.3, issue 12 points
// 1, 2, 5, 6): backend health, named-VIP addresses, hairpin addresses, and every VIP the kernel does
// not get with its reason. Pure and fast: it runs on every table change, at 10,000 VIPs too.
import { dcosDomainFrag } from "../../catalogue/model.js";
import type { Backend, BackendState, DesiredState, Endpoint, Family, KernelVip, Protocol, SkippedVip, SkipReason } from "../model.js";
import { allocationName, kernelVipKey } from "../model.js";
import { familyOf, firstCidr, ipCache, parseCidr, type Cidr } from "./ip.js";

export interface DesiredInput {
  /** The catalogue's VipTable: canonical VIP key → backends. */
  readonly table: ReadonlyMap<string, readonly Backend[]>;
  /** allocationName(dnsName, family) → address (the allocator); absent while not allocated. */
  readonly addresses: ReadonlyMap<string, string>;
  /** Backend.owner ids membership says are dead. */
  readonly deadNodes: ReadonlySet<string>;
  /** This node's addresses: a backend whose agentIp is one of them runs here. */
  readonly localIps: ReadonlySet<string>;
  /** CIDRs no VIP may be inside (overlay 9.0.0.0/8, VTEP 44.128.0.0/20, …). */
  readonly forbidden: readonly string[];
  /** Layout limit (chains nb-1..nb-max): a VIP with more serving backends is skipped. */
  readonly maxBackends: number;
  /** false: IPv6 VIPs and backends are left out (reason family-disabled). */
  readonly ipv6: boolean;
}

export interface VipView {
  /** The catalogue's canonical key. */
  readonly vip: string;
  readonly kind: "ip" | "named";
  /** Named VIPs: `mygroupmyapp.marathon` (the zone is added by DNS). */
  readonly dnsName?: string;
  readonly protocol: Protocol;
  readonly port: number;
  /** The addresses the kernel has this VIP on (named: the allocated ones). */
  readonly addresses: ReadonlyArray<{ readonly family: Family; readonly addr: string }>;
  /** Named VIP still waiting for an address in a family its backends need. */
  readonly pending: boolean;
  readonly backends: ReadonlyArray<Backend & { readonly state: BackendState }>;
  readonly skipped?: SkippedVip;
}

export interface DesiredResult {
  readonly state: DesiredState;
  /** One per catalogue key, in the table's order. */
  readonly views: readonly VipView[];
  /** Sorted by VIP key; one per (VIP key, reason). */
  readonly skipped: readonly SkippedVip[];
  /** Allocation names the named VIPs with backends need (per family present among their backends), sorted. */
  readonly wanted: readonly string[];
  readonly counts: {
    /** Kernel VIPs (address, protocol, port). */
    readonly vips: number;
    /** Serving + draining backends the kernel VIPs hold. */
    readonly backends: number;
    /** Catalogue backends whose node is dead (kept or not). */
    readonly unreachableBackends: number;
    /** Catalogue VIPs whose every backend is on a dead node (then all are kept, as dcos-net does). */
    readonly unreachableVips: number;
  };
}

interface ParsedKey {
  readonly protocol: Protocol;
  readonly kind: "ip" | "named";
  /** The raw label for named VIPs, the canonical address for IP VIPs. */
  readonly name: string;
  readonly framework: string;
  readonly port: number;
}

/** What the pass learns about one catalogue key, for its view. */
interface KeyInfo {
  readonly protocol: Protocol;
  readonly port: number;
  readonly dnsName?: string;
  pending: boolean;
  /** The addresses it has in the kernel (before too-many-backends). */
  addresses: Array<{ family: Family; addr: string }>;
}

/** Flags of one backend in a group, parallel to its endpoint (one object per backend, not two). */
const SERVING = 1;
const UNREACHABLE = 2;
const LOCAL = 4;

/** Everything landing on one kernel key: several catalogue keys may (`/a:80` and `a:80`). */
interface Group {
  /** Some catalogue key landing here is a named VIP. */
  named: boolean;
  readonly family: Family;
  readonly addr: string;
  readonly protocol: Protocol;
  readonly port: number;
  readonly sources: string[];
  /** Parallel to sources. */
  readonly infos: KeyInfo[];
  eps: Endpoint[];
  bits: number[];
}

type Lookup = (s: string) => string | undefined;
const NONE: readonly Endpoint[] = Object.freeze([]);
const FAMILIES: readonly Family[] = ["ip", "ip6"];

interface Ctx {
  readonly input: DesiredInput;
  readonly ip: Lookup;
  readonly forbidden: readonly Cidr[];
  readonly groups: Map<string, Group>;
  /** `${vip}\0${reason}` → the skip. */
  readonly skips: Map<string, SkippedVip>;
  /** Per catalogue key, in the table's order (undefined: unparsable). */
  readonly keys: Array<KeyInfo | undefined>;
  readonly wanted: Set<string>;
  /** Framework name → its mangled DNS half. */
  readonly frameworks: Map<string, string>;
}

export function desiredState(input: DesiredInput): DesiredResult {
  const ctx: Ctx = {
    input,
    ip: ipCache(),
    forbidden: input.forbidden.flatMap((c) => parseCidr(c) ?? []),
    groups: new Map(),
    skips: new Map(),
    keys: [],
    wanted: new Set(),
    frameworks: new Map(),
  };
  for (const [key, backends] of input.table) {
    const k = parseKey(key, ctx.ip);
    if (!k) {
      skip(ctx, key, "bad-address", `cannot parse the VIP key ${JSON.stringify(key.slice(0, 120))}`);
      ctx.keys.push(undefined);
    } else if (k.kind === "named") addNamed(ctx, key, k, backends);
    else addIp(ctx, key, k, backends);
  }
  const vips = new Map<string, KernelVip>();
  const hairpin = { ip: new Set<string>(), ip6: new Set<string>() };
  let backendCount = 0;
  for (const [kk, g] of ctx.groups) {
    const v = kernelVip(ctx, g, hairpin);
    if (!v) continue;
    vips.set(kk, v);
    backendCount += v.backends.length + v.draining.length;
  }
  const { views, unreachableBackends, unreachableVips } = buildViews(ctx);
  const skipped = [...ctx.skips.values()].sort((a, b) => cmp(a.vip, b.vip) || cmp(a.reason, b.reason));
  return {
    state: { vips, hairpin },
    views,
    skipped,
    wanted: [...ctx.wanted].sort(),
    counts: { vips: vips.size, backends: backendCount, unreachableBackends, unreachableVips },
  };
}

function skip(ctx: Ctx, vip: string, reason: SkipReason, message: string): void {
  const id = `${vip}\u0000${reason}`;
  if (!ctx.skips.has(id)) ctx.skips.set(id, { vip, reason, message });
}

/** The catalogue's canonical key (vipKeyString) read without zod: this runs 10,000 times per table. */
export function parseKey(key: string, ip: Lookup): ParsedKey | undefined {
  const protocol = key.startsWith("tcp:") ? "tcp" : key.startsWith("udp:") ? "udp" : undefined;
  if (!protocol) return undefined;
  const at = key.lastIndexOf("@");
  const named = at > key.lastIndexOf(":");
  const end = named ? at : key.length;
  const colon = key.lastIndexOf(":", end - 1);
  if (colon <= 4 || end - colon < 2 || end - colon > 6) return undefined;
  let port = 0;
  for (let i = colon + 1; i < end; i++) {
    const c = key.charCodeAt(i);
    if (c < 48 || c > 57) return undefined;
    port = port * 10 + (c - 48);
  }
  if (port < 1 || port > 65535) return undefined;
  const head = key.slice(4, colon);
  const bare = head.startsWith("[") && head.endsWith("]") ? head.slice(1, -1) : head;
  if (named) {
    // parseVipLabel makes an IP literal an IP VIP, and a name needs a DNS-usable character.
    if (!/[A-Za-z0-9]/.test(head) || (/^[0-9a-fA-F:.[\]]+$/.test(head) && ip(bare) !== undefined)) return undefined;
    return { protocol, kind: "named", name: head, framework: key.slice(at + 1), port };
  }
  const addr = ip(bare);
  return addr === undefined ? undefined : { protocol, kind: "ip", name: addr, framework: "", port };
}

/**
 * Appends a catalogue backend to `eps`/`bits` as this node programs it (the container address for
 * its own bridge-mode tasks, DCOS_OSS-2070) if it is of `family`; returns its family, undefined
 * when its address is not an IP.
 */
function push(ctx: Ctx, b: Backend, eps: Endpoint[], bits: number[], family: Family): Family | undefined {
  const local = ctx.input.localIps.has(b.agentIp);
  const target = local && b.direct ? b.direct : b;
  const addr = ctx.ip(target.ip);
  if (addr === undefined) return undefined;
  const f = familyOf(addr);
  if (f !== family) return f;
  eps.push({ ip: addr, port: target.port });
  const dead = ctx.input.deadNodes.size > 0 && ctx.input.deadNodes.has(b.owner);
  bits.push((b.weight === 1 ? SERVING : 0) | (dead ? UNREACHABLE : 0) | (local || ctx.input.localIps.has(b.ip) ? LOCAL : 0));
  return f;
}

function addNamed(ctx: Ctx, key: string, k: ParsedKey, backends: readonly Backend[]): void {
  const v4: Endpoint[] = [];
  const v4bits: number[] = [];
  const v6: Endpoint[] = [];
  const v6bits: number[] = [];
  let disabled = 0;
  for (const b of backends) {
    if (push(ctx, b, v4, v4bits, "ip") !== "ip6") continue;
    if (ctx.input.ipv6) push(ctx, b, v6, v6bits, "ip6");
    else disabled++;
  }
  const info: KeyInfo = { protocol: k.protocol, port: k.port, dnsName: dnsNameOf(ctx, k), pending: false, addresses: [] };
  ctx.keys.push(info);
  if (v4.length + v6.length === 0) {
    if (disabled > 0) skip(ctx, key, "family-disabled", "every backend is IPv6 and l4lb.ipv6 is off");
    else if (backends.length > 0) skip(ctx, key, "bad-address", "no backend has a valid IP address");
    return;
  }
  for (const family of FAMILIES) {
    const eps = family === "ip" ? v4 : v6;
    if (eps.length === 0) continue;
    const name = allocationName(info.dnsName ?? "", family);
    ctx.wanted.add(name);
    const given = ctx.input.addresses.get(name);
    if (given === undefined) {
      info.pending = true; // the allocator has not answered yet
      continue;
    }
    const addr = ctx.ip(given);
    if (addr === undefined || familyOf(addr) !== family) {
      skip(ctx, key, "bad-address", `the allocator gave ${JSON.stringify(given.slice(0, 60))} for ${name}, not an ${family === "ip" ? "IPv4" : "IPv6"} address`);
      continue;
    }
    if (isForbidden(ctx, key, addr)) continue;
    const kk = kernelVipKey({ family, addr, protocol: k.protocol, port: k.port });
    const taken = ctx.groups.get(kk);
    if (taken && !taken.named) {
      // IP VIPs got here first: the named VIP takes the address, whatever the table's order.
      taken.sources.forEach((s, i) => conflict(ctx, s, taken.infos[i], key, addr, k));
      ctx.groups.delete(kk);
    }
    addToGroup(ctx, kk, key, info, family, addr, eps, family === "ip" ? v4bits : v6bits).named = true;
  }
}

function conflict(ctx: Ctx, ipKey: string, info: KeyInfo | undefined, namedKey: string, addr: string, k: ParsedKey): void {
  skip(ctx, ipKey, "conflict", `${addr} ${k.protocol} ${k.port} is the address of the named VIP ${namedKey}`);
  if (info) info.addresses = [];
}

/** vipDnsName, with the framework's half mangled once per pass (a handful of frameworks, 10,000 labels). */
function dnsNameOf(ctx: Ctx, k: ParsedKey): string {
  let fw = ctx.frameworks.get(k.framework);
  if (fw === undefined) ctx.frameworks.set(k.framework, (fw = dcosDomainFrag(k.framework)));
  return `${dcosDomainFrag(k.name)}.${fw}`;
}

function addIp(ctx: Ctx, key: string, k: ParsedKey, backends: readonly Backend[]): void {
  const addr = k.name;
  const family = familyOf(addr);
  const info: KeyInfo = { protocol: k.protocol, port: k.port, pending: false, addresses: [] };
  ctx.keys.push(info);
  if (family === "ip6" && !ctx.input.ipv6) return skip(ctx, key, "family-disabled", `${addr} is IPv6 and l4lb.ipv6 is off`);
  if (isForbidden(ctx, key, addr)) return;
  const kk = kernelVipKey({ family, addr, protocol: k.protocol, port: k.port });
  const taken = ctx.groups.get(kk);
  if (taken?.named) return conflict(ctx, key, info, taken.sources[0] ?? "", addr, k);
  // IP VIPs take only backends of their own family (the catalogue filters too; a stray one is dropped).
  const eps: Endpoint[] = [];
  const bits: number[] = [];
  for (const b of backends) push(ctx, b, eps, bits, family);
  addToGroup(ctx, kk, key, info, family, addr, eps, bits);
}

function isForbidden(ctx: Ctx, key: string, addr: string): boolean {
  const hit = ctx.forbidden.length === 0 ? undefined : firstCidr(addr, ctx.forbidden);
  if (hit) skip(ctx, key, "forbidden-range", `${addr} is inside the forbidden range ${hit.text}`);
  return hit !== undefined;
}

function addToGroup(ctx: Ctx, kk: string, key: string, info: KeyInfo, family: Family, addr: string, eps: Endpoint[], bits: number[]): Group {
  let g = ctx.groups.get(kk);
  if (!g) ctx.groups.set(kk, (g = { named: false, family, addr, protocol: info.protocol, port: info.port, sources: [key], infos: [info], eps, bits }));
  else {
    if (!g.sources.includes(key)) {
      g.sources.push(key);
      g.infos.push(info);
    }
    g.eps = g.eps.concat(eps);
    g.bits = g.bits.concat(bits);
  }
  info.addresses.push({ family, addr });
  return g;
}

const cmpEp = (a: Endpoint, b: Endpoint): number => cmp(a.ip, b.ip) || a.port - b.port;

/** Sorts endpoints and their flags together (insertion sort: a VIP has a handful of backends). */
function sortGroup(eps: Endpoint[], bits: number[]): void {
  for (let i = 1; i < eps.length; i++) {
    const e = eps[i] as Endpoint;
    const f = bits[i] as number;
    let j = i - 1;
    while (j >= 0 && cmpEp(eps[j] as Endpoint, e) > 0) {
      eps[j + 1] = eps[j] as Endpoint;
      bits[j + 1] = bits[j] as number;
      j--;
    }
    eps[j + 1] = e;
    bits[j + 1] = f;
  }
}

/** Health filter, dedupe, order and limit for one kernel key; undefined when skipped. */
function kernelVip(ctx: Ctx, g: Group, hairpin: { ip: Set<string>; ip6: Set<string> }): KernelVip | undefined {
  const { eps, bits } = g;
  let any = 0;
  let all = UNREACHABLE;
  for (const f of bits) {
    any |= f & UNREACHABLE;
    all &= f;
  }
  // dcos-net healthy_backends/2: backends on dead nodes are left out, unless every one is.
  const skipDead = any !== 0 && all === 0;
  sortGroup(eps, bits);
  const backends: Endpoint[] = [];
  let draining: Endpoint[] | undefined;
  let local: string[] | undefined;
  for (let i = 0; i < eps.length; i++) {
    const e = eps[i] as Endpoint;
    let f = bits[i] as number;
    // Sorted, so equal endpoints are neighbours; one serving copy makes the endpoint serving.
    while (i + 1 < eps.length && cmpEp(e, eps[i + 1] as Endpoint) === 0) f |= (bits[++i] as number) & SERVING;
    if (skipDead && f & UNREACHABLE) continue;
    if (f & SERVING) {
      backends.push(e);
      if (f & LOCAL) (local ??= []).push(e.ip);
    } else (draining ??= []).push(e);
  }
  if (backends.length > ctx.input.maxBackends) {
    for (const s of g.sources) {
      skip(ctx, s, "too-many-backends", `${g.addr} ${g.protocol} ${g.port} has ${backends.length} serving backends, the layout holds ${ctx.input.maxBackends} (l4lb.maxBackends)`);
    }
    return undefined;
  }
  if (local) for (const a of local) hairpin[g.family].add(a);
  return { family: g.family, addr: g.addr, protocol: g.protocol, port: g.port, backends, draining: draining ?? (NONE as Endpoint[]) };
}

function buildViews(ctx: Ctx): { views: VipView[]; unreachableBackends: number; unreachableVips: number } {
  const skipOf = new Map<string, SkippedVip>();
  for (const s of ctx.skips.values()) if (!skipOf.has(s.vip)) skipOf.set(s.vip, s);
  const dead = ctx.input.deadNodes;
  const views: VipView[] = [];
  let unreachableBackends = 0;
  let unreachableVips = 0;
  let i = 0;
  for (const [key, backends] of ctx.input.table) {
    const info = ctx.keys[i++];
    let n = 0;
    if (dead.size > 0) for (const b of backends) if (dead.has(b.owner)) n++;
    unreachableBackends += n;
    if (n > 0 && n === backends.length) unreachableVips++;
    views.push(new View(key, info, skipOf.get(key), backends, dead));
  }
  return { views, unreachableBackends, unreachableVips };
}

/**
 * A VipView whose backend states are built on first read: every sync reads the views' names and
 * addresses, only `ctl vip ls` reads every backend.
 */
class View implements VipView {
  readonly kind: "ip" | "named";
  readonly dnsName?: string;
  readonly protocol: Protocol;
  readonly port: number;
  readonly addresses: VipView["addresses"];
  readonly pending: boolean;
  readonly skipped?: SkippedVip;
  #states: VipView["backends"] | undefined;

  constructor(
    readonly vip: string,
    info: KeyInfo | undefined,
    skipped: SkippedVip | undefined,
    private readonly source: readonly Backend[],
    private readonly dead: ReadonlySet<string>,
  ) {
    this.kind = info?.dnsName === undefined ? "ip" : "named";
    if (info?.dnsName !== undefined) this.dnsName = info.dnsName;
    // An unparsable key still gets a row (with its skip): protocol by its prefix, port 0.
    this.protocol = info?.protocol ?? (vip.startsWith("udp:") ? "udp" : "tcp");
    this.port = info?.port ?? 0;
    this.addresses = info?.addresses ?? [];
    this.pending = info?.pending ?? false;
    if (skipped) this.skipped = skipped;
  }

  get backends(): VipView["backends"] {
    this.#states ??= this.source.map((b) => ({ ...b, state: stateOf(b, this.dead) }));
    return this.#states;
  }

  /** Plain data for logs and JSON (the getter is not an own property). */
  toJSON(): object {
    return { vip: this.vip, kind: this.kind, dnsName: this.dnsName, protocol: this.protocol, port: this.port, addresses: this.addresses, pending: this.pending, backends: this.backends, skipped: this.skipped };
  }
}

function stateOf(b: Backend, dead: ReadonlySet<string>): BackendState {
  if (dead.has(b.owner)) return "unreachable";
  return b.weight === 1 ? "serving" : "draining";
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
