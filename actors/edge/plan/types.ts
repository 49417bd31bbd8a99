// The edge's internal model: what HAProxy should serve, whatever said so (Marathon-LB labels on
// tasks, or an Edge-LB style pool applied over admin). Both compile into this one shape; the
// renderer and the planner read only this.
export type Mode = "http" | "tcp";
export const BALANCES = ["roundrobin", "leastconn", "first", "source", "random", "static-rr"] as const;
export type Balance = (typeof BALANCES)[number];

/** One task port HAProxy may send to. `drain`: the task is killing or unhealthy — no new requests. */
export interface Endpoint {
  /** Stable across updates: `<task id>#<port index>` (or the pool's address entry). */
  readonly id: string;
  readonly addr: string;
  readonly port: number;
  readonly state: "ready" | "drain";
}

export interface Backend {
  readonly name: string;
  readonly mode: Mode;
  readonly balance: Balance;
  readonly sticky: boolean;
  /** HAProxy's own check: `path` = HTTP GET, else TCP connect. */
  readonly check?: { readonly path?: string; readonly interMs: number; readonly fall: number; readonly rise: number };
  /** Source CIDRs allowed; empty = everyone. */
  readonly allow: readonly string[];
  readonly rewritePath?: { readonly from: string; readonly to: string };
  readonly hsts: boolean;
  /**
   * An endpoint is itself a load balancer that chooses per connection (a pool's ADDRESS: an L4LB
   * VIP, or another balancer): HAProxy must not share its server connections between clients
   * (`http-reuse never`), or every client would ride the connection that reached one backend first.
   */
  readonly perConnection?: boolean;
  /** Sorted by id. */
  readonly endpoints: readonly Endpoint[];
  /** `labels:<service>` or `pool:<name>`: who asked for it (status, rejections). */
  readonly owner: string;
}

/** One routing rule of an HTTP frontend: every given condition must hold. */
export interface Route {
  readonly hosts: readonly string[];
  readonly hostReg?: string;
  readonly pathBeg: readonly string[];
  readonly pathEnd?: string;
  readonly pathReg?: string;
  readonly backend: string;
  /** Larger first (Marathon-LB's HAPROXY_{n}_BACKEND_WEIGHT). */
  readonly weight: number;
  readonly redirectToHttps: boolean;
}

export interface Frontend {
  readonly name: string;
  readonly bindAddr: string;
  readonly port: number;
  readonly mode: Mode;
  /** TLS termination with these PEM files (HTTPS, TLS). */
  readonly certs: readonly string[];
  /** In order of evaluation. */
  readonly routes: readonly Route[];
  readonly defaultBackend?: string;
  /** Redirect every plain-HTTP request to HTTPS except these host/path pairs (pool `redirectToHttps`). */
  readonly redirectAll?: { readonly except: readonly { readonly host?: string; readonly pathBeg?: string }[] };
  readonly owner: string;
}

/** A service (an app's port) or a pool (or a pool entry) left out, and why. */
export interface Rejected {
  readonly source: "labels" | "pool";
  readonly name: string;
  readonly reason: string;
}

export interface EdgeModel {
  readonly frontends: readonly Frontend[];
  readonly backends: readonly Backend[];
  readonly rejected: readonly Rejected[];
}

/** A task as the edge reads it from the catalogue (the store key's owner and source kept for dedup). */
export interface EdgeTask {
  readonly id: string;
  readonly name: string;
  readonly framework: string;
  readonly agentIp: string;
  readonly taskIps: readonly string[];
  readonly state: "preparing" | "running" | "killing" | "terminal";
  readonly healthy?: boolean;
  readonly labels?: Readonly<Record<string, string>>;
  readonly ports: readonly { readonly name: string; readonly protocol: "tcp" | "udp"; readonly port?: number; readonly hostPort?: number; /** Marathon's service port (the Marathon source's records). */ readonly servicePort?: number }[];
}

/** Lowercase `[A-Za-z0-9-]` with `_` for the rest: HAProxy names and ACL names (Marathon-LB's rule). */
export function sanitize(s: string): string {
  return s.replace(/^\/+/, "").replace(/[^A-Za-z0-9-]/g, "_");
}
