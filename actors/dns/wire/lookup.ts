// Reading a ZoneSet: which zone answers a name, what records a name has (the apex always exists
// and always has SOA/NS), and turning zone records into dns-packet answers.
import type { Answer } from "dns-packet";
import type { NameRecords, Zone, ZoneRecord, ZoneRecordType, ZoneSet } from "../zones/types.js";
import { labelStarts } from "./names.js";

/** The zone with the longest origin that is `name` or a label-boundary suffix of it (lower-case). */
export function findZone(zones: ZoneSet, name: string): Zone | undefined {
  if (zones.zones.size === 0) return undefined;
  for (const start of labelStarts(name)) {
    const zone = zones.zones.get(start === 0 ? name : name.slice(start));
    if (zone) return zone;
  }
  return undefined;
}

/** Records of `name` in `zone`; undefined when the name does not exist (NXDOMAIN). */
export function recordsAt(zone: Zone, name: string): NameRecords | undefined {
  const recs = zone.names.get(name);
  if (name !== zone.origin) return recs;
  // The zone's own soa/ns fields are authoritative for the apex even if `names` omits them.
  if (recs?.has("SOA") && recs.has("NS")) return recs;
  const apex = new Map<ZoneRecordType, readonly ZoneRecord[]>(recs ?? []);
  if (!apex.has("SOA")) apex.set("SOA", [{ type: "SOA", ttl: zone.soa.ttl, data: zone.soa.data }]);
  if (!apex.has("NS") && zone.ns.names.length > 0) apex.set("NS", zone.ns.names.map((n) => ({ type: "NS", ttl: zone.ns.ttl, data: n })));
  return apex;
}

export function toAnswer(owner: string, r: ZoneRecord): Answer {
  switch (r.type) {
    case "SRV":
      return { name: owner, type: "SRV", class: "IN", ttl: r.ttl, data: r.data };
    case "SOA":
      return { name: owner, type: "SOA", class: "IN", ttl: r.ttl, data: r.data };
    default:
      return { name: owner, type: r.type, class: "IN", ttl: r.ttl, data: r.data };
  }
}

/** The SOA for a negative answer: owner = apex, TTL = min(SOA TTL, minimum) (RFC 2308 §5). */
export function negativeSoa(zone: Zone): Answer {
  const ttl = Math.min(zone.soa.ttl, zone.soa.data.minimum ?? zone.soa.ttl);
  return { name: zone.origin, type: "SOA", class: "IN", ttl, data: zone.soa.data };
}

/** The SOA and NS of a zone with another owner name (the Mesos-DNS authority-section quirk). */
export function soaAs(zone: Zone, owner: string): Answer {
  return { name: owner, type: "SOA", class: "IN", ttl: zone.soa.ttl, data: zone.soa.data };
}

export function nsAs(zone: Zone, owner: string): Answer[] {
  return zone.ns.names.map((n) => ({ name: owner, type: "NS", class: "IN", ttl: zone.ns.ttl, data: n }));
}

/** Every name an answer carries, rewritten by `fn` (owner and CNAME/NS/PTR/SOA/SRV data). */
export function mapNames(a: Answer, fn: (name: string) => string): Answer {
  switch (a.type) {
    case "CNAME":
    case "NS":
    case "PTR":
    case "DNAME":
      return { ...a, name: fn(a.name), data: fn(a.data) };
    case "SOA":
      return { ...a, name: fn(a.name), data: { ...a.data, mname: fn(a.data.mname), rname: fn(a.data.rname) } };
    case "SRV":
      return { ...a, name: fn(a.name), data: { ...a.data, target: fn(a.data.target) } };
    default:
      return { ...a, name: fn(a.name) };
  }
}
