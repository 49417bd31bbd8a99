// Tasks (with their labels) + pools → the edge model. Pure and deterministic: services sorted by
// id, endpoints by id, so equal input renders equal text. Every conflict is settled the same way on
// every node: pools (operator-owned) before labels, then by name; the later claimant is rejected.
import { parseAppLabels, type PortSpec } from "./labels.js";
import { NAMED_VIP, type Pool } from "./pool.js";
import { sanitize, type Backend, type EdgeModel, type EdgeTask, type Endpoint, type Frontend, type Rejected, type Route } from "./types.js";

export interface DesiredOptions {
  readonly groups: readonly string[];
  readonly strict: boolean;
  /** The shared frontends vhost routes go through (Marathon-LB's :80 and :443). */
  readonly httpPort: number;
  readonly httpsPort: number;
  readonly bindAddr: string;
  /** Ports the edge itself holds (health/stats listener): never a service's. */
  readonly reservedPorts: readonly number[];
  /** Whether a certificate file exists (the caller's I/O; pure code only asks). */
  readonly certExists: (path: string) => boolean;
  readonly check: { readonly interMs: number; readonly fall: number; readonly rise: number };
  /** A named VIP's address on this node (`<name>.<framework>`, without the l4lb zone); undefined = not programmed here. */
  readonly vipAddress?: (name: string) => string | undefined;
}

const SERVING = new Set(["running", "killing"]);

function endpointOf(t: EdgeTask, index: number, type: "AUTO_IP" | "AGENT_IP" | "CONTAINER_IP"): Endpoint | undefined {
  if (!SERVING.has(t.state)) return undefined;
  const p = t.ports[index];
  if (!p) return undefined;
  const state = t.state === "killing" || t.healthy === false ? "drain" : "ready";
  const id = `${t.id}#${index}`;
  const container = p.port !== undefined && t.taskIps[0] !== undefined ? { addr: t.taskIps[0], port: p.port } : undefined;
  const agent = p.hostPort !== undefined ? { addr: t.agentIp, port: p.hostPort } : p.port !== undefined && t.taskIps.includes(t.agentIp) ? { addr: t.agentIp, port: p.port } : undefined;
  const at = type === "AGENT_IP" ? agent : type === "CONTAINER_IP" ? container : (agent ?? container);
  return at ? { id, ...at, state } : undefined;
}

/** One app: its tasks (same framework and name) and the label set most of them carry. */
interface App {
  readonly id: string;
  readonly tasks: readonly EdgeTask[];
  readonly labels: Readonly<Record<string, string>>;
  readonly portCount: number;
  /** Marathon's service port of each port index, from the app's tasks (the Marathon source). */
  readonly servicePorts: readonly (number | undefined)[];
}

export function appsOf(tasks: readonly EdgeTask[]): App[] {
  const by = new Map<string, EdgeTask[]>();
  for (const t of tasks) {
    const id = `${t.framework}/${t.name}`;
    const list = by.get(id);
    if (list) list.push(t);
    else by.set(id, [t]);
  }
  return [...by.keys()].sort().map((id) => {
    const list = (by.get(id) as EdgeTask[]).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    // During a rolling label change the tasks disagree: the most common label set wins (ties: the
    // smallest task id's), so one straggler does not flip the app back and forth.
    const votes = new Map<string, { n: number; labels: Readonly<Record<string, string>>; ports: number }>();
    for (const t of list) {
      const lab = Object.fromEntries(Object.entries(t.labels ?? {}).filter(([k]) => k.startsWith("HAPROXY_")).sort(([a], [b]) => (a < b ? -1 : 1)));
      const key = JSON.stringify(lab);
      const v = votes.get(key);
      if (v) v.n++;
      else votes.set(key, { n: 1, labels: lab, ports: t.ports.length });
    }
    let best: { n: number; labels: Readonly<Record<string, string>>; ports: number } | undefined;
    for (const v of votes.values()) if (!best || v.n > best.n) best = v;
    const servicePorts = Array.from({ length: best?.ports ?? 0 }, (_, i) => list.map((t) => t.ports[i]?.servicePort).find((p) => p !== undefined));
    return { id, tasks: list, labels: best?.labels ?? {}, portCount: best?.ports ?? 0, servicePorts };
  });
}

