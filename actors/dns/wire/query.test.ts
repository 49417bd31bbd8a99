// parseQuery against well-formed and hostile packets, and the error replies built from them.
import { describe, expect, it } from "@jest/globals";
import dnsPacket from "dns-packet";
import { errorResponse, parseQuery } from "./query.js";
import { decode, parsed, queryBuf } from "../../../testkit/dns/wire.js";

/** A header followed by raw bytes: id 0x0102, RD, the given counts. */
function raw(counts: [number, number, number, number], body: number[], flags = 0x0100): Buffer {
  const h = Buffer.alloc(12);
  h.writeUInt16BE(0x0102, 0);
  h.writeUInt16BE(flags, 2);
  counts.forEach((c, i) => h.writeUInt16BE(c, 4 + 2 * i));
  return Buffer.concat([h, Buffer.from(body)]);
}
const A_IN = [0, 1, 0, 1];
const label = (s: string): number[] => [s.length, ...Buffer.from(s, "latin1")];

function rejection(buf: Buffer): { reason: string; rcode: string | undefined; id: number | undefined } {
  const r = parseQuery(buf);
  if (r.ok) throw new Error("expected a rejection");
  return { reason: r.reason, rcode: r.rcode, id: r.id };
}

describe("parseQuery: valid queries", () => {
  it("reads id, flags and the question as sent", () => {
    const q = parsed(queryBuf("App.Marathon.Mesos", "SRV", { id: 77, cd: true }));
    expect(q).toEqual({ id: 77, rd: true, cd: true, opcode: 0, question: { name: "App.Marathon.Mesos", type: "SRV", class: "IN" } });
  });

  it("reads EDNS size, DO and version", () => {
    const q = parsed(queryBuf("a.mesos", "A", { edns: { udpSize: 1400, do: true } }));
    expect(q.edns).toEqual({ udpSize: 1400, do: true, version: 0 });
  });

  it("names unknown types and classes like dns-packet", () => {
    const q = parsed(raw([1, 0, 0, 0], [...label("x"), 0, 0xff, 0x00, 0x00, 0x09]));
    expect(q.question).toEqual({ name: "x", type: "UNKNOWN_65280", class: "UNKNOWN_9" });
  });

  it("escapes dots, backslashes and non-printable bytes inside labels", () => {
    const q = parsed(raw([1, 0, 0, 0], [3, 0x61, 0x2e, 0x62, 3, 0x5c, 0x20, 0xff, ...label("mesos"), 0, ...A_IN]));
    expect(q.question.name).toBe("a\\.b.\\\\\\032\\255.mesos");
  });

  it("reads the root name as '.'", () => {
    expect(parsed(raw([1, 0, 0, 0], [0, 0, 2, 0, 1])).question).toEqual({ name: ".", type: "NS", class: "IN" });
  });

  it("accepts an OPT owner compressed to the question's root label", () => {
    // question "x" at 12: 01 78 00 → the root byte is at offset 14
    const q = parsed(raw([1, 0, 0, 1], [...label("x"), 0, ...A_IN, 0xc0, 14, 0, 41, 0x04, 0xd0, 0, 0, 0, 0, 0, 0]));
    expect(q.edns?.udpSize).toBe(1232);
  });

  it("skips an additional record it does not know (neither OPT nor TSIG)", () => {
    const q = parsed(raw([1, 0, 0, 1], [...label("x"), 0, ...A_IN, 0, 0, 99, 0, 1, 0, 0, 0, 0, 0, 1, 0xaa]));
    expect(q.edns).toBeUndefined();
  });
});

/** A TSIG record: key `k1.`, algorithm hmac-sha256., time signed 0x0001_00000002, fudge 300, a 2-byte MAC, original id 0x0102. */
const TSIG_RR = (() => {
  const rdata = [...label("hmac-sha256"), 0, 0, 1, 0, 0, 0, 2, 1, 44, 0, 2, 0xde, 0xad, 1, 2, 0, 0, 0, 0];
  return [...label("k1"), 0, 0, 250, 0, 255, 0, 0, 0, 0, 0, rdata.length, ...rdata];
})();
const OPT_RR = [0, 0, 41, 16, 0, 0, 0, 0, 0, 0, 0];

