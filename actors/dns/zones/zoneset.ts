// Zones → the one immutable snapshot the answer path reads, plus the flat views `dcnet ctl dns
// records` and the zone-size metric need.
import type { SoaData, SrvData } from "dns-packet";
import type { Zone, ZoneRecord, ZoneRecordType, ZoneSet } from "./types.js";

/**
 * One snapshot keyed by origin. Zones are taken in order and a later zone with the same origin
 * replaces an earlier one, so a caller lists built-ins first and lets overrides (e.g. a
 * configured zone) come last. Nested origins (`mesos` and `x.mesos`) are both kept: choosing
 * the closest enclosing zone for a query is the answer path's job.
 */
export function assembleZoneSet(generation: number, zones: readonly Zone[]): ZoneSet {
  const byOrigin = new Map<string, Zone>();
  for (const zone of zones) byOrigin.set(zone.origin, zone);
  return { generation, zones: byOrigin };
}

/** One record in presentation format; names are absolute (trailing dot), as dig prints them. */
export interface ZoneRow {
  readonly name: string;
  readonly type: ZoneRecordType;
  readonly ttl: number;
  readonly data: string;
}

const fqdn = (name: string): string => `${name}.`;

function soaText(d: SoaData): string {
  return `${fqdn(d.mname)} ${fqdn(d.rname)} ${d.serial ?? 0} ${d.refresh ?? 0} ${d.retry ?? 0} ${d.expire ?? 0} ${d.minimum ?? 0}`;
}

const srvText = (d: SrvData): string => `${d.priority ?? 0} ${d.weight ?? 0} ${d.port} ${fqdn(d.target)}`;

/** RDATA as in a zone file (RFC 1035 §5.1): addresses as-is, names absolute. */
export function recordData(r: ZoneRecord): string {
  switch (r.type) {
    case "A":
    case "AAAA":
      return r.data;
    case "CNAME":
    case "NS":
      return fqdn(r.data);
    case "SRV":
      return srvText(r.data);
    case "SOA":
      return soaText(r.data);
  }
}

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Every record of `zone` (apex SOA and NS included) sorted by name, type, data (plain string order). */
export function zoneRecords(zone: Zone): ZoneRow[] {
  const rows: ZoneRow[] = [];
  for (const [name, sets] of zone.names) {
    for (const records of sets.values()) {
      for (const r of records) rows.push({ name: fqdn(name), type: r.type, ttl: r.ttl, data: recordData(r) });
    }
  }
  return rows.sort((a, b) => cmp(a.name, b.name) || cmp(a.type, b.type) || cmp(a.data, b.data));
}

/** Number of records (SOA and NS included; empty non-terminals count 0). */
export function zoneSize(zone: Zone): number {
  let n = 0;
  for (const sets of zone.names.values()) for (const records of sets.values()) n += records.length;
  return n;
}
