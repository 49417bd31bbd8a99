// The response documents of dcos-net's REST API (dcos_rest_*_handler.erl) and Mesos-DNS's HTTP API
// (resolver.go), built from dcnet's own views: the VIP table, the nodes' facts, DNS answers and zone
// rows. Plain functions, no I/O, so every shape is checked field by field without a node.
import { vipDnsName, vipKeyFromString, type Backend } from "../catalogue/model.js";

export type Json = null | boolean | number | string | Json[] | { readonly [k: string]: Json };

/** dcos-net `GET /v1/vips` (dcos_rest_vips_handler.erl). */
export interface DcosVip {
  readonly vip: string;
  readonly protocol: "tcp" | "udp";
  readonly backend: ReadonlyArray<{ readonly ip: string; readonly port: number }>;
}

const L4LB_ZONE = "l4lb.thisdcos.directory";
const hostPort = (host: string, port: number): string => (host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`);

/** One entry per VIP key of the catalogue's table: named VIPs by their DNS name, IP VIPs by address. */
export function dcosVips(table: ReadonlyMap<string, readonly Backend[]>): DcosVip[] {
  const out: DcosVip[] = [];
  for (const [key, backends] of table) {
    const vip = vipKeyFromString(key);
    if (!vip) continue;
    const host = vip.kind === "named" ? `${vipDnsName(vip.name, vip.framework)}.${L4LB_ZONE}` : vip.name;
    out.push({ vip: hostPort(host, vip.port), protocol: vip.protocol, backend: backends.map((b) => ({ ip: b.ip, port: b.port })) });
  }
  return out.sort((a, b) => (a.vip < b.vip ? -1 : a.vip > b.vip ? 1 : a.protocol < b.protocol ? -1 : 1));
}

/** One field of a replicated key as the store's watch hands it over. */
export type FieldView = { readonly type: "lww"; readonly value: unknown; readonly ts: { readonly t: number } } | { readonly type: "set"; readonly values: readonly unknown[] };

/** dcos-net `GET /v1/nodes` (dcos_rest_nodes_handler.erl): one entry per node fact `nodes/<id>`. */
export interface DcosNode {
  readonly private_ip: string;
  readonly public_ips: readonly string[];
  readonly hostname: string;
  readonly updated: string;
}

export function dcosNodes(facts: ReadonlyMap<string, Readonly<Record<string, FieldView>>>): DcosNode[] {
  const out: DcosNode[] = [];
  for (const fields of facts.values()) {
    const lww = (f: string): unknown => (fields[f]?.type === "lww" ? (fields[f] as { value: unknown }).value : undefined);
    const ip = lww("ip");
    if (typeof ip !== "string") continue;
    const publicIps = fields["publicIps"];
    let newest = 0;
    for (const f of Object.values(fields)) if (f.type === "lww" && f.ts.t > newest) newest = f.ts.t;
    const hostname = lww("hostname");
    out.push({
      private_ip: ip,
      public_ips: publicIps?.type === "set" ? publicIps.values.filter((v): v is string => typeof v === "string").sort() : [],
      hostname: typeof hostname === "string" ? hostname : "",
      updated: new Date(newest).toISOString(),
    });
  }
  return out.sort((a, b) => (a.private_ip < b.private_ip ? -1 : 1));
}

/** A resource record as the API's resolver decoded it (names without the trailing dot, as dns-packet gives them). */
export type Answer =
  | { readonly type: "A" | "AAAA"; readonly name: string; readonly data: string }
  | { readonly type: "SRV"; readonly name: string; readonly data: { readonly target: string; readonly port: number } }
  | { readonly type: "other"; readonly name: string };

/** Names Mesos-DNS owns: its clients ask `.mesos` names and expect its shapes, dcos-net's clients the rest. */
export function isMesosName(name: string, domain = "mesos"): boolean {
  const n = name.toLowerCase().replace(/\.$/, "");
  return n === domain || n.endsWith(`.${domain}`);
}

/** Mesos-DNS cleans `.*` out of a name before the lookup (resolver.go cleanWild) and lower-cases it. */
export function cleanName(name: string): string {
  return name.replace(/\.\*/g, "").toLowerCase();
}

const dotted = (n: string): string => (n.endsWith(".") ? n : `${n}.`);

/** dcos-net `GET /v1/hosts/{host}`: the A answers as `{host, ip}` (erldns names, no trailing dot); none → `[]`. */
export function dcosHosts(answers: readonly Answer[]): Array<{ host: string; ip: string }> {
  return answers.flatMap((a) => (a.type === "A" ? [{ host: a.name, ip: a.data }] : []));
}

/** Mesos-DNS `GET /v1/hosts/{host}`: A then AAAA answers, names with a trailing dot; none → one empty record, still 200. */
export function mesosDnsHosts(a: readonly Answer[], aaaa: readonly Answer[]): Array<{ host: string; ip: string }> {
  const rows = [...a, ...aaaa].flatMap((x) => (x.type === "A" || x.type === "AAAA" ? [{ host: dotted(x.name), ip: x.data }] : []));
  return rows.length > 0 ? rows : [{ host: "", ip: "" }];
}

/** dcos-net `GET /v1/services/{service}`: `{host: target, port, service: name, ip?}` per SRV answer, ip = first A of the target. */
export function dcosServices(srv: readonly Answer[], firstA: ReadonlyMap<string, string>): Array<{ host: string; port: number; service: string; ip?: string }> {
  return srv.flatMap((s) => {
    if (s.type !== "SRV") return [];
    const ip = firstA.get(s.data.target.toLowerCase());
    return [{ host: s.data.target, port: s.data.port, service: s.name, ...(ip !== undefined ? { ip } : {}) }];
  });
}

/**
 * Mesos-DNS `GET /v1/services/{service}`: per SRV answer `{service: as requested, host: target., ip, port: "<p>"}`
 * with the target's first A, plus a second entry with its first AAAA if any; none → one empty record.
 */
export function mesosDnsServices(
  requested: string,
  srv: readonly Answer[],
  firstA: ReadonlyMap<string, string>,
  firstAaaa: ReadonlyMap<string, string>,
): Array<{ service: string; host: string; ip: string; port: string }> {
  const rows = srv.flatMap((s) => {
    if (s.type !== "SRV") return [];
    const t = s.data.target.toLowerCase();
    const base = { service: requested, host: dotted(s.data.target), port: String(s.data.port) };
    const v6 = firstAaaa.get(t);
    return [{ ...base, ip: firstA.get(t) ?? "" }, ...(v6 !== undefined ? [{ ...base, ip: v6 }] : [])];
  });
  return rows.length > 0 ? rows : [{ service: "", host: "", ip: "", port: "" }];
}

/** One record of a zone in presentation form (dns/ ZoneRow: absolute names, SRV data `prio weight port target.`). */
export interface ZoneRowLike {
  readonly name: string;
  readonly type: string;
  readonly ttl: number;
  readonly data: string;
}

const bare = (n: string): string => n.replace(/\.$/, "");

/** dcos-net `/v1/records` entry: A, AAAA and SRV only (SRV host = `target:port`); undefined for other types. */
export function dcosRecord(row: ZoneRowLike): { name: string; host: string; rtype: "A" | "AAAA" | "SRV" } | undefined {
  if (row.type === "A" || row.type === "AAAA") return { name: bare(row.name), host: row.data, rtype: row.type };
  if (row.type === "SRV") {
    const [, , port, target] = row.data.split(" ");
    if (port === undefined || target === undefined) return undefined;
    return { name: bare(row.name), host: `${bare(target)}:${port}`, rtype: "SRV" };
  }
  return undefined;
}

/** Mesos-DNS `/v1/axfr` (models.AXFR) from the rows of its zone: names and SRV targets absolute. */
export interface Axfr {
  readonly Records: { readonly As: Record<string, string[]>; readonly AAAAs: Record<string, string[]>; readonly SRVs: Record<string, string[]> };
  readonly Serial: number;
  readonly Mname: string;
  readonly Rname: string;
  readonly TTL: number;
  readonly RefreshSeconds: number;
  readonly Domain: string;
}

export function mesosDnsAxfr(rows: readonly ZoneRowLike[], domain: string, refreshSeconds: number, ttl: number): Axfr {
  const As: Record<string, string[]> = {};
  const AAAAs: Record<string, string[]> = {};
  const SRVs: Record<string, string[]> = {};
  const add = (m: Record<string, string[]>, k: string, v: string) => (m[k] ??= []).push(v);
  let soa: string[] = [];
  for (const r of rows) {
    if (r.type === "A") add(As, dotted(r.name), r.data);
    else if (r.type === "AAAA") add(AAAAs, dotted(r.name), r.data);
    else if (r.type === "SRV") {
      const [, , port, target] = r.data.split(" ");
      if (port !== undefined && target !== undefined) add(SRVs, dotted(r.name), `${dotted(target)}:${port}`);
    } else if (r.type === "SOA" && bare(r.name) === domain) soa = r.data.split(" ");
  }
  return {
    Records: { As, AAAAs, SRVs },
    Serial: Number(soa[2] ?? 0),
    Mname: soa[0] ?? `ns1.${domain}.`,
    Rname: soa[1] ?? `root.ns1.${domain}.`,
    TTL: ttl,
    RefreshSeconds: refreshSeconds,
    Domain: domain,
  };
}

export interface EnumRecord {
  readonly name: string;
  readonly host: string;
  readonly rtype: string;
}

/**
 * Mesos-DNS `/v1/enumerate` ({frameworks: [{name, tasks: [{name, id, records}]}]}) from its zone's rows.
 * Mesos-DNS groups by the task it generated each record from; dcnet has only the records, so a task
 * here is the records under `<task>.<framework>.<domain>` (and `.slave.`), its SRVs `_<task>._<proto>.<framework>...`
 * and `_<port>._<task>._<proto>...`, and its canonical `<task>-<hash>-<slave>` names; `id` is that canonical name.
 */
export function mesosDnsEnumerate(rows: readonly ZoneRowLike[], domain: string): { frameworks: Array<{ name: string; tasks: Array<{ name: string; id: string; records: EnumRecord[] }> }> } {
  const frameworks = new Map<string, Map<string, { id: string; records: EnumRecord[] }>>();
  for (const r of rows) {
    if (r.type !== "A" && r.type !== "AAAA" && r.type !== "SRV") continue;
    const labels = bare(r.name).slice(0, -(domain.length + 1)).split(".");
    if (labels.length === 0 || bare(r.name) === domain) continue;
    let task: string | undefined;
    let framework: string | undefined;
    if (r.type === "SRV") {
      // _task._tcp.framework[.slave] or _port._task._tcp.framework
      const proto = labels.findIndex((l) => l === "_tcp" || l === "_udp");
      if (proto >= 1) {
        task = (labels[proto - 1] ?? "").replace(/^_/, "");
        framework = labels[proto + 1];
      }
    } else if (labels.length >= 2) {
      task = labels[0];
      framework = labels[1];
    }
    if (task === undefined || framework === undefined || framework === "slave" || task === "") continue;
    const canonical = /^(.*)-[a-z0-9]{5}-s\d+$/.exec(task);
    const name = canonical?.[1] ?? task;
    const tasks = frameworks.get(framework) ?? new Map<string, { id: string; records: EnumRecord[] }>();
    frameworks.set(framework, tasks);
    const entry = tasks.get(name) ?? { id: "", records: [] };
    tasks.set(name, entry);
    if (canonical && entry.id === "") entry.id = task;
    const srv = r.type === "SRV" ? r.data.split(" ") : undefined;
    entry.records.push({ name: dotted(r.name), host: srv ? `${dotted(srv[3] ?? "")}:${srv[2] ?? ""}` : r.data, rtype: r.type });
  }
  return {
    frameworks: [...frameworks]
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([name, tasks]) => ({ name, tasks: [...tasks].sort(([a], [b]) => (a < b ? -1 : 1)).map(([t, e]) => ({ name: t, id: e.id, records: e.records })) })),
  };
}

/** Values never served, whatever a config key is called: by name, and keys marked `.meta({ secret: true })`. */
const SECRET_NAME = /(token|secret|password|passwd|private|credentials?|keys?)$/i;
export const REDACTED = "<redacted>";

/** A deep copy of `value` with every secret-looking key's value replaced; `secretPaths` are dotted paths marked secret. */
export function redact(value: unknown, secretPaths: ReadonlySet<string> = new Set(), path = ""): Json {
  if (Array.isArray(value)) return value.map((v) => redact(v, secretPaths, path));
  if (value !== null && typeof value === "object") {
    const out: Record<string, Json> = {};
    for (const [k, v] of Object.entries(value)) {
      const p = path ? `${path}.${k}` : k;
      out[k] = v !== undefined && (SECRET_NAME.test(k) || secretPaths.has(p)) ? REDACTED : redact(v, secretPaths, p);
    }
    return out;
  }
  if (typeof value === "string" || typeof value === "number" || typeof value === "boolean" || value === null) return value;
  return null;
}
