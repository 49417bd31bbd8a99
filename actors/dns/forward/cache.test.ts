import { describe, expect, it } from "@jest/globals";
import dnsPacket, { type Answer } from "dns-packet";
import { cacheKey, cacheTtl, ForwardCache } from "./cache.js";
import { decodeReply, makeQuery } from "../../../testkit/dns/servers.js";

const RCODES = { NOERROR: 0, SERVFAIL: 2, NXDOMAIN: 3, REFUSED: 5 } as const;

const soa = (ttl: number, minimum: number): Answer => ({
  type: "SOA",
  name: "example.test",
  ttl,
  class: "IN",
  data: { mname: "ns1.example.test", rname: "hostmaster.example.test", serial: 1, refresh: 60, retry: 60, expire: 600, minimum },
});

function reply(
  query: Buffer,
  opts: { rcode?: keyof typeof RCODES; answers?: Answer[]; authorities?: Answer[]; tc?: boolean; opt?: boolean } = {},
): Buffer {
  const q = decodeReply(query);
  let flags = dnsPacket.RECURSION_DESIRED | dnsPacket.RECURSION_AVAILABLE | RCODES[opts.rcode ?? "NOERROR"];
  if (opts.tc === true) flags |= dnsPacket.TRUNCATED_RESPONSE;
  return dnsPacket.encode({
    type: "response",
    id: q.id ?? 0,
    flags,
    questions: q.questions ?? [],
    answers: opts.answers ?? [],
    authorities: opts.authorities ?? [],
    additionals: opts.opt === true ? [{ type: "OPT", name: ".", udpPayloadSize: 1232, extendedRcode: 0, ednsVersion: 0, flags: 0, flag_do: false, options: [] }] : [],
  });
}

const a = (name: string, data: string, ttl: number): Answer => ({ type: "A", name, data, ttl, class: "IN" });

class Clock {
  t = 1_000_000;
  now = (): number => this.t;
}

describe("cacheKey", () => {
  it("is case-insensitive on the name and distinguishes type, class, DO and CD", () => {
    const base = cacheKey(makeQuery("WWW.Example.TEST"));
    expect(base).toBe(cacheKey(makeQuery("www.example.test", { id: 9 })));
    expect(base).toBe(cacheKey(makeQuery("www.example.test", { udpSize: 4096 })));
    expect(base).not.toBe(cacheKey(makeQuery("www.example.test", { type: "AAAA" })));
    expect(base).not.toBe(cacheKey(makeQuery("www.example.test", { do: true })));
    expect(base).not.toBe(cacheKey(makeQuery("www.example.test", { cd: true })));
    const chaos = dnsPacket.encode({ type: "query", id: 1, questions: [{ type: "A", name: "www.example.test", class: "CH" }] });
    expect(base).not.toBe(cacheKey(chaos));
  });

  it("is undefined for what cannot be cached", () => {
    expect(cacheKey(Buffer.alloc(5))).toBeUndefined();
    expect(cacheKey(dnsPacket.encode({ type: "query", id: 1, questions: [] }))).toBeUndefined();
    const notify = makeQuery("example.test");
    notify.writeUInt16BE(notify.readUInt16BE(2) | (4 << 11), 2);
    expect(cacheKey(notify)).toBeUndefined();
  });

  it("does not confuse a dot inside a label with a label boundary", () => {
    const twoLabels = dnsPacket.encode({ type: "query", id: 1, questions: [{ type: "A", name: "a.b" }] });
    const oneLabel = Buffer.from(twoLabels);
    oneLabel[12] = 3;
    oneLabel.write("a.b", 13, "latin1");
    oneLabel[16] = 0;
    // Same bytes length, different label structure; decoders print both as "a.b".
    expect(cacheKey(oneLabel)).not.toBe(cacheKey(twoLabels));
  });
});

