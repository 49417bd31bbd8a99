// The L4LB's pure vocabulary (its light door, actors/README.md): what the kernel is asked to hold,
// and the inputs the renderer derives it from. No runtime here: the renderer (render/), the applier,
// the reconciler, the admin ops and the DNS zone part all speak these types.
import type { Backend, Protocol } from "../catalogue/model.js";

export type { Backend, Protocol };
export { NAMED_VIP_BUCKET } from "./names/bucket.js";

/** nftables address family of a table: `ip` (IPv4) or `ip6`. */
export type Family = "ip" | "ip6";

/** The one nft table name, in both families (`table ip dcnet-l4lb`, `table ip6 dcnet-l4lb`). */
export const L4LB_TABLE = "dcnet-l4lb";

export interface Endpoint {
  readonly ip: string;
  readonly port: number;
}

/** One VIP as the kernel holds it (one vmap element, its backend-map elements). */
export interface KernelVip {
  readonly family: Family;
  /** Canonical text of the address (IPv6 compressed, lower case). */
  readonly addr: string;
  readonly protocol: Protocol;
  readonly port: number;
  /**
   * Serving backends in index order: new connections pick one of these (numgen random / jhash mod
   * length). Empty = the VIP has backends but none serving: new connections are rejected at once
   * rather than sent to whatever listens on the address.
   */
  readonly backends: readonly Endpoint[];
  /**
   * Backends still present but not taking new connections (weight 0: killing, unhealthy). Not in
   * the kernel's maps; kept so a later removal knows to flush their conntrack entries.
   */
  readonly draining: readonly Endpoint[];
}

/** `ip 11.0.0.1 tcp 80`: the key of a KernelVip in a DesiredState. */
export function kernelVipKey(v: Pick<KernelVip, "family" | "addr" | "protocol" | "port">): string {
  return `${v.family} ${v.addr} ${v.protocol} ${v.port}`;
}

/** What this node's kernel must hold: every VIP (by kernelVipKey) and the hairpin addresses. */
export interface DesiredState {
  readonly vips: ReadonlyMap<string, KernelVip>;
  /**
   * Per family, the backend addresses on this node: a connection from one of them to a VIP that
   * lands on the same address (a backend reaching its own VIP) must be masqueraded, or the reply
   * would bypass the NAT.
   */
  readonly hairpin: { readonly ip: ReadonlySet<string>; readonly ip6: ReadonlySet<string> };
}

export const EMPTY_DESIRED: DesiredState = { vips: new Map(), hairpin: { ip: new Set(), ip6: new Set() } };

/** How a new connection picks among the serving backends. */
export type Selection = "random" | "source-hash";

/** State of one backend as `ctl vip ls` shows it. */
export type BackendState = "serving" | "draining" | "unreachable";

/** A VIP of the catalogue's table the kernel does not get, and why (logged, counted, shown). */
export interface SkippedVip {
  /** The catalogue's canonical VIP key (`tcp:/myapp:80@marathon`, `tcp:11.1.1.1:80`). */
  readonly vip: string;
  /** Stable, for the metric label: see render/desired.ts. */
  readonly reason: SkipReason;
  /** Says what is wrong, for the log and `ctl vip ls`. */
  readonly message: string;
}

export type SkipReason = "forbidden-range" | "too-many-backends" | "family-disabled" | "bad-address" | "conflict";

/**
 * The allocation name of a named VIP's address in one family: `v4:mygroupmyapp.marathon`. The DNS
 * name is the unit, as in dcos-net: `/my_app` and `/my-app` of one framework share a name, so they
 * share the address.
 */
export function allocationName(dnsName: string, family: Family): string {
  return `${family === "ip" ? "v4" : "v6"}:${dnsName}`;
}

/** The zone named VIPs live in. */
export const L4LB_ZONE = "l4lb.thisdcos.directory";
