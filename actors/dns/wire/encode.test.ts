// encodeResponse: size limits, truncation order and TC, OPT echo, and name compression measured
// against dns-packet's own (uncompressed) encoder.
import { describe, expect, it } from "@jest/globals";
import dnsPacket from "dns-packet";
import type { ZoneRecord } from "../zones/types.js";
import { answerQuery } from "./answer.js";
import { FLAG } from "./codes.js";
import { encodeResponse, sizeLimit } from "./encode.js";
import { ask, decode, fixtureZones, lines, makeZone, makeZoneSet, parsed, queryBuf, rec, type QueryOpts } from "../../../testkit/dns/wire.js";
import type { DnsTransport } from "./types.js";

const zs = fixtureZones();
// 40 bytes, as in the brief and in dcos-net's 128-record TCP-fallback test.
const BIG = "web-frontend.marathon.agentip.example.io";
const big = makeZoneSet([
  makeZone(
    "example.io",
    Array.from({ length: 128 }, (_, i): readonly [string, ZoneRecord] => [BIG, rec.a(`10.9.0.${i}`)]),
  ),
]);

function roundTrip(zones = zs, name: string, type: string, opts: QueryOpts & { transport?: DnsTransport; maxUdp?: number } = {}) {
  const q = parsed(queryBuf(name, type, opts));
  const a = answerQuery(zones, q, { rotation: "off" });
  if (a.kind !== "answer") throw new Error("not ours");
  const buf = encodeResponse(a.packet, { transport: opts.transport ?? "udp", query: q, noOpt: a.noOpt, ...(opts.maxUdp ? { maxUdp: opts.maxUdp } : {}) });
  return { buf, d: decode(buf), a };
}

describe("128 A records of a 40-byte name", () => {
  it("UDP without EDNS: TC set, ≤ 512 bytes, a prefix of the answers", () => {
    const { buf, d } = roundTrip(big, BIG, "A");
    expect(buf.length).toBeLessThanOrEqual(512);
    expect(d.flag_tc).toBe(true);
    expect(d.answers).toHaveLength(28); // (512 - 12 - 46) / 16 with compressed owners
    expect(d.answers?.map((a) => ("data" in a ? a.data : ""))).toEqual(Array.from({ length: 28 }, (_, i) => `10.9.0.${i}`));
  });

  it("UDP with EDNS 4096: all 128 fit (compressed), no TC", () => {
    const { buf, d } = roundTrip(big, BIG, "A", { edns: { udpSize: 4096 } });
    expect(d.flag_tc).toBe(false);
    expect(d.answers).toHaveLength(128);
    expect(buf.length).toBeLessThanOrEqual(4096);
  });

  it("UDP with EDNS 1232: TC and as many as fit", () => {
    const { buf, d } = roundTrip(big, BIG, "A", { edns: { udpSize: 1232 } });
    expect(d.flag_tc).toBe(true);
    expect(buf.length).toBeLessThanOrEqual(1232);
    expect(d.answers).toHaveLength(Math.floor((1232 - 12 - 46 - 11) / 16));
  });

  it("TCP: all 128", () => {
    const { d } = roundTrip(big, BIG, "A", { transport: "tcp" });
    expect([d.flag_tc, d.answers?.length]).toEqual([false, 128]);
  });

  it("compression: ours ~2.1 kB, dns-packet's uncompressed encoding ~7.2 kB (would not fit 4096)", () => {
    const { buf, a } = roundTrip(big, BIG, "A", { transport: "tcp" });
    const plain = dnsPacket.encode({ ...a.packet, questions: [{ name: BIG, type: "A", class: "IN" }], answers: [...a.packet.answers], authorities: [], additionals: [] });
    expect(buf.length).toBe(12 + 46 + 128 * 16);
    expect(plain.length).toBe(12 + 46 + 128 * (42 + 14));
    expect(plain.length).toBeGreaterThan(4096);
  });
});