function matches(value: string | undefined, exact: string | undefined, pattern: string | undefined): boolean {
  if (exact !== undefined && value !== exact && `/${value ?? ""}` !== exact) return false;
  if (pattern !== undefined && (value === undefined || !new RegExp(pattern).test(value))) return false;
  return true;
}

/**
 * A Marathon `serviceID` (an app id, `/shop/web`) against a task's name: Marathon names an app's
 * Mesos tasks `web.shop` (PathId.toHostname: the path reversed, joined by dots), and so do the
 * catalogue's Mesos and Marathon sources. An exact id matches its hostname form; a pattern is tried
 * on the name, on `/name`, and on the id read back from the name (`/shop/web`; an app id with dots
 * in a segment cannot be read back, so such a pattern should match the name form).
 */
function matchesServiceId(name: string, exact: string | undefined, pattern: string | undefined): boolean {
  const hostname = (id: string) => id.split("/").filter((x) => x.length > 0).reverse().join(".");
  if (exact !== undefined && name !== exact && `/${name}` !== exact && hostname(exact) !== name) return false;
  if (pattern !== undefined) {
    const re = new RegExp(pattern);
    if (![name, `/${name}`, `/${name.split(".").reverse().join("/")}`].some((f) => re.test(f))) return false;
  }
  return true;
}

