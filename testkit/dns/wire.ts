// Test helpers: hand-built zones (the way zones/builder.ts shapes them: lower-case names, apex
// SOA/NS, an empty map per empty non-terminal) and query packets built with dns-packet, so the
// parser under test never checks itself.
import dnsPacket, { type Answer, type DecodedPacket, type RecordType } from "dns-packet";
import type { NameRecords, Zone, ZoneRecord, ZoneRecordType, ZoneSet } from "../../actors/dns/zones/types.js";
import { answerQuery, type Answered, type AnswerOptions } from "../../actors/dns/wire/answer.js";
import { parseQuery } from "../../actors/dns/wire/query.js";
import type { ParsedQuery } from "../../actors/dns/wire/types.js";

export const rec = {
  a: (data: string, ttl = 5): ZoneRecord => ({ type: "A", ttl, data }),
  aaaa: (data: string, ttl = 5): ZoneRecord => ({ type: "AAAA", ttl, data }),
  cname: (data: string, ttl = 5): ZoneRecord => ({ type: "CNAME", ttl, data }),
  srv: (target: string, port: number, ttl = 5): ZoneRecord => ({ type: "SRV", ttl, data: { priority: 0, weight: 1, port, target } }),
};

interface ZoneOpts {
  readonly ttl?: number;
  readonly minimum?: number;
  readonly mesosDnsCompat?: boolean;
}

/** A zone from (owner, record) pairs; apex SOA/NS and empty non-terminals are added. */
export function makeZone(origin: string, records: ReadonlyArray<readonly [string, ZoneRecord]>, opts: ZoneOpts = {}): Zone {
  const soa = { ttl: opts.ttl ?? 5, data: { mname: "ns.spartan", rname: "support.mesosphere.com", serial: 1, refresh: 60, retry: 180, expire: 86400, minimum: opts.minimum ?? 1 } };
  const ns = { ttl: 3600, names: ["ns.spartan"] };
  const names = new Map<string, Map<ZoneRecordType, ZoneRecord[]>>();
  const at = (n: string): Map<ZoneRecordType, ZoneRecord[]> => names.get(n) ?? names.set(n, new Map()).get(n) ?? new Map();
  at(origin).set("SOA", [{ type: "SOA", ...soa }]);
  at(origin).set("NS", ns.names.map((n) => ({ type: "NS", ttl: ns.ttl, data: n })));
  for (const [owner, r] of records) {
    const sets = at(owner);
    sets.set(r.type, [...(sets.get(r.type) ?? []), r]);
    for (let p = owner; p !== origin && p.includes("."); ) {
      p = p.slice(p.indexOf(".") + 1);
      if (p.length >= origin.length) at(p);
    }
  }
  const zone: Zone = { origin, soa, ns, names: names as ReadonlyMap<string, NameRecords> };
  return opts.mesosDnsCompat ? { ...zone, mesosDnsCompat: true } : zone;
}

export function makeZoneSet(zones: readonly Zone[], generation = 1): ZoneSet {
  return { generation, zones: new Map(zones.map((z) => [z.origin, z])) };
}

const DCOS = "dcos.thisdcos.directory";

