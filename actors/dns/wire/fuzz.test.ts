// 100,000 hostile, mutated and structured packets through the whole pure pipeline (cache → parse →
// answer → encode → cache fill). Nothing may throw, every reply must respect its size limit and
// echo the id, and a known-good query interleaved after each packet must still get exactly the
// answer it got on a clean cache.
import { describe, expect, it } from "@jest/globals";
import dnsPacket from "dns-packet";
import fc from "fast-check";
import { answerQuery } from "./answer.js";
import { FLAG } from "./codes.js";
import { encodeResponse, sizeLimit } from "./encode.js";
import { errorResponse, parseQuery } from "./query.js";
import { ResponseCache } from "./response-cache.js";
import { fixtureZones, queryBuf } from "../../../testkit/dns/wire.js";
import type { DnsTransport } from "./types.js";
import { renderVariants } from "./variants.js";

const zs = fixtureZones(3);
const ROTATION = "round_robin";

/** The server's pure path; `cache` undefined = clean (reference) run. */
function serve(buf: Buffer, transport: DnsTransport, cache?: ResponseCache): Buffer | undefined {
  const hit = cache?.get(buf, zs.generation, transport);
  if (hit) return hit.reply;
  const p = parseQuery(buf);
  if (!p.ok) return errorResponse(buf, p);
  const a = answerQuery(zs, p.query, { rotation: ROTATION });
  if (a.kind === "forward") return errorResponse(p.query, "REFUSED");
  const out = encodeResponse(a.packet, { transport, query: p.query, noOpt: a.noOpt });
  const limit = sizeLimit({ transport, query: p.query });
  if (out.length > limit) throw new Error(`reply of ${out.length} bytes over the ${limit}-byte limit`);
  cache?.put(buf, zs.generation, transport, renderVariants(zs, p.query, a, { rotation: ROTATION, transport }), { type: p.query.question.type, rcode: a.rcode, zone: a.zone });
  return out;
}

const NAMES = [
  "app.marathon.agentip.dcos.thisdcos.directory",
  "alias2.dcos.thisdcos.directory",
  "_http._tcp.web.dcos.thisdcos.directory",
  "loop1.dcos.thisdcos.directory",
  "vip.fw.dclb.thisdcos.global",
  "app.*.marathon.mesos",
  "_app._tcp.marathon.mesos",
  "nope.spartan",
  "mesos",
  "www.example.com",
];
const TYPES = ["A", "AAAA", "SRV", "CNAME", "NS", "SOA", "ANY", "TXT", "MX", "AXFR", "UNKNOWN_999"];

const templates = NAMES.flatMap((n, i) => [queryBuf(n, TYPES[i % TYPES.length], { id: i }), queryBuf(n, "A", { id: i, edns: { udpSize: 512 + i * 300, do: i % 2 === 0 } })]);

// Known-good queries and what a clean server answers them with (per transport and id).
const probes = NAMES.map((n, i) => queryBuf(n, TYPES[i % 7], { id: 1000 + i, ...(i % 3 === 0 ? { edns: { udpSize: 1232 } } : {}) }));
const expected = new Map(probes.flatMap((p) => (["udp", "tcp"] as const).map((t) => [`${t}:${p.toString("hex")}`, serve(p, t)] as const)));

const LABELS = ["app", "APP", "*", "_tcp", "_http", "_app", "marathon", "agentip", "web-1", "web-2", "alias", "alias2", "loop1", "ready", "vip", "fw", "slave", "x".repeat(63)];
const SUFFIXES = ["dcos.thisdcos.directory", "marathon.agentip.dcos.thisdcos.directory", "dcos.thisdcos.global", "l4lb.thisdcos.directory", "fw.dclb.thisdcos.global", "mesos", "marathon.mesos", "_tcp.marathon.mesos", "spartan", "example.com"];

// A header that passes the count checks (qd 1, ar 0/1), then random bytes.
const plausible = fc
  .record({ id: fc.nat(65535), ar: fc.nat(1), body: fc.uint8Array({ minLength: 1, maxLength: 300 }) })
  .map(({ id, ar, body }) => Buffer.concat([Buffer.from([id >> 8, id & 0xff, 1, 0, 0, 1, 0, 0, 0, 0, 0, ar]), body]));
