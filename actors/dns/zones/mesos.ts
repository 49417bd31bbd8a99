// The Mesos-DNS zone (`<domain>`, default `mesos`) from the generator's records, and dcos-net's
// mirror of it, `mesos.thisdcos.directory` (dcos_dns_mesos_dns.erl: every name re-rooted, SRV
// targets too, TTL 5, SRV priority 1 weight 1, dcos-dns SOA/NS). The mirror can also be fed from a
// Mesos-DNS `/v1/axfr` document (recordsFromAxfr), as dcos-net does.
import type { DnsRecord } from "../mesos-dns/generate.js";
import { headFromDefaults, ZoneBuilder, type ZoneDefaults, type ZoneProblem } from "./builder.js";
import { normalizeName } from "./names.js";
import type { Zone } from "./types.js";

export const MESOS_MIRROR_ORIGIN = "mesos.thisdcos.directory";

export interface MesosZoneOptions {
  /** Mesos-DNS domain, validated and lower-case ("mesos"). */
  readonly domain: string;
  /** Mesos-DNS `TTL` (60): every record, the SOA, NS, and the SOA `minimum`. */
  readonly ttl: number;
  /** Also build `mesos.thisdcos.directory`. */
  readonly mirror: boolean;
  /** Mesos-DNS wire quirks on the `<domain>` zone (never on the mirror). */
  readonly compat: boolean;
  readonly serial: number;
  /** Default `ns1.<domain>`. */
  readonly soaMname?: string;
  /** Default `root.ns1.<domain>`; an `@` is read as `.` like Mesos-DNS does. */
  readonly soaRname?: string;
  /** Mesos-DNS `SOARefresh` / `SOARetry` / `SOAExpire` (60 / 600 / 86400). */
  readonly soaRefresh?: number;
  readonly soaRetry?: number;
  readonly soaExpire?: number;
  /** `SRVRecordDefaultWeight` (1); Mesos-DNS priority is always 0. */
  readonly srvWeight?: number;
  /** TTL of the mirror's records (dcos-net: 5, replacing Mesos-DNS's own TTL). */
  readonly mirrorTtl?: number;
  /** Other overrides of dcos-net's constants for the mirror (SOA, NS, negative TTL). */
  readonly mirrorDefaults?: Partial<ZoneDefaults>;
  readonly onProblem?: (problem: ZoneProblem) => void;
}

/** `target:port` as Mesos-DNS stores an SRV value (the target is a name, so the last `:` splits). */
export function parseSrvValue(value: string): { target: string; port: number } | undefined {
  const colon = value.lastIndexOf(":");
  const port = value.slice(colon + 1);
  if (colon <= 0 || !/^\d{1,5}$/.test(port) || Number(port) > 65535) return undefined;
  return { target: value.slice(0, colon), port: Number(port) };
}

/** `x.<domain>.` → `x.mesos.thisdcos.directory` (dcos_dns_mesos_dns.erl dname/2), undefined outside the domain. */
export function mirrorName(name: string, domain: string): string | undefined {
  const n = normalizeName(name);
  if (n === domain) return MESOS_MIRROR_ORIGIN;
  return n.endsWith(`.${domain}`) ? `${n.slice(0, -domain.length)}${MESOS_MIRROR_ORIGIN}` : undefined;
}

type Rename = (name: string) => string | undefined;

interface Placement {
  readonly rename: Rename;
  readonly srv: { readonly priority: number; readonly weight: number };
  /** For records rejected before the builder sees them (the builder reports its own). */
  readonly onProblem: ((problem: ZoneProblem) => void) | undefined;
}

function addRecords(b: ZoneBuilder, records: readonly DnsRecord[], p: Placement): void {
  const report = (r: DnsRecord, message: string) => p.onProblem?.({ item: `${r.name} ${r.type}`, message });
  for (const r of records) {
    const owner = p.rename(r.name);
    if (owner === undefined) {
      report(r, "name outside the Mesos-DNS domain");
    } else if (r.type === "SRV") {
      const v = parseSrvValue(r.value);
      const target = v === undefined ? undefined : p.rename(v.target);
      if (v === undefined || target === undefined) report(r, `SRV value ${JSON.stringify(r.value)} is not <name in domain>:<port>`);
      else b.add(owner, { type: "SRV", data: { ...p.srv, port: v.port, target } });
    } else {
      b.add(owner, { type: r.type, data: r.value });
    }
  }
}