describe("parseQuery: TSIG-signed queries, no keys configured (issue 16, defect 4)", () => {
  it("is NOTAUTH with the TSIG fields to echo, with or without EDNS", () => {
    for (const [ar, extra] of [[1, TSIG_RR], [2, [...OPT_RR, ...TSIG_RR]]] as const) {
      const r = parseQuery(raw([1, 0, 0, ar], [...label("x"), 0, ...A_IN, ...extra]));
      expect(r).toMatchObject({ ok: false, rcode: "NOTAUTH", formerr: false, tsig: { keyName: "k1", algorithm: "hmac-sha256", timeHigh: 1, timeLow: 2, fudge: 300, originalId: 0x0102 } });
      expect(r.ok === false && r.rcode === "NOTAUTH" && r.edns !== undefined).toBe(ar === 2);
    }
  });

  it("the reply: NOTAUTH, the question, an OPT when the query had one, and an unsigned TSIG record with error BADKEY", () => {
    const buf = raw([1, 0, 0, 2], [...label("x"), 0, ...A_IN, ...OPT_RR, ...TSIG_RR]);
    const out = errorResponse(buf, parseQuery(buf) as never) as Buffer;
    expect(out.readUInt16BE(2) & 0xf).toBe(9);
    const msg = decode(out) as unknown as { questions: Array<{ name: string }>; additionals: Array<{ type: string; name: string; data?: Buffer }> };
    expect(msg.questions[0]?.name).toBe("x");
    expect(msg.additionals.map((a) => a.type)).toEqual(["OPT", "TSIG"]);
    // TSIG rdata as dns-packet leaves it (it has no TSIG codec): algorithm, time, fudge, MAC size 0, id, error 17, other 0.
    const data = msg.additionals[1]?.data as Buffer;
    const algLen = 1 + "hmac-sha256".length + 1;
    expect(data.readUInt16BE(algLen + 8)).toBe(0);
    expect(data.readUInt16BE(algLen + 10)).toBe(0x0102);
    expect(data.readUInt16BE(algLen + 12)).toBe(17);
    expect(data.readUInt16BE(algLen + 14)).toBe(0);
    expect(msg.additionals[1]?.name).toBe("k1");
  });

  it("a TSIG that is not the last record, or whose data is cut, is FORMERR", () => {
    expect(rejection(raw([1, 0, 0, 2], [...label("x"), 0, ...A_IN, ...TSIG_RR, ...OPT_RR])).reason).toBe("TSIG record is not the last one");
    const cut = [...TSIG_RR];
    cut[4 + 10 - 1] = 8; // rdlength 8: only part of the algorithm name and time
    expect(rejection(raw([1, 0, 0, 1], [...label("x"), 0, ...A_IN, ...cut.slice(0, 4 + 10 + 8)])).rcode).toBe("FORMERR");
  });
});

