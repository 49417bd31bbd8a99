// Answers a parsed query from our own zones, or says it belongs to the forwarder. Pure: the same
// ZoneSet, query and options give the same packet (random rotation aside).
import type { Answer } from "dns-packet";
import type { ZoneSet } from "../zones/types.js";
import { FLAG, RCODE } from "./codes.js";
import { findZone, mapNames } from "./lookup.js";
import { answerMesos } from "./mesos-compat.js";
import { DCOS_RENAMES, renameQuery, type RenameRule } from "./rename.js";
import { resolve, srvAdditionals, type AnswerRcode, type Sections } from "./resolve.js";
import { rotate, type Rotation } from "./rotate.js";
import type { ParsedQuery, ResponsePacket } from "./types.js";

export interface AnswerOptions {
  /** Answer order per RRset; default round_robin (dcos-dns). */
  readonly rotation?: Rotation;
  /** RA bit; default false: only a node with forwarding configured recurses (README "RA"). */
  readonly recursionAvailable?: boolean;
  /** Alias suffixes; default DCOS_RENAMES. */
  readonly renames?: readonly RenameRule[];
  /** For random rotation; default Math.random. */
  readonly random?: () => number;
}

export interface Answered {
  readonly kind: "answer";
  /** Origin of the zone that answered (after renames). */
  readonly zone: string;
  readonly rcode: AnswerRcode;
  readonly packet: ResponsePacket;
  /** The zone is in Mesos-DNS compatibility mode: encode without OPT. */
  readonly noOpt: boolean;
  /** Distinct answer orders rotation cycles through (1: order never changes); for ResponseCache variants. */
  readonly variants: number;
}

type AnswerResult = Answered | { readonly kind: "forward" };

// Zone transfers are not offered over this path (dcos-dns has none either; /v1/records exists).
const REFUSED_TYPES: ReadonlySet<string> = new Set(["AXFR", "IXFR"]);

const refused = (): Sections => ({ answers: [], authorities: [], additionals: [], rcode: "REFUSED" });

function sectionsFor(zones: ZoneSet, q: ParsedQuery, lookup: string): { zone: string; sections: Sections; compat: boolean } | undefined {
  const zone = findZone(zones, lookup);
  if (!zone) return undefined;
  const { name, type, class: klass } = q.question;
  const compat = zone.mesosDnsCompat === true;
  if ((klass !== "IN" && klass !== "ANY") || REFUSED_TYPES.has(type)) return { zone: zone.origin, sections: refused(), compat };
  if (compat) return { zone: zone.origin, sections: answerMesos(zones, zone, lookup, name, type), compat };
  const r = resolve(zones, zone, lookup, name, type);
  return { zone: zone.origin, sections: { ...r, additionals: srvAdditionals(zones, r.answers, false) }, compat };
}

export function answerQuery(zones: ZoneSet, q: ParsedQuery, opts: AnswerOptions = {}): AnswerResult {
  const renamed = renameQuery(q.question.name, opts.renames ?? DCOS_RENAMES);
  const found = sectionsFor(zones, q, renamed.lookup);
  if (!found) return { kind: "forward" };
  const { sections: s } = found;
  const rotated = rotate(s.answers, opts.rotation ?? "round_robin", q.id, opts.random ?? Math.random);
  const back = renamed.back;
  const fix = (list: readonly Answer[]): Answer[] => (back ? list.map((a) => mapNames(a, back)) : [...list]);
  // QCLASS ANY: the data is ours but the question spans classes we may not hold, so not AA (NSD).
  const authoritative = s.rcode !== "REFUSED" && q.question.class !== "ANY";
  const flags =
    (authoritative ? FLAG.AA : 0) |
    (q.rd ? FLAG.RD : 0) |
    ((opts.recursionAvailable ?? false) ? FLAG.RA : 0) |
    (q.cd ? FLAG.CD : 0) |
    RCODE[s.rcode];
  const packet: ResponsePacket = {
    type: "response",
    id: q.id,
    flags,
    questions: [q.question],
    answers: fix(rotated.answers),
    authorities: fix(s.authorities),
    additionals: fix(s.additionals),
  };
  return { kind: "answer", zone: found.zone, rcode: s.rcode, packet, noOpt: found.compat, variants: rotated.period };
}
