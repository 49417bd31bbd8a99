// Marathon-LB's `HAPROXY_*` labels → one spec per exposed service port (ref l7.md §1). Strict: a bad
// value rejects that app's port with a reason naming the label; every other app and port is unaffected
// (Marathon-LB issues #482/#234: one bad label froze every LB).
//
// MODE has one rule: an explicit HAPROXY_{n}_MODE wins; else a VHOST means http; else a
// HAPROXY_{n}_HEALTHCHECK_PATH means http; else tcp. MODE=tcp together with a VHOST is refused (the
// vhost could never be routed; Marathon-LB silently ignored one or the other, #125/#451).
//
// Service ports come from HAPROXY_{n}_PORT, else from Marathon's service port of that port (the
// catalogue's Marathon source writes it), as Marathon-LB: each such port gets its own frontend, and
// an app in the LB's group exposes every port that has a service port, labelled or not. Without
// either, an http port with a VHOST is served only by the shared :80/:443 frontends and a tcp port
// is rejected.
import { z } from "zod";
import { BALANCES, type Balance, type Mode } from "./types.js";

export interface PortSpec {
  /** `<framework>/<task name>` — the app. */
  readonly service: string;
  readonly index: number;
  readonly mode: Mode;
  readonly bindAddr: string;
  readonly port?: number;
  /** Where `port` came from: HAPROXY_{n}_PORT, or Marathon's service port. */
  readonly portFrom?: "label" | "service";
  readonly vhosts: readonly string[];
  readonly paths: readonly string[];
  readonly balance: Balance;
  readonly sticky: boolean;
  readonly redirectToHttps: boolean;
  readonly sslCert?: string;
  readonly hsts: boolean;
  readonly weight: number;
  readonly allow: readonly string[];
  readonly healthPath?: string;
}

export interface LabelOptions {
  /** LB groups this edge serves; "*" = every app with HAPROXY_* port labels. */
  readonly groups: readonly string[];
  /** Marathon-LB --strict-mode: only ports with HAPROXY_{n}_ENABLED=true. */
  readonly strict: boolean;
}

export type LabelResult = { readonly ok: true; readonly spec: PortSpec } | { readonly ok: false; readonly service: string; readonly index: number; readonly reason: string };