describe("cacheTtl", () => {
  const q = makeQuery("www.example.test");
  it("positive: min answer TTL, capped", () => {
    expect(cacheTtl(reply(q, { answers: [a("www.example.test", "10.0.0.1", 300), a("www.example.test", "10.0.0.2", 60)] }))).toBe(60);
    expect(cacheTtl(reply(q, { answers: [a("www.example.test", "10.0.0.1", 86400)] }))).toBe(3600);
    expect(cacheTtl(reply(q, { answers: [a("www.example.test", "10.0.0.1", 100)] }), { maxTtlS: 30, maxNegativeTtlS: 300 })).toBe(30);
    expect(cacheTtl(reply(q, { answers: [a("www.example.test", "10.0.0.1", 0)] }))).toBeUndefined();
  });

  it("negative: min(SOA TTL, SOA MINIMUM), capped; none without SOA", () => {
    expect(cacheTtl(reply(q, { rcode: "NXDOMAIN", authorities: [soa(3600, 7)] }))).toBe(7);
    expect(cacheTtl(reply(q, { rcode: "NXDOMAIN", authorities: [soa(5, 900)] }))).toBe(5);
    expect(cacheTtl(reply(q, { rcode: "NXDOMAIN", authorities: [soa(3600, 3600)] }))).toBe(300);
    expect(cacheTtl(reply(q, { rcode: "NOERROR", authorities: [soa(60, 20)] }))).toBe(20);
    expect(cacheTtl(reply(q, { rcode: "NXDOMAIN" }))).toBeUndefined();
    expect(cacheTtl(reply(q, { rcode: "NOERROR" }))).toBeUndefined();
  });

  it("never: SERVFAIL, REFUSED, truncated", () => {
    expect(cacheTtl(reply(q, { rcode: "SERVFAIL", authorities: [soa(60, 60)] }))).toBeUndefined();
    expect(cacheTtl(reply(q, { rcode: "REFUSED" }))).toBeUndefined();
    expect(cacheTtl(reply(q, { answers: [a("www.example.test", "10.0.0.1", 60)], tc: true }))).toBeUndefined();
    expect(cacheTtl(Buffer.from([1, 2, 3]))).toBeUndefined();
  });
});