describe("truncation order", () => {
  const D = "srv.example.io";
  const longTarget = (i: number): string => `task-${i}-with-a-rather-long-canonical-name.fw.${D}`;
  const srvZone = (n: number) =>
    makeZoneSet([
      makeZone(D, [
        ...Array.from({ length: n }, (_, i): readonly [string, ZoneRecord] => [`_x._tcp.${D}`, rec.srv(longTarget(i), 1000 + i)]),
        ...Array.from({ length: n }, (_, i): readonly [string, ZoneRecord] => [longTarget(i), rec.a(`10.7.0.${i}`)]),
      ]),
    ]);

  it("drops additional records first, without TC", () => {
    const whole = roundTrip(srvZone(6), `_x._tcp.${D}`, "SRV", { transport: "tcp" });
    expect(whole.buf.length).toBeGreaterThan(512);
    const { buf, d } = roundTrip(srvZone(6), `_x._tcp.${D}`, "SRV");
    expect(buf.length).toBeLessThanOrEqual(512);
    expect([d.flag_tc, d.answers?.length, d.additionals?.length]).toEqual([false, 6, 0]);
  });

  it("keeps the OPT while dropping additionals", () => {
    const { d } = roundTrip(srvZone(6), `_x._tcp.${D}`, "SRV", { edns: { udpSize: 512 } });
    expect(lines(d.additionals)).toEqual([". OPT 1232"]);
  });

  it("then drops answers from the end and sets TC", () => {
    const { buf, d } = roundTrip(srvZone(12), `_x._tcp.${D}`, "SRV");
    expect(buf.length).toBeLessThanOrEqual(512);
    expect(d.flag_tc).toBe(true);
    expect(d.answers?.length).toBeGreaterThan(0);
    expect(d.answers?.length).toBeLessThan(12);
    expect(d.answers?.map((a) => (a.type === "SRV" ? a.data.port : 0))).toEqual(Array.from({ length: d.answers?.length ?? 0 }, (_, i) => 1000 + i));
  });
});

describe("size limit", () => {
  const q = (edns?: { udpSize: number }) => parsed(queryBuf("a.b", "A", edns ? { edns } : {}));
  it.each<[string, DnsTransport, number | undefined, number | undefined, number]>([
    ["UDP without EDNS", "udp", undefined, undefined, 512],
    ["EDNS below 512", "udp", 100, undefined, 512],
    ["EDNS 1400", "udp", 1400, undefined, 1400],
    ["EDNS 65000 clamped to 4096", "udp", 65000, undefined, 4096],
    ["EDNS clamped to maxUdp", "udp", 4096, 1500, 1500],
    ["TCP", "tcp", 512, undefined, 65535],
  ])("%s", (_what, transport, udpSize, maxUdp, want) => {
    expect(sizeLimit({ transport, query: q(udpSize === undefined ? undefined : { udpSize }), ...(maxUdp ? { maxUdp } : {}) })).toBe(want);
  });
});

describe("OPT", () => {
  it("echoed when the query had EDNS: our size 1232, DO copied, version 0", () => {
    const { d } = roundTrip(zs, "ready.spartan", "A", { edns: { udpSize: 4096, do: true } });
    expect(d.additionals).toMatchObject([{ type: "OPT", name: ".", udpPayloadSize: 1232, ednsVersion: 0, flag_do: true }]);
  });

  it("absent without EDNS in the query", () => {
    expect(roundTrip(zs, "ready.spartan", "A").d.additionals).toEqual([]);
  });

  it("absent for Mesos-DNS compat zones even with EDNS, whose size still counts", () => {
    const { d } = roundTrip(zs, "app.marathon.mesos", "A", { edns: { udpSize: 4096 } });
    expect(d.additionals).toEqual([]);
    const q = parsed(queryBuf(BIG, "A", { edns: { udpSize: 4096 } }));
    const a = answerQuery(big, q, { rotation: "off" });
    if (a.kind !== "answer") throw new Error("not ours");
    expect(decode(encodeResponse(a.packet, { transport: "udp", query: q, noOpt: true })).answers).toHaveLength(128);
  });

  it("advertises a configured size", () => {
    const q = parsed(queryBuf("ready.spartan", "A", { edns: {} }));
    const a = ask(zs, "ready.spartan", "A", { edns: {} });
    expect(decode(encodeResponse(a.packet, { transport: "udp", query: q, advertiseUdp: 4000 })).additionals).toMatchObject([{ udpPayloadSize: 4000 }]);
  });
});

