// Edge model + slot tables → HAProxy 2.6 config text. Every backend is a fixed pool of server slots
// (`s1`..`sK`): membership changes move a slot with the Runtime API (`set server addr/state`) and
// never reload. The file always carries the current slot contents, so a reload or a restart starts
// from the truth. The structure hash covers everything except the slots' contents: it changes only
// when a reload is needed.
import { createHash } from "node:crypto";
import type { Backend, EdgeModel, Endpoint, Frontend, Route } from "./types.js";
import { sanitize } from "./types.js";

/** Per backend, its slots in order (index 0 = server s1); undefined = free. */
export type Slots = ReadonlyMap<string, readonly (Endpoint | undefined)[]>;

export interface RenderOptions {
  /** The worker's stats socket (admin level), for runtime changes and stats. */
  readonly adminSocket: string;
  readonly hardStopAfterMs: number;
  readonly maxReloads: number;
  /** Listener of the health URI, the stats page and HAProxy's Prometheus exporter. */
  readonly health: { readonly addr: string; readonly port: number };
  readonly healthUri: string;
  readonly timeouts: { readonly connectMs: number; readonly clientMs: number; readonly serverMs: number; readonly tunnelMs: number };
  /** Seeds dynamic sticky cookies (the same on every edge node, so any node honours a cookie). */
  readonly cookieKey: string;
}

export interface Rendered {
  readonly text: string;
  /** Hash of the text without slot contents: equal = no reload needed. */
  readonly structureHash: string;
  /** Per section (`frontend x`, `backend y`): its structure hash, to say why a reload happens. */
  readonly sections: ReadonlyMap<string, string>;
}

const FREE = "127.0.0.1:1";

function bind(addr: string, port: number): string {
  return addr.includes(":") ? `[${addr}]:${port}` : `${addr === "*" ? "" : addr}:${port}`;
}

function hostAcl(r: Route, i: number): string[] {
  const lines: string[] = [];
  const conds: string[] = [];
  if (r.hosts.length > 0) {
    lines.push(`  acl r${i}_host hdr(host),lower,field(1,:) -m str ${r.hosts.join(" ")}`);
    conds.push(`r${i}_host`);
  }
  if (r.hostReg) {
    lines.push(`  acl r${i}_hostreg hdr(host),lower,field(1,:) -m reg ${r.hostReg}`);
    conds.push(`r${i}_hostreg`);
  }
  if (r.pathBeg.length > 0) {
    lines.push(`  acl r${i}_path path_beg ${r.pathBeg.join(" ")}`);
    conds.push(`r${i}_path`);
  }
  if (r.pathEnd) {
    lines.push(`  acl r${i}_pathend path_end ${r.pathEnd}`);
    conds.push(`r${i}_pathend`);
  }
  if (r.pathReg) {
    lines.push(`  acl r${i}_pathreg path_reg ${r.pathReg}`);
    conds.push(`r${i}_pathreg`);
  }
  return [...lines, conds.join(" ")];
}

function frontendText(f: Frontend): string {
  const ssl = f.certs.length > 0 ? ` ssl ${f.certs.map((c) => `crt ${c}`).join(" ")}${f.mode === "http" ? " alpn h2,http/1.1" : ""}` : "";
  const out = [`frontend ${f.name}`, `  bind ${bind(f.bindAddr, f.port)}${ssl}`, `  mode ${f.mode}`];
  if (f.mode === "http") out.push("  option forwardfor");
  if (f.redirectAll) {
    // unless TLS already, or (host and path) of any exception: AND binds tighter than ||.
    const alts = ["{ ssl_fc }"];
    f.redirectAll.except.forEach((e, i) => {
      const conds: string[] = [];
      if (e.host) {
        out.push(`  acl ex${i}_host hdr(host),lower,field(1,:) -m str ${e.host}`);
        conds.push(`ex${i}_host`);
      }
      if (e.pathBeg) {
        out.push(`  acl ex${i}_path path_beg ${e.pathBeg}`);
        conds.push(`ex${i}_path`);
      }
      if (conds.length > 0) alts.push(conds.join(" "));
    });
    out.push(`  http-request redirect scheme https code 301 unless ${alts.join(" || ")}`);
  }
  f.routes.forEach((r, i) => {
    const lines = hostAcl(r, i);
    const cond = lines.pop() as string;
    out.push(...lines);
    if (r.redirectToHttps) out.push(`  http-request redirect scheme https code 301 if !{ ssl_fc } ${cond}`.trimEnd());
    out.push(cond ? `  use_backend ${r.backend} if ${cond}` : `  use_backend ${r.backend}`);
  });
  if (f.defaultBackend) out.push(`  default_backend ${f.defaultBackend}`);
  return out.join("\n");
}