export function buildModel(tasks: readonly EdgeTask[], pools: readonly Pool[], opts: DesiredOptions): EdgeModel {
  const rejected: Rejected[] = [];
  const frontends: Frontend[] = [];
  const backends: Backend[] = [];
  const claimedPorts = new Map<number, string>(opts.reservedPorts.map((p) => [p, "the edge's health listener"]));
  const backendNames = new Set<string>();

  // Pools first: they are the operator's.
  for (const pool of [...pools].sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const problem = poolProblem(pool, claimedPorts, opts);
    if (problem) {
      rejected.push({ source: "pool", name: pool.name, reason: problem });
      continue;
    }
    const bname = (b: string) => `pool_${sanitize(pool.name)}_${sanitize(b)}`;
    for (const b of pool.haproxy.backends) {
      const endpoints = new Map<string, Endpoint>();
      for (const s of b.services) {
        const ep = s.endpoint;
        if (ep.type === "ADDRESS") {
          const address = ep.address as string;
          const named = NAMED_VIP.test(address);
          // A named VIP keeps its endpoint id when its address changes: the slot moves, no reload.
          const addr = named ? opts.vipAddress?.(address.slice(0, -".l4lb.thisdcos.directory".length)) : address;
          if (addr === undefined) {
            rejected.push({ source: "pool", name: `${pool.name}/${b.name}`, reason: `named VIP ${address} has no address on this node (the L4LB is off here, or has not programmed it yet); the backend has no server from it` });
            continue;
          }
          const e: Endpoint = { id: `addr:${address}:${ep.port as number}`, addr, port: ep.port as number, state: "ready" };
          endpoints.set(e.id, e);
          continue;
        }
        for (const t of tasks) {
          const m = s.marathon;
          const me = s.mesos;
          if (m && !(t.framework === "marathon" && matchesServiceId(t.name, m["serviceID"], m["serviceIDPattern"]) && matches(t.name, m["containerName"], m["containerNamePattern"]))) continue;
          if (me && !(matches(t.framework, me["frameworkName"], me["frameworkNamePattern"]) && matches(t.name, me["taskName"], me["taskNamePattern"]) && matches(t.id, me["taskID"], me["taskIDPattern"]))) continue;
          const indexes = ep.allPorts ? t.ports.map((_, i) => i) : [ep.portName !== undefined ? t.ports.findIndex((p) => p.name === ep.portName) : ep.port !== undefined ? t.ports.findIndex((p) => p.port === ep.port || p.hostPort === ep.port) : 0];
          for (const i of indexes) {
            if (i < 0) continue;
            const e = endpointOf(t, i, ep.type);
            if (e) endpoints.set(e.id, e);
          }
        }
      }
      const http = b.protocol === "HTTP" || b.protocol === "HTTPS";
      const check = b.customCheck?.httpchk || b.services.some((s) => s.endpoint.check?.enabled) ? { ...opts.check, ...(b.customCheck?.httpchk ? { path: b.customCheck.httpchkMiscStr ?? "/" } : {}) } : undefined;
      backends.push({
        name: bname(b.name),
        mode: http ? "http" : "tcp",
        balance: b.balance,
        sticky: http && b.rewriteHttp?.sticky?.enabled === true,
        ...(check ? { check } : {}),
        allow: b.allowedCidrs ?? [],
        ...(http && b.rewriteHttp?.path ? { rewritePath: { from: b.rewriteHttp.path.fromPath, to: b.rewriteHttp.path.toPath } } : {}),
        hsts: false,
        ...(http && b.services.some((s) => s.endpoint.type === "ADDRESS") ? { perConnection: true } : {}),
        endpoints: [...endpoints.values()].sort((x, y) => (x.id < y.id ? -1 : 1)),
        owner: `pool:${pool.name}`,
      });
      backendNames.add(bname(b.name));
    }
    for (const f of pool.haproxy.frontends) {
      const http = f.protocol === "HTTP" || f.protocol === "HTTPS";
      const fname = `pool_${sanitize(pool.name)}_${sanitize(f.name ?? `frontend_${f.bindAddress ?? "0.0.0.0"}_${f.bindPort}`)}`;
      claimedPorts.set(f.bindPort, `pool ${pool.name}`);
      frontends.push({
        name: fname,
        bindAddr: f.bindAddress ?? opts.bindAddr,
        port: f.bindPort,
        mode: http ? "http" : "tcp",
        certs: f.certificates ?? [],
        routes: http
          ? (f.linkBackend?.map ?? []).map((r) => ({
              hosts: r.hostEq ? [r.hostEq] : [],
              ...(r.hostReg ? { hostReg: r.hostReg } : {}),
              pathBeg: r.pathBeg ? [r.pathBeg] : [],
              ...(r.pathEnd ? { pathEnd: r.pathEnd } : {}),
              ...(r.pathReg ? { pathReg: r.pathReg } : {}),
              backend: bname(r.backend),
              weight: 0,
              redirectToHttps: false,
            }))
          : [],
        ...(f.linkBackend?.defaultBackend ? { defaultBackend: bname(f.linkBackend.defaultBackend) } : {}),
        ...(f.redirectToHttps && f.protocol === "HTTP" ? { redirectAll: { except: f.redirectToHttps.except ?? [] } } : {}),
        owner: `pool:${pool.name}`,
      });
    }
  }

  // Labels: every app's ports, in app order; the later claimant of a port or vhost+path loses.
  const httpRoutes: Route[] = [];
  const httpsCerts = new Set<string>();
  const vhostClaims = new Map<string, string>();
  const specs: { spec: PortSpec; app: App }[] = [];
  for (const app of appsOf(tasks)) {
    for (const r of parseAppLabels(app.id, app.labels, app.portCount, opts, app.servicePorts)) {
      if (r.ok) specs.push({ spec: r.spec, app });
      else rejected.push({ source: "labels", name: `${r.service}:${r.index}`, reason: r.reason });
    }
  }
  const sharedPorts = () => {
    const anyVhost = specs.some((s) => s.spec.vhosts.length > 0);
    return anyVhost ? [opts.httpPort, opts.httpsPort] : [];
  };
  const sharedTaken = [opts.httpPort, opts.httpsPort].map((p) => claimedPorts.get(p)).find((o) => o !== undefined);
  for (const p of sharedPorts()) if (!claimedPorts.has(p)) claimedPorts.set(p, "the shared vhost frontends");
  for (const { spec, app } of specs) {
    const name = `${spec.service}:${spec.index}`;
    const reject = (reason: string) => rejected.push({ source: "labels", name, reason });
    if (spec.port !== undefined && claimedPorts.has(spec.port)) {
      reject(`${spec.portFrom === "service" ? `service port ${spec.port} (Marathon)` : `HAPROXY_${spec.index}_PORT=${spec.port}`}: port already used by ${claimedPorts.get(spec.port) ?? "?"}`);
      continue;
    }
    if (spec.sslCert !== undefined && !opts.certExists(spec.sslCert)) {
      reject(`HAPROXY_${spec.index}_SSL_CERT=${spec.sslCert}: no such file on this node`);
      continue;
    }
    if (spec.vhosts.length > 0 && sharedTaken !== undefined) {
      reject(`HAPROXY_${spec.index}_VHOST: the shared vhost ports ${opts.httpPort}/${opts.httpsPort} are used by ${sharedTaken}`);
      continue;
    }
    const routeKeys = spec.vhosts.map((h) => `${h} ${spec.paths.join(" ")}`);
    const taken = routeKeys.find((k) => vhostClaims.has(k));
    if (taken) {
      reject(`HAPROXY_${spec.index}_VHOST: ${taken.trim()} already routed to ${vhostClaims.get(taken) ?? "?"}`);
      continue;
    }
    const bname = `${sanitize(spec.service)}_${spec.index}`;
    if (backendNames.has(bname)) {
      reject(`backend name ${bname} already used`);
      continue;
    }
    backendNames.add(bname);
    for (const k of routeKeys) vhostClaims.set(k, spec.service);
    const endpoints = app.tasks.map((t) => endpointOf(t, spec.index, "AUTO_IP")).filter((e): e is Endpoint => e !== undefined);
    backends.push({
      name: bname,
      mode: spec.mode,
      balance: spec.balance,
      sticky: spec.sticky,
      ...(spec.healthPath ? { check: { ...opts.check, path: spec.healthPath } } : {}),
      allow: spec.allow,
      hsts: spec.hsts,
      endpoints: endpoints.sort((x, y) => (x.id < y.id ? -1 : 1)),
      owner: `labels:${spec.service}`,
    });
    if (spec.vhosts.length > 0) {
      httpRoutes.push({ hosts: spec.vhosts, pathBeg: spec.paths, backend: bname, weight: spec.weight, redirectToHttps: spec.redirectToHttps });
      if (spec.sslCert) httpsCerts.add(spec.sslCert);
    }
    if (spec.port !== undefined) {
      claimedPorts.set(spec.port, spec.service);
      frontends.push({
        name: `${bname}_${spec.port}`,
        bindAddr: spec.bindAddr === "*" ? opts.bindAddr : spec.bindAddr,
        port: spec.port,
        mode: spec.mode,
        certs: spec.sslCert ? [spec.sslCert] : [],
        routes: [],
        defaultBackend: bname,
        owner: `labels:${spec.service}`,
      });
    }
  }
  if (httpRoutes.length > 0) {
    // Larger weight first, then routes with paths before bare hosts, then by backend: stable.
    const ordered = httpRoutes.sort((a, b) => b.weight - a.weight || (b.pathBeg.length > 0 ? 1 : 0) - (a.pathBeg.length > 0 ? 1 : 0) || (a.backend < b.backend ? -1 : 1));
    frontends.push({ name: "labels_http_in", bindAddr: opts.bindAddr, port: opts.httpPort, mode: "http", certs: [], routes: ordered, owner: "labels" });
    if (httpsCerts.size > 0)
      frontends.push({ name: "labels_https_in", bindAddr: opts.bindAddr, port: opts.httpsPort, mode: "http", certs: [...httpsCerts].sort(), routes: ordered.map((r) => ({ ...r, redirectToHttps: false })), owner: "labels" });
  }
  frontends.sort((a, b) => (a.name < b.name ? -1 : 1));
  backends.sort((a, b) => (a.name < b.name ? -1 : 1));
  rejected.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { frontends, backends, rejected };
}

function poolProblem(pool: Pool, claimed: ReadonlyMap<number, string>, opts: DesiredOptions): string | undefined {
  const own = new Set<number>();
  for (const f of pool.haproxy.frontends) {
    if (claimed.has(f.bindPort)) return `frontend port ${f.bindPort} already used by ${claimed.get(f.bindPort) ?? "?"}`;
    if (own.has(f.bindPort)) return `frontend port ${f.bindPort} used twice in the pool`;
    own.add(f.bindPort);
    for (const c of f.certificates ?? []) if (!opts.certExists(c)) return `certificate ${c}: no such file on this node`;
  }
  return undefined;
}