describe("parseQuery: rejections", () => {
  it("drops anything shorter than a header, without an id", () => {
    expect(parseQuery(Buffer.from([1, 2, 3]))).toEqual({ ok: false, reason: "3 bytes is shorter than a DNS header", formerr: false });
    expect(parseQuery(Buffer.alloc(0)).ok).toBe(false);
  });

  it("drops responses (QR set)", () => {
    expect(parseQuery(raw([1, 0, 0, 0], [0, ...A_IN], 0x8100))).toMatchObject({ ok: false, formerr: false, id: 0x0102 });
    expect(rejection(raw([1, 0, 0, 0], [0, ...A_IN], 0x8100)).rcode).toBeUndefined();
  });

  it("answers other opcodes with NOTIMP", () => {
    const r = parseQuery(raw([1, 0, 0, 0], [0, ...A_IN], 5 << 11));
    expect(r).toEqual({ ok: false, reason: "opcode 5 is not implemented", id: 0x0102, formerr: false, rcode: "NOTIMP" });
  });

  it.each<[string, Buffer, string]>([
    ["QDCOUNT 2", raw([2, 0, 0, 0], [...label("a"), 0, ...A_IN, ...label("b"), 0, ...A_IN]), "question count 2, expected 1"],
    ["QDCOUNT 0", raw([0, 0, 0, 0], []), "question count 0, expected 1"],
    ["answers in a query", raw([1, 1, 0, 0], [0, ...A_IN, 0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0]), "answer count 1 in a query"],
    ["authority in a query", raw([1, 0, 1, 0], [0, ...A_IN, 0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0]), "authority count 1 in a query"],
    ["two additionals", raw([1, 0, 0, 2], [0, ...A_IN, ...new Array<number>(22).fill(0)]), "additional count 2 without a TSIG record"],
    ["counts the packet cannot hold", raw([1, 0, 0, 40], [0, ...A_IN]), "counts (qd 1, an 0, ns 0, ar 40) need more than the 17 bytes sent"],
    ["huge counts", raw([0xffff, 0xffff, 0xffff, 0xffff], [0, ...A_IN]), "counts (qd 65535, an 65535, ns 65535, ar 65535) need more than the 17 bytes sent"],
    ["self pointer (loop)", raw([1, 0, 0, 0], [0xc0, 12, ...A_IN]), "question name: compression pointer to 12 does not point backwards"],
    ["forward pointer", raw([1, 0, 0, 0], [0xc0, 14, 0xc0, 12, ...A_IN]), "question name: compression pointer to 14 does not point backwards"],
    ["pointer out of bounds", raw([1, 0, 0, 0], [0xff, 0xff, ...A_IN]), "question name: compression pointer to 16383 does not point backwards"],
    ["pointer into the header", raw([1, 0, 0, 0], [...label("a"), 0xc0, 2, ...A_IN]), "question name: compression pointer to 2 points into the header"],
    ["label length 64", raw([1, 0, 0, 0], [64, ...new Array<number>(64).fill(0x61), 0, ...A_IN]), "question name: label type 0x40 is not supported (length byte 64 > 63)"],
    ["name over 255 bytes", raw([1, 0, 0, 0], [...[1, 2, 3, 4, 5].flatMap(() => label("a".repeat(60))), 0, ...A_IN]), "question name: name longer than 255 bytes"],
    ["label past the end", raw([1, 0, 0, 0], [10, 0x61, 0x61, 0, 0]), "question name: label runs past the end of the message"],
    ["type cut off", raw([1, 0, 0, 0], [...label("a"), 0, 0, 1]), "question type and class cut off"],
    ["trailing bytes", raw([1, 0, 0, 0], [0, ...A_IN, 0xde, 0xad]), "2 bytes after the last record"],
    ["question type OPT", raw([1, 0, 0, 0], [0, 0, 41, 0, 1]), "question type OPT"],
    ["OPT owner not root", raw([1, 0, 0, 1], [0, ...A_IN, ...label("x"), 0, 0, 41, 16, 0, 0, 0, 0, 0, 0, 0]), "OPT record owner is not the root"],
    ["OPT option overrun", raw([1, 0, 0, 1], [0, ...A_IN, 0, 0, 41, 16, 0, 0, 0, 0, 0, 0, 6, 0, 10, 0, 9, 1, 2]), "EDNS option runs past the OPT record"],
    ["OPT rdata past the end", raw([1, 0, 0, 1], [0, ...A_IN, 0, 0, 41, 16, 0, 0, 0, 0, 0, 0, 9]), "additional record data runs past the end"],
  ])("FORMERR: %s", (_what, buf, reason) => {
    expect(rejection(buf)).toEqual({ reason, rcode: "FORMERR", id: 0x0102 });
  });

  it("random bytes: 2,000 seeded buffers are rejected with a reason, never thrown", () => {
    let seed = 12345;
    const next = (): number => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) >> 8;
    for (let i = 0; i < 2000; i++) {
      const buf = Buffer.from(Array.from({ length: 12 + (next() % 200) }, () => next() & 0xff));
      const r = parseQuery(buf);
      if (!r.ok) expect(r.reason.length).toBeGreaterThan(0);
      if (!r.ok && r.rcode) expect(errorResponse(buf, r)?.readUInt16BE(0)).toBe(buf.readUInt16BE(0));
    }
  });

  it("dns-packet's own decoder also refuses the loop and forward pointer (it throws, it does not hang)", () => {
    expect(() => dnsPacket.decode(raw([1, 0, 0, 0], [0xc0, 12, ...A_IN]))).toThrow(/bad pointer/);
    expect(() => dnsPacket.decode(raw([1, 0, 0, 0], [0xc0, 14, 0xc0, 12, ...A_IN]))).toThrow(/bad pointer/);
  });

  it("IXFR with the client's SOA in the authority section parses (issue 16, defect 2); other authority records stay FORMERR", () => {
    const soa = { name: "spartan", type: "SOA" as const, ttl: 60, data: { mname: "ns.spartan", rname: "root.spartan", serial: 1, refresh: 60, retry: 60, expire: 60, minimum: 60 } };
    const ixfr = dnsPacket.encode({ type: "query", id: 8, questions: [{ name: "spartan", type: "IXFR" }], authorities: [soa] });
    expect(parseQuery(ixfr)).toMatchObject({ ok: true, query: { id: 8, question: { name: "spartan", type: "IXFR", class: "IN" } } });
    const withEdns = dnsPacket.encode({ type: "query", id: 8, questions: [{ name: "spartan", type: "IXFR" }], authorities: [soa], additionals: [{ type: "OPT", name: ".", udpPayloadSize: 1232, extendedRcode: 0, ednsVersion: 0, flags: 0, flag_do: false, options: [] }] });
    expect(parseQuery(withEdns)).toMatchObject({ ok: true, query: { edns: { udpSize: 1232, version: 0 } } });
    const asA = dnsPacket.encode({ type: "query", id: 8, questions: [{ name: "spartan", type: "A" }], authorities: [soa] });
    expect(rejection(asA)).toMatchObject({ rcode: "FORMERR", reason: "authority count 1 in a query" });
    const two = dnsPacket.encode({ type: "query", id: 8, questions: [{ name: "spartan", type: "IXFR" }], authorities: [soa, soa] });
    expect(rejection(two)).toMatchObject({ rcode: "FORMERR", reason: "authority count 2 in a query" });
    expect(rejection(ixfr.subarray(0, ixfr.length - 3))).toMatchObject({ rcode: "FORMERR", reason: "authority record data runs past the end" });
  });

  it("answers EDNS version 1 with BADVERS", () => {
    const buf = queryBuf("a.mesos", "A", { edns: { version: 1 } });
    expect(rejection(buf)).toMatchObject({ rcode: "BADVERS", reason: "EDNS version 1 is not supported" });
  });
});

