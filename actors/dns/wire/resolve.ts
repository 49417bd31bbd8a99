// RFC 1034 §4.3.2 resolution inside our own zones: exact match, CNAME chase across every zone we
// hold, NXDOMAIN vs NODATA with the zone SOA (RFC 2308), and SRV target addresses as additional data.
import type { Answer } from "dns-packet";
import type { Zone, ZoneRecordType, ZoneSet } from "../zones/types.js";
import { findZone, negativeSoa, recordsAt, toAnswer } from "./lookup.js";
import { lowerAscii } from "./names.js";

export type AnswerRcode = "NOERROR" | "NXDOMAIN" | "REFUSED";

export interface Sections {
  readonly answers: Answer[];
  readonly authorities: Answer[];
  readonly additionals: Answer[];
  readonly rcode: AnswerRcode;
}

const ZONE_TYPES: ReadonlySet<string> = new Set<ZoneRecordType>(["A", "AAAA", "SRV", "CNAME", "NS", "SOA"]);
const isZoneType = (t: string): t is ZoneRecordType => ZONE_TYPES.has(t);

// dcos-dns (erldns) and BIND stop chasing at about this depth; loops are also caught by `seen`.
const MAX_CHAIN = 8;

/**
 * Answers `qtype` for `name` (lower-case) in `zone`; `owner` is the question name as sent and is
 * used as the owner of the first RRset. Additional data is left to the caller.
 */
export function resolve(zones: ZoneSet, zone: Zone, name: string, owner: string, qtype: string): Sections {
  const answers: Answer[] = [];
  const seen = new Set<string>();
  let z = zone;
  let at = name;
  let as = owner;
  for (;;) {
    const recs = recordsAt(z, at);
    if (!recs) return { answers, authorities: [negativeSoa(z)], additionals: [], rcode: "NXDOMAIN" };
    const hits = qtype === "ANY" ? [...recs.values()].flat() : isZoneType(qtype) ? (recs.get(qtype) ?? []) : [];
    if (hits.length > 0) {
      for (const r of hits) answers.push(toAnswer(as, r));
      return { answers, authorities: [], additionals: [], rcode: "NOERROR" };
    }
    const cname = qtype === "CNAME" ? undefined : recs.get("CNAME")?.[0];
    if (cname?.type !== "CNAME") return { answers, authorities: [negativeSoa(z)], additionals: [], rcode: "NOERROR" };
    answers.push(toAnswer(as, cname));
    seen.add(at);
    const target = lowerAscii(cname.data);
    const next = findZone(zones, target);
    // Out of our zones, too deep, or a loop: the CNAMEs so far are the answer; the resolver goes on.
    if (!next || seen.has(target) || seen.size >= MAX_CHAIN) return { answers, authorities: [], additionals: [], rcode: "NOERROR" };
    z = next;
    at = target;
    as = cname.data;
  }
}

/**
 * A and AAAA records of every distinct SRV target found in our zones; `firstOnly` keeps one of
 * each per target, as Mesos-DNS does.
 */
export function srvAdditionals(zones: ZoneSet, answers: readonly Answer[], firstOnly: boolean): Answer[] {
  const out: Answer[] = [];
  const seen = new Set<string>();
  for (const a of answers) {
    if (a.type !== "SRV") continue;
    const target = lowerAscii(a.data.target);
    if (seen.has(target)) continue;
    seen.add(target);
    const zone = findZone(zones, target);
    const recs = zone && recordsAt(zone, target);
    if (!recs) continue;
    for (const type of ["A", "AAAA"] as const) {
      const list = recs.get(type) ?? [];
      for (const r of firstOnly ? list.slice(0, 1) : list) out.push(toAnswer(a.data.target, r));
    }
  }
  return out;
}