function mesosZone(records: readonly DnsRecord[], o: MesosZoneOptions): Zone {
  const mname = o.soaMname ?? `ns1.${o.domain}`;
  const head = headFromDefaults({
    ttl: o.ttl,
    negativeTtl: o.ttl, // Mesos-DNS puts TTL in `minimum`; SOAMinttl is parsed but never used
    soaTtl: o.ttl,
    soaMname: mname,
    soaRname: (o.soaRname ?? `root.ns1.${o.domain}`).replaceAll("@", "."),
    serial: o.serial,
    refresh: o.soaRefresh ?? 60,
    retry: o.soaRetry ?? 600,
    expire: o.soaExpire ?? 86400,
    nsNames: [mname],
    nsTtl: o.ttl,
  });
  const b = new ZoneBuilder(o.domain, { ...head, mesosDnsCompat: o.compat }, o.onProblem);
  const keep: Rename = (name) => {
    const n = normalizeName(name);
    return n === o.domain || n.endsWith(`.${o.domain}`) ? n : undefined;
  };
  addRecords(b, records, { rename: keep, srv: { priority: 0, weight: o.srvWeight ?? 1 }, onProblem: o.onProblem });
  return b.build();
}

function mirrorZone(records: readonly DnsRecord[], o: MesosZoneOptions): Zone {
  const b = ZoneBuilder.dcos(MESOS_MIRROR_ORIGIN, { ...o.mirrorDefaults, ttl: o.mirrorTtl ?? o.mirrorDefaults?.ttl, onProblem: o.onProblem });
  const rename: Rename = (name) => mirrorName(name, o.domain);
  addRecords(b, records, { rename, srv: { priority: 1, weight: 1 }, onProblem: o.onProblem });
  return b.build();
}

/**
 * From generateRecords' output: `[<domain> zone]`, or `[<domain> zone, mesos.thisdcos.directory]`
 * when `mirror` is set — an array so it can go straight into assembleZoneSet.
 */
export function mesosZones(records: readonly DnsRecord[], opts: MesosZoneOptions): Zone[] {
  const mesos = mesosZone(records, opts);
  return opts.mirror ? [mesos, mirrorZone(records, opts)] : [mesos];
}

const AXFR_TYPES = [
  ["As", "A"],
  ["AAAAs", "AAAA"],
  ["SRVs", "SRV"],
] as const;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * A Mesos-DNS `/v1/axfr` JSON (`Records.{As,AAAAs,SRVs}`: name → values) as the generator's
 * record list, sorted like it. Non-string values are skipped and reported.
 */
export function recordsFromAxfr(axfr: unknown, onProblem?: (problem: ZoneProblem) => void): DnsRecord[] {
  const all = isObject(axfr) && isObject(axfr["Records"]) ? axfr["Records"] : undefined;
  if (all === undefined) onProblem?.({ item: "axfr", message: "no Records object" });
  const out: DnsRecord[] = [];
  for (const [key, type] of AXFR_TYPES) {
    const byName = all?.[key];
    if (byName === undefined || byName === null) continue;
    if (!isObject(byName)) {
      onProblem?.({ item: `axfr Records.${key}`, message: "not an object" });
      continue;
    }
    for (const [name, values] of Object.entries(byName)) {
      for (const value of Array.isArray(values) ? values : [values]) {
        if (typeof value === "string") out.push({ name, type, value });
        else onProblem?.({ item: `axfr ${key} ${name}`, message: `value ${JSON.stringify(value)} is not a string` });
      }
    }
  }
  const key = (r: DnsRecord) => `${r.type}\t${r.name}\t${r.value}`;
  return out.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}
