// Mesos-DNS answer quirks (dns.md §1.6, resolver.go HandleMesos), only for zones flagged
// `mesosDnsCompat`. Copied: `.*` labels ignored, SOA/NS for any name in the authority section
// with the question as owner, a missing SRV answered NOERROR with nothing, ANY = SRV+A+AAAA plus
// SOA/NS in authority, first A/AAAA per SRV target as additional data (and no OPT, see answer.ts).
// Not copied, because they break RFC 8020/2308 resolvers without helping any client: an empty
// non-terminal stays NODATA (Mesos-DNS says NXDOMAIN), and negative answers carry the SOA under
// the zone apex (Mesos-DNS uses the question name). Answer owners are the question as sent
// (Mesos-DNS lower-cases A/AAAA owners; stub resolvers drop answers whose owner differs).
import type { Answer } from "dns-packet";
import type { Zone, ZoneSet } from "../zones/types.js";
import { nsAs, recordsAt, soaAs, toAnswer } from "./lookup.js";
import { labelsOf } from "./names.js";
import { resolve, srvAdditionals, type Sections } from "./resolve.js";

/** Mesos-DNS `cleanWild`: drops every "*" label except a leading one (`bob.*.mesos` → `bob.mesos`). */
export function stripWildcards(name: string): string {
  if (!name.includes(".*")) return name;
  return labelsOf(name)
    .filter((l, i) => i === 0 || l !== "*")
    .join(".");
}

function answerAny(zones: ZoneSet, zone: Zone, name: string, owner: string): Sections {
  const recs = recordsAt(zone, name);
  const answers: Answer[] = [];
  for (const type of ["SRV", "A", "AAAA"] as const) for (const r of recs?.get(type) ?? []) answers.push(toAnswer(owner, r));
  return {
    answers,
    authorities: [soaAs(zone, owner), ...nsAs(zone, owner)],
    additionals: srvAdditionals(zones, answers, true),
    rcode: answers.length > 0 || recs ? "NOERROR" : "NXDOMAIN",
  };
}

export function answerMesos(zones: ZoneSet, zone: Zone, lookup: string, owner: string, qtype: string): Sections {
  const name = stripWildcards(lookup);
  switch (qtype) {
    case "SOA":
      return { answers: [], authorities: [soaAs(zone, owner)], additionals: [], rcode: "NOERROR" };
    case "NS":
      return { answers: [], authorities: nsAs(zone, owner), additionals: [], rcode: "NOERROR" };
    case "ANY":
      return answerAny(zones, zone, name, owner);
  }
  const r = resolve(zones, zone, name, owner, qtype);
  if (qtype === "SRV" && r.answers.length === 0) return { answers: [], authorities: [], additionals: [], rcode: "NOERROR" };
  return { ...r, additionals: srvAdditionals(zones, r.answers, true) };
}
