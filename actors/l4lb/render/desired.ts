// The catalogue's VIP table → what this node's kernel must hold (dcos-net §3.1–3.3, issue 12 points
// 1, 2, 5, 6): backend health, named-VIP addresses, hairpin addresses, and every VIP the kernel does
// not get with its reason. Pure and fast: it runs on every table change, at 10,000 VIPs too.
import { dcosDomainFrag } from "../../catalogue/model.js";
import type { Backend, BackendState, DesiredState, Endpoint, Family, KernelVip, Protocol, SkippedVip, SkipReason } from "../model.js";
import { allocationName, kernelVipKey } from "../model.js";
import { firstCidr, ipCache, parseCidr, type Cidr, type Ip } from "./ip.js";

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
  readonly ip?: Ip;
}

/** Flags of one backend in a group (parallel to its endpoint: one object per backend, not two). */
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
  eps: Endpoint[];
  bits: number[];
}

type Lookup = (s: string) => Ip | undefined;
const NONE: readonly Endpoint[] = Object.freeze([]);

export function desiredState(input: DesiredInput): DesiredResult {
  const ip = ipCache();
  const forbidden = input.forbidden.flatMap((c) => parseCidr(c) ?? []);
  const ctx: Ctx = { input, ip, forbidden, groups: new Map(), skips: new Map(), addrs: new Map(), wanted: new Set(), keys: new Map(), frameworks: new Map() };
  for (const [key, backends] of input.table) {
    const k = parseKey(key, ip);
    if (!k) skip(ctx, key, "bad-address", `cannot parse the VIP key ${JSON.stringify(key.slice(0, 120))}`);
    else if (k.kind === "named") addNamed(ctx, key, k, backends);
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

interface Ctx {
  readonly input: DesiredInput;
  readonly ip: Lookup;
  readonly forbidden: readonly Cidr[];
  readonly groups: Map<string, Group>;
  /** `${vip}\0${reason}` → the skip. */
  readonly skips: Map<string, SkippedVip>;
  /** Catalogue key → the addresses it has in the kernel (before too-many-backends). */
  readonly addrs: Map<string, Array<{ family: Family; addr: string }>>;
  readonly wanted: Set<string>;
  /** Named catalogue keys → DNS name and whether it waits for an address. */
  readonly keys: Map<string, { dnsName: string; pending: boolean }>;
  readonly frameworks: Map<string, string>;
}

function skip(ctx: Ctx, vip: string, reason: SkipReason, message: string): void {
  const id = `${vip}\u0000${reason}`;
  if (!ctx.skips.has(id)) ctx.skips.set(id, { vip, reason, message });
}

/** The catalogue's canonical key (vipKeyString) read without zod: this runs 10,000 times per table. */
export function parseKey(key: string, ip: Lookup): ParsedKey | undefined {
  const protocol = key.startsWith("tcp:") ? "tcp" : key.startsWith("udp:") ? "udp" : undefined;
  if (!protocol) return undefined;
  const rest = key.slice(4);
  const at = rest.lastIndexOf("@");
  const named = at > rest.lastIndexOf(":");
  const label = named ? rest.slice(0, at) : rest;
  const colon = label.lastIndexOf(":");
  const portText = label.slice(colon + 1);
  if (colon <= 0 || !/^[0-9]{1,5}$/.test(portText)) return undefined;
  const port = Number(portText);
  if (port < 1 || port > 65535) return undefined;
  const head = label.slice(0, colon);
  const bare = head.startsWith("[") && head.endsWith("]") ? head.slice(1, -1) : head;
  if (named) {
    // parseVipLabel makes an IP literal an IP VIP, and a name needs a DNS-usable character.
    if (!/[A-Za-z0-9]/.test(head) || (/^[0-9a-fA-F:.[\]]+$/.test(head) && ip(bare))) return undefined;
    return { protocol, kind: "named", name: head, framework: rest.slice(at + 1), port };
  }
  const addr = ip(bare);
  return addr ? { protocol, kind: "ip", name: addr.text, framework: "", port, ip: addr } : undefined;
}

/**
 * Appends a catalogue backend to `eps`/`bits` as this node programs it (the container address for its
 * own bridge-mode tasks, DCOS_OSS-2070); returns its family, or undefined when its address is bad.
 * With `only`, a backend of another family is left out.
 */
function push(ctx: Ctx, b: Backend, eps: Endpoint[], bits: number[], only?: Family): Family | undefined {
  const local = ctx.input.localIps.has(b.agentIp);
  const target = local && b.direct ? b.direct : b;
  const addr = ctx.ip(target.ip);
  if (!addr || (only !== undefined && addr.family !== only)) return addr?.family;
  eps.push({ ip: addr.text, port: target.port });
  const dead = ctx.input.deadNodes.size > 0 && ctx.input.deadNodes.has(b.owner);
  bits.push((b.weight === 1 ? SERVING : 0) | (dead ? UNREACHABLE : 0) | (local || ctx.input.localIps.has(b.ip) ? LOCAL : 0));
  return addr.family;
}

function addNamed(ctx: Ctx, key: string, k: ParsedKey, backends: readonly Backend[]): void {
  const v4: Endpoint[] = [];
  const v4bits: number[] = [];
  const v6: Endpoint[] = [];
  const v6bits: number[] = [];
  let disabled = 0;
  for (const b of backends) {
    const f = push(ctx, b, v4, v4bits, "ip");
    if (f === "ip6") {
      if (ctx.input.ipv6) push(ctx, b, v6, v6bits, "ip6");
      else disabled++;
    }
  }
  const dnsName = dnsNameOf(ctx, k);
  const meta = { dnsName, pending: false };
  ctx.keys.set(key, meta);
  if (v4.length + v6.length === 0) {
    if (disabled > 0) skip(ctx, key, "family-disabled", "every backend is IPv6 and l4lb.ipv6 is off");
    else if (backends.length > 0) skip(ctx, key, "bad-address", "no backend has a valid IP address");
    return;
  }
  for (const family of FAMILIES) {
    const eps = family === "ip" ? v4 : v6;
    if (eps.length === 0) continue;
    const name = allocationName(dnsName, family);
    ctx.wanted.add(name);
    const given = ctx.input.addresses.get(name);
    if (given === undefined) {
      meta.pending = true; // the allocator has not answered yet
      continue;
    }
    const addr = ctx.ip(given);
    if (!addr || addr.family !== family) {
      skip(ctx, key, "bad-address", `the allocator gave ${JSON.stringify(given.slice(0, 60))} for ${name}, not an ${family === "ip" ? "IPv4" : "IPv6"} address`);
      continue;
    }
    if (isForbidden(ctx, key, addr)) continue;
    const kk = kernelVipKey({ family, addr: addr.text, protocol: k.protocol, port: k.port });
    const taken = ctx.groups.get(kk);
    if (taken && !taken.named) {
      // IP VIPs got here first: the named VIP wins the address (whatever the table's order).
      for (const s of taken.sources) conflict(ctx, s, key, addr, k);
      ctx.groups.delete(kk);
    }
    const g = addToGroup(ctx, kk, key, addr, k, eps, family === "ip" ? v4bits : v6bits);
    g.named = true;
  }
}

const FAMILIES: readonly Family[] = ["ip", "ip6"];

function conflict(ctx: Ctx, ipKey: string, namedKey: string, addr: Ip, k: ParsedKey): void {
  skip(ctx, ipKey, "conflict", `${addr.text} ${k.protocol} ${k.port} is the address of the named VIP ${namedKey}`);
  ctx.addrs.delete(ipKey);
}

/** vipDnsName, with the framework's half mangled once per pass (a handful of frameworks, 10,000 labels). */
function dnsNameOf(ctx: Ctx, k: ParsedKey): string {
  let fw = ctx.frameworks.get(k.framework);
  if (fw === undefined) ctx.frameworks.set(k.framework, (fw = dcosDomainFrag(k.framework)));
  return `${dcosDomainFrag(k.name)}.${fw}`;
}

function addIp(ctx: Ctx, key: string, k: ParsedKey, backends: readonly Backend[]): void {
  const addr = k.ip;
  if (!addr) return;
  if (addr.family === "ip6" && !ctx.input.ipv6) return skip(ctx, key, "family-disabled", `${addr.text} is IPv6 and l4lb.ipv6 is off`);
  if (isForbidden(ctx, key, addr)) return;
  const kk = kernelVipKey({ family: addr.family, addr: addr.text, protocol: k.protocol, port: k.port });
  const taken = ctx.groups.get(kk);
  if (taken?.named) return conflict(ctx, key, taken.sources[0] ?? "", addr, k);
  // IP VIPs take only backends of their own family (the catalogue filters too; a stray one is dropped).
  const eps: Endpoint[] = [];
  const bits: number[] = [];
  for (const b of backends) push(ctx, b, eps, bits, addr.family);
  addToGroup(ctx, kk, key, addr, k, eps, bits);
}

function isForbidden(ctx: Ctx, key: string, addr: Ip): boolean {
  const hit = firstCidr(addr, ctx.forbidden);
  if (hit) skip(ctx, key, "forbidden-range", `${addr.text} is inside the forbidden range ${hit.text}`);
  return hit !== undefined;
}

function addToGroup(ctx: Ctx, kk: string, key: string, addr: Ip, k: ParsedKey, eps: Endpoint[], bits: number[]): Group {
  let g = ctx.groups.get(kk);
  if (!g) ctx.groups.set(kk, (g = { named: false, family: addr.family, addr: addr.text, protocol: k.protocol, port: k.port, sources: [key], eps, bits }));
  else {
    if (!g.sources.includes(key)) g.sources.push(key);
    g.eps = g.eps.concat(eps);
    g.bits = g.bits.concat(bits);
  }
  const list = ctx.addrs.get(key);
  if (list) list.push({ family: addr.family, addr: addr.text });
  else ctx.addrs.set(key, [{ family: addr.family, addr: addr.text }]);
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
    while (i + 1 < eps.length && cmpEp(e, eps[i + 1] as Endpoint) === 0) f = ((bits[++i] as number) & SERVING) | f;
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
  for (const [key, backends] of ctx.input.table) {
    let n = 0;
    if (dead.size > 0) for (const b of backends) if (dead.has(b.owner)) n++;
    unreachableBackends += n;
    if (n > 0 && n === backends.length) unreachableVips++;
    views.push(new View(key, ctx.keys.get(key), ctx.addrs.get(key) ?? [], skipOf.get(key), backends, dead));
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
  readonly pending: boolean;
  readonly skipped?: SkippedVip;
  #states: VipView["backends"] | undefined;

  constructor(
    readonly vip: string,
    meta: { dnsName: string; pending: boolean } | undefined,
    readonly addresses: VipView["addresses"],
    skipped: SkippedVip | undefined,
    private readonly source: readonly Backend[],
    private readonly dead: ReadonlySet<string>,
  ) {
    this.kind = meta ? "named" : "ip";
    if (meta) this.dnsName = meta.dnsName;
    this.pending = meta?.pending ?? false;
    if (skipped) this.skipped = skipped;
    const m = /:([0-9]{1,5})(@[^@]*)?$/.exec(vip);
    this.protocol = vip.startsWith("udp:") ? "udp" : "tcp";
    this.port = m ? Number(m[1]) : 0;
  }

  get backends(): VipView["backends"] {
    this.#states ??= this.source.map((b) => ({ ...b, state: this.dead.has(b.owner) ? ("unreachable" as const) : b.weight === 1 ? ("serving" as const) : ("draining" as const) }));
    return this.#states;
  }

  /** Plain data for logs and JSON (the getter is not an own property). */
  toJSON(): object {
    return { vip: this.vip, kind: this.kind, dnsName: this.dnsName, protocol: this.protocol, port: this.port, addresses: this.addresses, pending: this.pending, backends: this.backends, skipped: this.skipped };
  }
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