describe("errorResponse", () => {
  it("echoes id, opcode, RD and the question for NOTIMP", () => {
    const buf = raw([1, 0, 0, 0], [...label("x"), 0, ...A_IN], (5 << 11) | 0x0100);
    const r = parseQuery(buf);
    if (r.ok) throw new Error("expected NOTIMP");
    const out = errorResponse(buf, r);
    expect(out).toBeDefined();
    const d = decode(out as Buffer);
    expect({ id: d.id, rcode: d.rcode, qr: d.flag_qr, rd: d.flag_rd, opcode: (d as unknown as { opcode: string }).opcode }).toEqual({ id: 0x0102, rcode: "NOTIMP", qr: true, rd: true, opcode: "UPDATE" });
    expect(d.questions).toEqual([{ name: "x", type: "A", class: "IN" }]);
  });

  it("leaves out a question it cannot parse", () => {
    const out = errorResponse(raw([1, 0, 0, 0], [0xc0, 12, ...A_IN]), "FORMERR") as Buffer;
    expect(decode(out)).toMatchObject({ id: 0x0102, rcode: "FORMERR", questions: [] });
  });

  it("returns nothing for a drop, a short packet or a response", () => {
    expect(errorResponse(Buffer.from([1, 2]), "FORMERR")).toBeUndefined();
    expect(errorResponse(raw([1, 0, 0, 0], [0, ...A_IN], 0x8000), "FORMERR")).toBeUndefined();
    expect(errorResponse(Buffer.alloc(20), { ok: false, reason: "x", formerr: false })).toBeUndefined();
  });

  it("SERVFAIL for a valid query keeps the question and answers EDNS with EDNS", () => {
    const buf = queryBuf("Www.Example.com", "AAAA", { id: 9, edns: { udpSize: 1400, do: true } });
    const d = decode(errorResponse(buf, { ok: false, reason: "upstreams down", id: 9, formerr: false, rcode: "SERVFAIL" }, { recursionAvailable: true }) as Buffer);
    expect(d).toMatchObject({ id: 9, rcode: "SERVFAIL", questions: [{ name: "Www.Example.com", type: "AAAA", class: "IN" }] });
    expect(d.additionals).toMatchObject([{ type: "OPT", udpPayloadSize: 1232, flag_do: true }]);
    expect(d.flag_ra).toBe(true);
  });

  it("REFUSED from a parsed query without EDNS has no OPT", () => {
    const d = decode(errorResponse(parsed(queryBuf("x.example", "A", { id: 3 })), "REFUSED", { recursionAvailable: false }) as Buffer);
    expect(d).toMatchObject({ id: 3, rcode: "REFUSED", additionals: [], flag_ra: false, flag_aa: false });
  });

  it("BADVERS carries the extended RCODE in an OPT of version 0", () => {
    const buf = queryBuf("a.mesos", "A", { id: 5, edns: { version: 1 } });
    const r = parseQuery(buf);
    if (r.ok) throw new Error("expected BADVERS");
    const d = decode(errorResponse(buf, r) as Buffer);
    expect(d.rcode).toBe("NOERROR"); // low 4 bits of 16
    expect(d.additionals).toMatchObject([{ type: "OPT", extendedRcode: 1, ednsVersion: 0 }]);
    expect(d.questions).toEqual([{ name: "a.mesos", type: "A", class: "IN" }]);
  });
});