describe("wire fidelity", () => {
  it("decodes (with dns-packet) to exactly the packet's sections", () => {
    for (const [name, type] of [["alias2.dcos.thisdcos.directory", "A"], ["_http._tcp.web.dcos.thisdcos.directory", "SRV"], ["nope.spartan", "A"], ["dcos.thisdcos.directory", "ANY"], ["_app._tcp.marathon.mesos", "SRV"], ["app.marathon.agentip.dcos.thisdcos.directory", "AAAA"]] as const) {
      const { d, a } = roundTrip(zs, name, type, { transport: "tcp" });
      expect([name, lines(d.answers), lines(d.authorities), lines(d.additionals)]).toEqual([name, lines([...a.packet.answers]), lines([...a.packet.authorities]), lines([...a.packet.additionals])]);
      expect(d.answers?.map((x) => ("ttl" in x ? x.ttl : 0))).toEqual(a.packet.answers.map((x) => ("ttl" in x ? x.ttl : 0)));
      expect(d.flag_qr && d.flag_aa).toBe(true);
    }
  });

  it("never compresses SRV targets (RFC 2782); later names may point into them", () => {
    const { buf } = roundTrip(zs, "_http._tcp.web.dcos.thisdcos.directory", "SRV");
    const target = Buffer.from("\x05web-1\x04dcos\x08thisdcos\x09directory\x00", "latin1");
    expect(buf.indexOf(target)).toBeGreaterThan(0);
  });

  it("echoes the question bytes exactly, escaped labels and case included", () => {
    const question = Buffer.from([3, 0x41, 0x2e, 0xff, 5, ...Buffer.from("READY"), 7, ...Buffer.from("Spartan"), 0, 0, 1, 0, 1]);
    const query = Buffer.concat([Buffer.from("abcd01000001000000000000", "hex"), question]);
    const q = parsed(query);
    expect(q.question.name).toBe("A\\.\\255.READY.Spartan");
    const a = answerQuery(zs, q);
    if (a.kind !== "answer") throw new Error("not ours");
    expect(a.rcode).toBe("NXDOMAIN");
    const out = encodeResponse(a.packet, { transport: "udp", query: q });
    expect(out.subarray(12, 12 + question.length)).toEqual(question);
    expect(out.readUInt16BE(0)).toBe(0xabcd);
    expect(out.readUInt16BE(2) & FLAG.QR).toBe(FLAG.QR);
  });

  it("encodes every IPv6 spelling, and types it does not serve (via dns-packet, uncompressed)", () => {
    const q = parsed(queryBuf("x.example", "ANY"));
    const v6 = ["::", "::1", "fd01::1", "::ffff:1.2.3.4", "1:2:3:4:5:6:7:8", "2001:db8::8:800:200c:417a", "fe80::"];
    const answers = [
      ...v6.map((ip) => ({ name: "x.example", type: "AAAA" as const, ttl: 5, data: ip })),
      { name: "x.example", type: "TXT" as const, ttl: 5, data: "hello" },
      { name: "x.example", type: "MX" as const, ttl: 5, data: { preference: 10, exchange: "mx.example" } },
      { name: "x.example", type: "PTR" as const, ttl: 5, data: "ptr.example" },
    ];
    const packet = { type: "response" as const, id: 1, flags: 0, questions: [q.question], answers, authorities: [], additionals: [] };
    const d = decode(encodeResponse(packet, { transport: "tcp", query: q }));
    expect(d.answers?.slice(0, v6.length).map((a) => ("data" in a ? a.data : ""))).toEqual(["::", "::1", "fd01::1", "::ffff:102:304", "1:2:3:4:5:6:7:8", "2001:db8::8:800:200c:417a", "fe80::"]);
    expect(d.answers?.slice(v6.length)).toMatchObject([{ type: "TXT", data: [Buffer.from("hello")] }, { type: "MX", data: { preference: 10, exchange: "mx.example" } }, { type: "PTR", data: "ptr.example" }]);
  });

  it("refuses to encode a bad address or an overlong label (zone bugs, not client input)", () => {
    const q = parsed(queryBuf("x.example"));
    const pkt = (data: string, name = "x.example") => ({ type: "response" as const, id: 1, flags: 0, questions: [q.question], answers: [{ name, type: "A" as const, ttl: 5, data }], authorities: [], additionals: [] });
    for (const bad of ["1.2.3", "1.2.3.256", "01.2.3.4x", "a.b.c.d", ""]) expect(() => encodeResponse(pkt(bad), { transport: "udp", query: q })).toThrow(RangeError);
    expect(() => encodeResponse(pkt("1.2.3.4", `${"a".repeat(64)}.example`), { transport: "udp", query: q })).toThrow(/64 bytes/);
  });

  it("clears a TC bit it did not set", () => {
    const a = ask(zs, "ready.spartan");
    const q = parsed(queryBuf("ready.spartan"));
    expect(decode(encodeResponse({ ...a.packet, flags: a.packet.flags | FLAG.TC }, { transport: "udp", query: q })).flag_tc).toBe(false);
  });
});
