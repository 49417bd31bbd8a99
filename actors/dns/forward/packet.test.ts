import { describe, expect, it } from "@jest/globals";
import { errorReply, PacketError, readQuestion, sameQuestion, soaMinimum, udpLimit, walkRecords } from "./packet.js";
import { decodeReply, makeQuery } from "../../../testkit/dns/servers.js";

describe("errorReply", () => {
  it("echoes id, RD and the question; sets QR, RA and the rcode", () => {
    const q = makeQuery("Www.Example.Test", { id: 31337 });
    const d = decodeReply(errorReply(q, "SERVFAIL", true));
    expect(d).toMatchObject({ id: 31337, type: "response", rcode: "SERVFAIL", flag_qr: true, flag_ra: true, flag_rd: true, flag_aa: false });
    expect(d.questions).toEqual([{ name: "Www.Example.Test", type: "A", class: "IN" }]);
    expect(d.answers).toEqual([]);
    expect(d.additionals).toEqual([]);
  });

  it("RA clear when the node will not recurse for the name (issue 16, defect 1)", () => {
    const d = decodeReply(errorReply(makeQuery("x.test"), "REFUSED", false));
    expect(d).toMatchObject({ rcode: "REFUSED", flag_ra: false, flag_rd: true });
  });

  it("answers EDNS with EDNS, copying DO", () => {
    const d = decodeReply(errorReply(makeQuery("x.test", { do: true }), "REFUSED", true));
    expect(d.rcode).toBe("REFUSED");
    expect(d.additionals).toHaveLength(1);
    expect(d.additionals?.[0]).toMatchObject({ type: "OPT", flag_do: true });
  });

  it("is byte for byte the reply the forwarder built before it used wire's errorResponse", () => {
    // Label bytes the wire layer escapes (".", "\", space, 0xff), mixed case, an unknown type and
    // class, CD and AD set, EDNS with DO and a 4096 payload size.
    const question = Buffer.from([4, 0x41, 0x2e, 0x5c, 0x20, 2, 0xff, 0x62, 0, 0xff, 0x00, 0x00, 0x09]);
    const opt = Buffer.from([0, 0, 41, 0x10, 0x00, 0, 0, 0x80, 0x00, 0, 0]);
    const query = Buffer.concat([Buffer.from([0x12, 0x34, 0x01, 0x30, 0, 1, 0, 0, 0, 0, 0, 1]), question, opt]);
    // QR | RD | RA | CD | SERVFAIL (AD dropped), the question verbatim, OPT: 1232, version 0, DO.
    const expected = Buffer.concat([Buffer.from([0x12, 0x34, 0x81, 0x92, 0, 1, 0, 0, 0, 0, 0, 1]), question, Buffer.from([0, 0, 41, 0x04, 0xd0, 0, 0, 0x80, 0x00, 0, 0])]);
    expect(errorReply(query, "SERVFAIL", true).toString("hex")).toBe(expected.toString("hex"));
  });

  it("copes with garbage: a bare header where the wire layer would drop the message", () => {
    const r = errorReply(Buffer.from([0xab, 0xcd, 0x01, 0x00, 0x00, 0x01]), "FORMERR", true);
    expect(r).toHaveLength(12);
    expect(r.readUInt16BE(0)).toBe(0xabcd);
    expect(r.readUInt16BE(2)).toBe(0x8000 | 0x0100 | 0x0080 | 1);
    const response = Buffer.from(makeQuery("x.test", { id: 7 }));
    response.writeUInt16BE(0x8100, 2);
    expect(errorReply(response, "REFUSED", true).toString("hex")).toBe("000781850000000000000000");
    expect(errorReply(response, "REFUSED", false).toString("hex")).toBe("000781050000000000000000");
  });
});

describe("walking", () => {
  it("follows compression pointers and finds TTLs and SOA minimum", () => {
    // Hand-compressed: answer name and SOA names point at the question name (offset 12).
    const q = makeQuery("example.test", { type: "SOA" });
    const header = Buffer.from(q.subarray(0, 12));
    header.writeUInt16BE(0x8180, 2);
    header.writeUInt16BE(1, 6);
    const question = q.subarray(12);
    const rdata = Buffer.concat([Buffer.from([3, 110, 115, 49, 0xc0, 12]), Buffer.from([0xc0, 12]), Buffer.alloc(20)]);
    rdata.writeUInt32BE(42, rdata.length - 4);
    const rrHead = Buffer.alloc(12);
    rrHead.writeUInt16BE(0xc00c, 0);
    rrHead.writeUInt16BE(6, 2);
    rrHead.writeUInt16BE(1, 4);
    rrHead.writeUInt32BE(99, 6);
    rrHead.writeUInt16BE(rdata.length, 10);
    const pkt = Buffer.concat([header, question, rrHead, rdata]);
    const decoded = decodeReply(pkt);
    expect(decoded.answers?.[0]).toMatchObject({ type: "SOA", name: "example.test", ttl: 99, data: { mname: "ns1.example.test", minimum: 42 } });
    const [rr] = walkRecords(pkt);
    expect(rr).toMatchObject({ section: "answer", type: 6, ttl: 99 });
    expect(soaMinimum(pkt, rr as NonNullable<typeof rr>)).toBe(42);
  });

  it("rejects truncated packets", () => {
    const q = makeQuery("example.test");
    expect(() => walkRecords(q.subarray(0, 20))).toThrow(PacketError);
    const missing = Buffer.from(q);
    missing.writeUInt16BE(1, 6); // claims an answer that is not there
    expect(() => walkRecords(missing)).toThrow(PacketError);
    expect(() => readQuestion(Buffer.alloc(12))).toThrow(/no question/);
  });

  it("compares questions case-insensitively", () => {
    expect(sameQuestion(makeQuery("A.b.C"), makeQuery("a.B.c", { id: 5 }))).toBe(true);
    expect(sameQuestion(makeQuery("a.b.c"), makeQuery("a.b.d"))).toBe(false);
    expect(sameQuestion(makeQuery("a.b.c"), makeQuery("a.b.c", { type: "AAAA" }))).toBe(false);
  });

  it("reads the client's UDP limit", () => {
    expect(udpLimit(makeQuery("a.test"))).toBe(512);
    expect(udpLimit(makeQuery("a.test", { udpSize: 4096 }))).toBe(4096);
    expect(udpLimit(makeQuery("a.test", { udpSize: 100 }))).toBe(512);
  });
});