const randomBytes = fc.uint8Array({ minLength: 0, maxLength: 700, size: "max" }).map((a) => Buffer.from(a));
const mutated = fc
  .record({
    t: fc.nat(templates.length - 1),
    edits: fc.array(fc.tuple(fc.nat(), fc.nat(255)), { maxLength: 4 }),
    cut: fc.option(fc.nat(), { nil: undefined, freq: 4 }),
    extra: fc.uint8Array({ maxLength: 6 }),
  })
  .map(({ t, edits, cut, extra }) => {
    const base = Buffer.from(templates[t] as Buffer);
    for (const [at, v] of edits) base[at % base.length] = v;
    const body = cut === undefined ? base : base.subarray(0, cut % (base.length + 1));
    return extra.length > 0 && edits.length % 2 === 0 ? Buffer.concat([body, extra]) : body;
  });
const structured = fc
  .record({
    labels: fc.array(fc.constantFrom(...LABELS), { maxLength: 3 }),
    suffix: fc.constantFrom(...SUFFIXES),
    type: fc.constantFrom(...TYPES),
    klass: fc.constantFrom("IN" as const, "IN" as const, "IN" as const, "CH" as const, "ANY" as const),
    id: fc.nat(65535),
    edns: fc.option(fc.record({ udpSize: fc.nat(65535), do: fc.boolean() }), { nil: undefined }),
  })
  .map(({ labels, suffix, type, klass, id, edns }) => queryBuf([...labels, suffix].join("."), type, { id, klass, ...(edns ? { edns } : {}) }));

/** Where both parsers accept a plain-ASCII question, they must read the same name and type. */
function differential(pkt: Buffer): void {
  const p = parseQuery(pkt);
  if (!p.ok || !/^[A-Za-z0-9_*-]+(\.[A-Za-z0-9_*-]+)*$/.test(p.query.question.name)) return;
  let theirs: { name: string; type: string } | undefined;
  try {
    theirs = dnsPacket.decode(pkt).questions?.[0];
  } catch {
    return; // dns-packet is stricter about a few things (e.g. OPT option layouts); fine
  }
  if (theirs?.name !== p.query.question.name || theirs.type !== p.query.question.type) {
    throw new Error(`parsers disagree: ${JSON.stringify(theirs)} vs ${JSON.stringify(p.query.question)}`);
  }
}

describe("fuzz", () => {
  it("100,000 packets: no throw, limits kept, ids echoed, interleaved good queries unaffected", () => {
    const cache = new ResponseCache({ rotation: ROTATION, maxEntries: 500 });
    let n = 0;
    let answered = 0;
    fc.assert(
      fc.property(fc.oneof(randomBytes, plausible, mutated, mutated, structured, structured), (pkt) => {
        const transport: DnsTransport = n % 3 === 0 ? "tcp" : "udp";
        const reply = serve(pkt, transport, cache);
        // Plain checks, not expect(): jest matchers would dominate the run time at this count.
        if (reply) {
          answered++;
          if (reply.readUInt16BE(0) !== pkt.readUInt16BE(0)) throw new Error("reply id differs from the query id");
          if ((reply.readUInt16BE(2) & FLAG.QR) === 0) throw new Error("reply without QR");
          // Structurally valid for an independent decoder (it throws on bad pointers and overruns).
          dnsPacket.decode(reply);
        }
        differential(pkt);
        const probe = probes[n % probes.length] as Buffer;
        const t: DnsTransport = n % 2 === 0 ? "udp" : "tcp";
        n++;
        const want = expected.get(`${t}:${probe.toString("hex")}`);
        if (!want || !serve(probe, t, cache)?.equals(want)) throw new Error(`probe ${probe.toString("hex")} over ${t} answered differently`);
      }),
      { numRuns: 100_000 },
    );
    expect(n).toBe(100_000);
    // Most mutated and all structured packets are queries worth answering.
    expect(answered).toBeGreaterThan(30_000);
  }, 60_000);
});