const PER_PORT = /^HAPROXY_(\d{1,3})_([A-Z_]+)$/;
const KNOWN = new Set([
  "GROUP",
  "ENABLED",
  "VHOST",
  "PATH",
  "PORT",
  "MODE",
  "BIND_ADDR",
  "BALANCE",
  "STICKY",
  "REDIRECT_TO_HTTPS",
  "SSL_CERT",
  "USE_HSTS",
  "BACKEND_WEIGHT",
  "BACKEND_NETWORK_ALLOWED_ACL",
  "HEALTHCHECK_PATH",
]);
const HOST = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;
const PATH_WORD = /^\/[A-Za-z0-9._~!$&'()*+,;=:@%/-]*$/;
const FLAG = /^-(i|m (beg|str))$/;

class Bad extends Error {}

const V4 = z.ipv4();
const V6 = z.ipv6();
/** 4, 6 or 0 like node:net's isIP (a pure folder does no socket imports). */
export function ipFamily(s: string): 0 | 4 | 6 {
  return V4.safeParse(s).success ? 4 : V6.safeParse(s).success ? 6 : 0;
}

function bool(v: string, label: string): boolean {
  const l = v.trim().toLowerCase();
  if (l === "true" || l === "1" || l === "yes") return true;
  if (l === "false" || l === "0" || l === "no" || l === "") return false;
  throw new Bad(`${label}=${JSON.stringify(v)}: expected true or false`);
}

function int(v: string, label: string, min: number, max: number): number {
  if (!/^-?\d+$/.test(v.trim())) throw new Bad(`${label}=${JSON.stringify(v)}: expected an integer`);
  const n = Number(v.trim());
  if (n < min || n > max) throw new Bad(`${label}=${v}: out of range ${min}–${max}`);
  return n;
}

export function cidrOk(c: string): boolean {
  const [addr, len, ...rest] = c.split("/");
  if (rest.length > 0 || addr === undefined) return false;
  const fam = ipFamily(addr);
  if (fam === 0) return false;
  if (len === undefined) return true;
  if (!/^\d{1,3}$/.test(len)) return false;
  return Number(len) <= (fam === 4 ? 32 : 128);
}

function groupsOf(v: string | undefined): string[] {
  return (v ?? "").split(",").map((g) => g.trim()).filter((g) => g.length > 0);
}

/** Every port index an app's labels expose, each parsed or rejected. Ports outside the LB's groups are left out silently. */
export function parseAppLabels(service: string, labels: Readonly<Record<string, string>>, portCount: number, opts: LabelOptions, servicePorts: readonly (number | undefined)[] = []): LabelResult[] {
  const perPort = new Map<number, Map<string, string>>();
  // A port with a service port is exposed without labels of its own (Marathon-LB).
  servicePorts.forEach((p, i) => {
    if (p !== undefined && i < portCount) perPort.set(i, new Map());
  });
  for (const [k, v] of Object.entries(labels)) {
    const m = PER_PORT.exec(k);
    if (!m) continue;
    const index = Number(m[1]);
    let entry = perPort.get(index);
    if (!entry) perPort.set(index, (entry = new Map()));
    entry.set(m[2] as string, v);
  }
  const out: LabelResult[] = [];
  for (const index of [...perPort.keys()].sort((a, b) => a - b)) {
    const l = perPort.get(index) as Map<string, string>;
    const groups = groupsOf(l.get("GROUP") ?? labels["HAPROXY_GROUP"]);
    if (!opts.groups.includes("*") && !groups.some((g) => opts.groups.includes(g))) continue;
    try {
      if (opts.strict && !(l.has("ENABLED") && bool(l.get("ENABLED") as string, `HAPROXY_${index}_ENABLED`))) continue;
      if (!opts.strict && l.has("ENABLED") && !bool(l.get("ENABLED") as string, `HAPROXY_${index}_ENABLED`)) continue;
      out.push({ ok: true, spec: parsePort(service, index, l, portCount, servicePorts[index]) });
    } catch (err) {
      if (!(err instanceof Bad)) throw err;
      out.push({ ok: false, service, index, reason: err.message });
    }
  }
  return out;
}

function parsePort(service: string, index: number, l: Map<string, string>, portCount: number, servicePort: number | undefined): PortSpec {
  const name = (s: string) => `HAPROXY_${index}_${s}`;
  for (const k of l.keys()) if (!KNOWN.has(k)) throw new Bad(`${name(k)}: not supported by dcnet's edge (raw HAProxy template overrides are off)`);
  if (index >= portCount) throw new Bad(`${name([...l.keys()][0] ?? "")}: port index ${index} but the task has ${portCount} port${portCount === 1 ? "" : "s"}`);
  const get = (k: string): string | undefined => l.get(k);

  const vhosts = (get("VHOST") ?? "").split(",").map((h) => h.trim().toLowerCase()).filter((h) => h.length > 0);
  for (const h of vhosts) if (!HOST.test(h)) throw new Bad(`${name("VHOST")}: ${JSON.stringify(h)} is not a host name`);

  const paths: string[] = [];
  const words = (get("PATH") ?? "").trim().split(/\s+/).filter((w) => w.length > 0);
  for (let i = 0; i < words.length; i++) {
    const w = words[i] as string;
    if (w === "-m" && (words[i + 1] === "beg" || words[i + 1] === "str")) {
      paths.push(`-m ${words[++i]}`);
      continue;
    }
    if (FLAG.test(w)) paths.push(w);
    else if (PATH_WORD.test(w)) paths.push(w);
    else throw new Bad(`${name("PATH")}: ${JSON.stringify(w)} is not a path prefix (start with /, no quotes or spaces)`);
  }
  if (paths.length > 0 && !paths.some((p) => p.startsWith("/"))) throw new Bad(`${name("PATH")}: flags without a path`);
  if (paths.length > 0 && vhosts.length === 0) throw new Bad(`${name("PATH")}: needs ${name("VHOST")}`);

  const labelPort = l.has("PORT") ? int(get("PORT") as string, name("PORT"), 1, 65535) : undefined;
  const port = labelPort ?? servicePort;
  const healthPath = get("HEALTHCHECK_PATH")?.trim();
  if (healthPath !== undefined && !PATH_WORD.test(healthPath)) throw new Bad(`${name("HEALTHCHECK_PATH")}: ${JSON.stringify(healthPath)} is not a path`);

  let mode: Mode;
  const rawMode = get("MODE")?.trim().toLowerCase();
  if (rawMode !== undefined && rawMode !== "") {
    if (rawMode !== "http" && rawMode !== "tcp") throw new Bad(`${name("MODE")}=${JSON.stringify(get("MODE"))}: expected http or tcp`);
    mode = rawMode;
    if (mode === "tcp" && vhosts.length > 0) throw new Bad(`${name("MODE")}=tcp with ${name("VHOST")}: a vhost is routed by HTTP Host, so it needs http mode`);
  } else mode = vhosts.length > 0 || healthPath ? "http" : "tcp";
  if (mode === "tcp" && port === undefined) throw new Bad(`${name("PORT")}: a tcp service needs a service port (this label, or Marathon's service port through the catalogue's Marathon source)`);
  if (mode === "http" && port === undefined && vhosts.length === 0) throw new Bad(`${name("VHOST")} or ${name("PORT")}: an http service needs one`);

  const bindAddr = get("BIND_ADDR")?.trim() || "*";
  if (bindAddr !== "*" && ipFamily(bindAddr) === 0) throw new Bad(`${name("BIND_ADDR")}=${JSON.stringify(bindAddr)}: expected an IP address or *`);

  const balanceRaw = (get("BALANCE") ?? "roundrobin").trim().toLowerCase();
  if (!(BALANCES as readonly string[]).includes(balanceRaw)) throw new Bad(`${name("BALANCE")}=${JSON.stringify(balanceRaw)}: expected one of ${BALANCES.join(", ")}`);

  const sticky = l.has("STICKY") ? bool(get("STICKY") as string, name("STICKY")) : false;
  const redirectToHttps = l.has("REDIRECT_TO_HTTPS") ? bool(get("REDIRECT_TO_HTTPS") as string, name("REDIRECT_TO_HTTPS")) : false;
  if (redirectToHttps && vhosts.length === 0) throw new Bad(`${name("REDIRECT_TO_HTTPS")}: needs ${name("VHOST")}`);
  const hsts = l.has("USE_HSTS") ? bool(get("USE_HSTS") as string, name("USE_HSTS")) : false;
  if ((sticky || hsts) && mode === "tcp") throw new Bad(`${sticky ? name("STICKY") : name("USE_HSTS")}: needs http mode`);

  const sslCert = get("SSL_CERT")?.trim() || undefined;
  if (sslCert !== undefined && !/^\/[^\s"'\\]+$/.test(sslCert)) throw new Bad(`${name("SSL_CERT")}=${JSON.stringify(sslCert)}: expected an absolute path to a PEM file`);

  const weight = l.has("BACKEND_WEIGHT") ? int(get("BACKEND_WEIGHT") as string, name("BACKEND_WEIGHT"), -1000, 1000) : paths.length > 0 ? 1 : 0;
  const allow = (get("BACKEND_NETWORK_ALLOWED_ACL") ?? "").trim().split(/\s+/).filter((c) => c.length > 0);
  for (const c of allow) if (!cidrOk(c)) throw new Bad(`${name("BACKEND_NETWORK_ALLOWED_ACL")}: ${JSON.stringify(c)} is not an address or CIDR`);

  return {
    service,
    index,
    mode,
    bindAddr,
    ...(port !== undefined ? { port, portFrom: labelPort !== undefined ? ("label" as const) : ("service" as const) } : {}),
    vhosts,
    paths,
    balance: balanceRaw as Balance,
    sticky,
    redirectToHttps,
    ...(sslCert ? { sslCert } : {}),
    hsts,
    weight,
    allow,
    ...(healthPath ? { healthPath } : {}),
  };
}