describe("ForwardCache", () => {
  it("serves a hit with the client's id and spelling, TTLs down by whole elapsed seconds", () => {
    const clock = new Clock();
    const cache = new ForwardCache({ now: clock.now });
    const q1 = makeQuery("www.example.test", { id: 1, udpSize: 1232 });
    const r1 = reply(q1, { answers: [a("www.example.test", "10.0.0.1", 60), a("www.example.test", "10.0.0.2", 90)], authorities: [soa(120, 30)], opt: true });
    expect(cache.set(q1, r1)).toBe(true);
    expect(cache.size).toBe(1);
    clock.t += 2999;
    const q2 = makeQuery("WWW.example.TEST", { id: 777, udpSize: 1232 });
    const hit = cache.get(q2);
    expect(hit).toBeDefined();
    const d = decodeReply(hit as Buffer);
    expect(d.id).toBe(777);
    expect(d.questions?.[0]?.name).toBe("WWW.example.TEST");
    expect(d.answers?.map((x) => x.ttl)).toEqual([58, 88]);
    expect(d.authorities?.map((x) => x.ttl)).toEqual([118]);
    // OPT's TTL field is flags, not a TTL: untouched.
    expect(d.additionals?.[0]?.type).toBe("OPT");
    expect((hit as Buffer).subarray(-11)).toEqual(r1.subarray(-11));
    // The stored copy was not modified by the hit.
    clock.t += 1;
    expect(decodeReply(cache.get(q1) as Buffer).answers?.map((x) => x.ttl)).toEqual([57, 87]);
  });

  it("the OPT follows the query in hand, not the one that filled the cache (issue 16, defect 3)", () => {
    const answers = [a("www.example.test", "10.0.0.1", 60)];
    // filled by an EDNS query whose upstream reply carries an OPT with options (a cookie) and a 4096 size
    const cache = new ForwardCache();
    const edns = makeQuery("www.example.test", { udpSize: 4096 });
    const cookie = { type: "OPT" as const, name: ".", udpPayloadSize: 4096, extendedRcode: 0, ednsVersion: 0, flags: 0, flag_do: false, options: [{ code: 10, data: Buffer.alloc(24, 7) }] } as unknown as Answer;
    const withCookie = dnsPacket.encode({ type: "response", id: 4242, flags: dnsPacket.RECURSION_DESIRED | dnsPacket.RECURSION_AVAILABLE, questions: [{ type: "A", name: "www.example.test" }], answers, additionals: [cookie] });
    expect(cache.set(edns, withCookie)).toBe(true);
    const plain = decodeReply(cache.get(makeQuery("www.example.test")) as Buffer);
    expect([plain.answers?.length, plain.additionals]).toEqual([1, []]);
    const asked = dnsPacket.decode(cache.get(makeQuery("www.example.test", { udpSize: 1400 })) as Buffer);
    expect(asked.additionals).toMatchObject([{ type: "OPT", udpPayloadSize: 1232, ednsVersion: 0, extendedRcode: 0, options: [] }]);
    expect(asked.answers).toMatchObject([{ name: "www.example.test", ttl: 60 }]);
    // filled by a query without EDNS (no OPT in the reply): an EDNS client still gets one, with DO echoed
    const noEdns = new ForwardCache();
    const q = makeQuery("www.example.test", { do: true });
    expect(noEdns.set(q, reply(q, { answers, authorities: [soa(120, 30)] }))).toBe(true);
    const hit = dnsPacket.decode(noEdns.get(makeQuery("www.example.test", { do: true, udpSize: 512 })) as Buffer);
    expect(hit.additionals).toMatchObject([{ type: "OPT", udpPayloadSize: 1232, flag_do: true }]);
    expect(hit.authorities).toMatchObject([{ type: "SOA", ttl: 120 }]);
  });

  it("whether a hit fits is decided by the client in hand, OPT included (issue 16, defect 3)", () => {
    const name = "www.example.test";
    const q = makeQuery(name);
    const r = reply(q, { answers: Array.from({ length: 20 }, (_, i) => a(name, `10.0.0.${i}`, 60)) });
    const cache = new ForwardCache();
    expect(cache.set(q, r)).toBe(true);
    // a limit the bare answer fits in exactly: enough for a client without EDNS, 11 bytes short with our OPT
    expect(cache.get(q, r.length)).toHaveLength(r.length);
    expect(cache.get(makeQuery(name, { udpSize: 512 }), r.length + 10)).toBeUndefined();
    expect(cache.get(makeQuery(name, { udpSize: 512 }), r.length + 11)).toHaveLength(r.length + 11);
  });

  it("expires after the entry TTL", () => {
    const clock = new Clock();
    const cache = new ForwardCache({ now: clock.now });
    const q = makeQuery("nope.example.test");
    expect(cache.set(q, reply(q, { rcode: "NXDOMAIN", authorities: [soa(3600, 7)] }))).toBe(true);
    clock.t += 6999;
    const hit = cache.get(q) as Buffer;
    expect(decodeReply(hit).rcode).toBe("NXDOMAIN");
    expect(decodeReply(hit).authorities?.[0]?.ttl).toBe(3594);
    clock.t += 1;
    expect(cache.get(q)).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it("never stores uncacheable replies or replies to another question", () => {
    const cache = new ForwardCache();
    const q = makeQuery("www.example.test");
    expect(cache.set(q, reply(q, { rcode: "SERVFAIL" }))).toBe(false);
    expect(cache.set(q, reply(q, { answers: [a("www.example.test", "10.0.0.1", 60)], tc: true }))).toBe(false);
    const other = makeQuery("other.example.test");
    expect(cache.set(q, reply(other, { answers: [a("other.example.test", "10.0.0.1", 60)] }))).toBe(false);
    expect(cache.size).toBe(0);
  });

  it("evicts the least recently used entry", () => {
    const cache = new ForwardCache({ maxEntries: 2 });
    const qs = ["a.test", "b.test", "c.test"].map((n) => makeQuery(n));
    const put = (q: Buffer): boolean => cache.set(q, reply(q, { answers: [a(decodeReply(q).questions?.[0]?.name ?? "", "10.0.0.1", 60)] }));
    put(qs[0] as Buffer);
    put(qs[1] as Buffer);
    expect(cache.get(qs[0] as Buffer)).toBeDefined();
    put(qs[2] as Buffer);
    expect(cache.size).toBe(2);
    expect(cache.get(qs[1] as Buffer)).toBeUndefined();
    expect(cache.get(qs[0] as Buffer)).toBeDefined();
    expect(cache.get(qs[2] as Buffer)).toBeDefined();
  });

  it("is off with maxEntries 0, and misses when the entry exceeds the client's UDP limit", () => {
    const q = makeQuery("www.example.test");
    const r = reply(q, { answers: Array.from({ length: 40 }, (_, i) => a("www.example.test", `10.0.0.${i}`, 60)) });
    const off = new ForwardCache({ maxEntries: 0 });
    expect(off.set(q, r)).toBe(false);
    expect(off.get(q)).toBeUndefined();
    const cache = new ForwardCache();
    expect(cache.set(q, r)).toBe(true);
    expect(r.length).toBeGreaterThan(512);
    expect(cache.get(q, 512)).toBeUndefined();
    expect(cache.get(q, 4096)).toBeDefined();
  });
});