/** The zones most tests answer from. */
export function fixtureZones(generation = 1): ZoneSet {
  const dcos = makeZone(DCOS, [
    [`app.marathon.agentip.${DCOS}`, rec.a("10.0.0.1")],
    [`app.marathon.agentip.${DCOS}`, rec.a("10.0.0.2")],
    [`app.marathon.agentip.${DCOS}`, rec.a("10.0.0.3")],
    [`app.marathon.agentip.${DCOS}`, rec.aaaa("fd01::1")],
    [`alias.${DCOS}`, rec.cname(`app.marathon.agentip.${DCOS}`)],
    [`alias2.${DCOS}`, rec.cname(`alias.${DCOS}`)],
    [`loop1.${DCOS}`, rec.cname(`loop2.${DCOS}`)],
    [`loop2.${DCOS}`, rec.cname(`loop1.${DCOS}`)],
    [`ext.${DCOS}`, rec.cname("www.example.com")],
    [`dangling.${DCOS}`, rec.cname(`nothere.${DCOS}`)],
    [`tovip.${DCOS}`, rec.cname("vip.fw.l4lb.thisdcos.directory")],
    [`_http._tcp.web.${DCOS}`, rec.srv(`web-1.${DCOS}`, 8080)],
    [`_http._tcp.web.${DCOS}`, rec.srv(`web-2.${DCOS}`, 8081)],
    [`web-1.${DCOS}`, rec.a("10.1.0.1")],
    [`web-1.${DCOS}`, rec.a("10.1.0.2")],
    [`web-1.${DCOS}`, rec.aaaa("fd00::1")],
    [`web-2.${DCOS}`, rec.a("10.1.0.3")],
  ]);
  const l4lb = makeZone("l4lb.thisdcos.directory", [["vip.fw.l4lb.thisdcos.directory", rec.a("11.0.0.1")]]);
  const mesos = makeZone(
    "mesos",
    [
      ["app.marathon.mesos", rec.a("10.2.0.1", 60)],
      ["app.marathon.mesos", rec.a("10.2.0.2", 60)],
      ["_app._tcp.marathon.mesos", rec.srv("app-a1.marathon.slave.mesos", 31000, 60)],
      ["_app._tcp.marathon.mesos", rec.srv("app-a2.marathon.slave.mesos", 31001, 60)],
      ["app-a1.marathon.slave.mesos", rec.a("10.3.0.1", 60)],
      ["app-a1.marathon.slave.mesos", rec.a("10.3.0.9", 60)],
      ["app-a2.marathon.slave.mesos", rec.a("10.3.0.2", 60)],
      ["app-a2.marathon.slave.mesos", rec.aaaa("fd03::2", 60)],
    ],
    { ttl: 60, minimum: 60, mesosDnsCompat: true },
  );
  const spartan = makeZone("spartan", [["ready.spartan", rec.a("127.0.0.1")]]);
  return makeZoneSet([dcos, l4lb, mesos, spartan], generation);
}

export interface QueryOpts {
  readonly id?: number;
  readonly rd?: boolean;
  readonly cd?: boolean;
  readonly klass?: "IN" | "CH" | "ANY";
  readonly edns?: { readonly udpSize?: number; readonly do?: boolean; readonly version?: number };
}

/** A query packet as a client would send it (dns-packet encodes it). */
export function queryBuf(name: string, type: string = "A", opts: QueryOpts = {}): Buffer {
  const flags = (opts.rd === false ? 0 : dnsPacket.RECURSION_DESIRED) | (opts.cd ? dnsPacket.CHECKING_DISABLED : 0);
  const additionals: Answer[] = opts.edns
    ? [{ type: "OPT", name: ".", udpPayloadSize: opts.edns.udpSize ?? 4096, extendedRcode: 0, ednsVersion: opts.edns.version ?? 0, flags: opts.edns.do ? dnsPacket.DNSSEC_OK : 0, flag_do: opts.edns.do ?? false, options: [] }]
    : [];
  return dnsPacket.encode({ type: "query", id: opts.id ?? 4660, flags, questions: [{ name, type: type as RecordType, class: opts.klass ?? "IN" }], additionals });
}

export function parsed(buf: Buffer): ParsedQuery {
  const r = parseQuery(buf);
  if (!r.ok) throw new Error(`test query did not parse: ${r.reason}`);
  return r.query;
}

export function ask(zones: ZoneSet, name: string, type = "A", opts: QueryOpts & AnswerOptions = {}): Answered {
  const r = answerQuery(zones, parsed(queryBuf(name, type, opts)), { rotation: "off", ...opts });
  if (r.kind !== "answer") throw new Error(`${name} was not answered from our zones`);
  return r;
}

type Decoded = DecodedPacket & { readonly rcode: string };

/** dns-packet's decode, with the rcode field its types leave out. */
export function decode(buf: Buffer): Decoded {
  return dnsPacket.decode(buf) as Decoded;
}

/** "name TYPE data" lines, for compact section assertions. */
export function lines(list: readonly Answer[] | undefined): string[] {
  return (list ?? []).map((a) => {
    if (a.type === "OPT") return `. OPT ${a.udpPayloadSize}`;
    const d = "data" in a ? a.data : undefined;
    const text = typeof d === "string" ? d : d && typeof d === "object" && "target" in d ? `${d.port} ${d.target}` : d && typeof d === "object" && "mname" in d ? `${d.mname} ${d.rname}` : "";
    return `${a.name} ${a.type} ${text}`.trim();
  });
}