function backendHead(b: Backend, opts: RenderOptions): string[] {
  const out = [`backend ${b.name}`, `  mode ${b.mode}`, `  balance ${b.balance}`];
  if (b.allow.length > 0) out.push(b.mode === "http" ? `  http-request deny deny_status 403 unless { src ${b.allow.join(" ")} }` : `  tcp-request content reject unless { src ${b.allow.join(" ")} }`);
  if (b.sticky) out.push("  cookie DCNETSRV insert indirect nocache dynamic", `  dynamic-cookie-key ${sanitize(opts.cookieKey)}_${b.name}`);
  if (b.check?.path) out.push(`  option httpchk GET ${b.check.path}`);
  if (b.rewritePath) out.push(`  http-request replace-path ^${escapeRe(b.rewritePath.from)}/?(.*) ${b.rewritePath.to.replace(/\/$/, "")}/\\1`);
  if (b.hsts) out.push('  http-response set-header Strict-Transport-Security "max-age=15768000"');
  // HAProxy's default (http-reuse safe) hands an idle server connection to the next client: behind
  // a per-connection balancer (an L4LB VIP) every client would then reach the backend the first
  // connection did, and a backend added to the VIP would never be reached (seen in
  // integration/edge-l4lb.test.ts). A client connection keeps its own server connection instead.
  if (b.perConnection && b.mode === "http") out.push("  http-reuse never");
  return out;
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

function serverLine(b: Backend, i: number, e: Endpoint | undefined): string {
  const check = b.check ? ` check inter ${b.check.interMs} fall ${b.check.fall} rise ${b.check.rise}` : "";
  // A drained endpoint starts in maintenance after a reload: a new worker has no connections to it.
  const addr = e ? bind(e.addr, e.port) : FREE;
  return `  server s${i + 1} ${addr}${check}${e && e.state === "ready" ? "" : " disabled"}`;
}

function head(opts: RenderOptions): string {
  const t = opts.timeouts;
  return [
    "global",
    `  stats socket ${opts.adminSocket} level admin mode 600`,
    `  hard-stop-after ${opts.hardStopAfterMs}ms`,
    `  mworker-max-reloads ${opts.maxReloads}`,
    "  log stderr format raw local0 warning",
    "",
    "defaults",
    "  mode http",
    "  log global",
    `  timeout connect ${t.connectMs}ms`,
    `  timeout client ${t.clientMs}ms`,
    `  timeout server ${t.serverMs}ms`,
    `  timeout tunnel ${t.tunnelMs}ms`,
    "  timeout http-request 10s",
    // At a reload the old worker keeps idle keep-alive client connections until their next request,
    // answers it with "Connection: close", then closes: a client that sends on an idle connection at
    // that moment gets an answer, not a reset (without it, 2.6 closes them at once and wrk saw read
    // errors in about one reload in four). hard-stop-after still bounds how long the old worker lives.
    "  option idle-close-on-response",
    // A connection to a task killed a moment ago is retried on another server (l7.md §6).
    "  retries 3",
    "  option redispatch",
    "  retry-on conn-failure empty-response response-timeout",
    "",
    "frontend dcnet_edge_health",
    `  bind ${bind(opts.health.addr, opts.health.port)}`,
    "  mode http",
    `  monitor-uri ${opts.healthUri}`,
    "  http-request use-service prometheus-exporter if { path /metrics }",
    "  stats enable",
    "  stats uri /haproxy?stats",
  ].join("\n");
}

export function render(model: EdgeModel, slots: Slots, opts: RenderOptions): Rendered {
  const sections = new Map<string, string>();
  const full: string[] = [head(opts)];
  const bare: string[] = [full[0] as string];
  sections.set("global", hash(full[0] as string));
  for (const f of model.frontends) {
    const t = frontendText(f);
    full.push(t);
    bare.push(t);
    sections.set(`frontend ${f.name}`, hash(t));
  }
  for (const b of model.backends) {
    const h = backendHead(b, opts);
    const table = slots.get(b.name) ?? [];
    const servers = table.map((e, i) => serverLine(b, i, e));
    const t = [...h, ...servers].join("\n");
    // Without contents: only how many slots there are and how they are checked.
    const shape = [...h, `  slots ${table.length}${b.check ? ` check ${b.check.interMs}/${b.check.fall}/${b.check.rise}` : ""}`].join("\n");
    full.push(t);
    bare.push(shape);
    sections.set(`backend ${b.name}`, hash(shape));
  }
  const text = full.join("\n\n") + "\n";
  return { text, structureHash: hash(bare.join("\n\n")), sections };
}

function hash(s: string): string {
  return createHash("sha256").update(s).digest("hex").slice(0, 16);
}

/** Why a reload: the sections added, removed or changed between two renders. */
export function reloadReason(prev: ReadonlyMap<string, string> | undefined, next: ReadonlyMap<string, string>): string {
  if (!prev) return "start";
  const parts: string[] = [];
  for (const [k, h] of next) {
    const p = prev.get(k);
    if (p === undefined) parts.push(`+${k}`);
    else if (p !== h) parts.push(`~${k}`);
  }
  for (const k of prev.keys()) if (!next.has(k)) parts.push(`-${k}`);
  return parts.length > 0 ? parts.slice(0, 8).join(", ") + (parts.length > 8 ? ` (+${parts.length - 8} more)` : "") : "unchanged";
}
