// ResponseCache: keyed on the raw query after the id, id patched on a hit, rotation variants,
// generation and size bounds. A hit must not touch dns-packet at all.
import { describe, expect, it, jest } from "@jest/globals";
import dnsPacket from "dns-packet";
import { answerQuery, type Answered } from "./answer.js";
import { encodeResponse } from "./encode.js";
import { ResponseCache } from "./response-cache.js";
import { fixtureZones, parsed, queryBuf } from "../../../testkit/dns/wire.js";
import type { DnsTransport } from "./types.js";
import { renderVariants } from "./variants.js";

const zs = fixtureZones(7);
const APP = "app.marathon.agentip.dcos.thisdcos.directory";
const meta = { type: "A", rcode: "NOERROR", zone: "dcos.thisdcos.directory" };

function answer(buf: Buffer, rotation: "round_robin" | "off" = "off"): Answered {
  const a = answerQuery(zs, parsed(buf), { rotation });
  if (a.kind !== "answer") throw new Error("not ours");
  return a;
}
const encode = (buf: Buffer, transport: DnsTransport = "udp", rotation: "round_robin" | "off" = "off"): Buffer =>
  encodeResponse(answer(buf, rotation).packet, { transport, query: parsed(buf) });

describe("ResponseCache", () => {
  it("a hit is the stored reply with the new query's id, and does not call dns-packet", () => {
    const cache = new ResponseCache({ rotation: "off" });
    const first = queryBuf(APP, "A", { id: 1 });
    cache.put(first, 7, "udp", encode(first), meta);
    const again = queryBuf(APP, "A", { id: 0xbeef });
    const spies = [jest.spyOn(dnsPacket, "encode"), jest.spyOn(dnsPacket, "decode"), jest.spyOn(dnsPacket, "encodingLength")];
    const hit = cache.get(again, 7, "udp");
    for (const s of spies) {
      expect(s).not.toHaveBeenCalled();
      s.mockRestore();
    }
    expect(hit).toMatchObject(meta);
    expect(hit?.reply).toEqual(encode(queryBuf(APP, "A", { id: 0xbeef })));
    expect(hit?.reply.readUInt16BE(0)).toBe(0xbeef);
  });

  it("returns a fresh copy each time (safe for an async send)", () => {
    const cache = new ResponseCache();
    const q = queryBuf(APP);
    cache.put(q, 7, "udp", encode(q), meta);
    const a = cache.get(q, 7, "udp")?.reply as Buffer;
    a.fill(0);
    expect(cache.get(q, 7, "udp")?.reply).toEqual(encode(q));
  });

  it("keys on everything after the id: flags, case, type, EDNS, transport", () => {
    const cache = new ResponseCache();
    const q = queryBuf(APP, "A", { id: 5 });
    cache.put(q, 7, "udp", encode(q), meta);
    expect(cache.get(queryBuf(APP, "A", { id: 6 }), 7, "udp")).toBeDefined();
    for (const other of [queryBuf(APP, "A", { rd: false }), queryBuf(APP.toUpperCase()), queryBuf(APP, "AAAA"), queryBuf(APP, "A", { edns: {} })]) {
      expect(cache.get(other, 7, "udp")).toBeUndefined();
    }
    expect(cache.get(q, 7, "tcp")).toBeUndefined();
  });

  it("is cleared whole when the generation changes, whichever way", () => {
    const cache = new ResponseCache();
    const q = queryBuf(APP);
    cache.put(q, 7, "udp", encode(q), meta);
    expect(cache.get(q, 8, "udp")).toBeUndefined();
    expect(cache.size).toBe(0);
    // A late put computed from generation 7 must not be served under 8.
    cache.put(q, 7, "udp", encode(q), meta);
    expect(cache.get(q, 8, "udp")).toBeUndefined();
    cache.put(q, 8, "udp", encode(q), meta);
    expect(cache.get(q, 1, "udp")).toBeUndefined();
  });

  it("evicts the oldest entries past maxEntries", () => {
    const cache = new ResponseCache({ maxEntries: 2 });
    const qs = ["ready.spartan", APP, "web-2.dcos.thisdcos.directory"].map((n) => queryBuf(n));
    for (const q of qs) cache.put(q, 7, "udp", encode(q), meta);
    expect(cache.size).toBe(2);
    expect(qs.map((q) => cache.get(q, 7, "udp") !== undefined)).toEqual([false, true, true]);
  });

  it("maxEntries 0 (dns.answerCache: false) keeps nothing", () => {
    const cache = new ResponseCache({ maxEntries: 0 });
    const q = queryBuf(APP);
    cache.put(q, 7, "udp", encode(q), meta);
    expect(cache.size).toBe(0);
    expect(cache.get(q, 7, "udp")).toBeUndefined();
  });

  it("stays under maxBytes", () => {
    const cache = new ResponseCache({ maxBytes: 600 });
    const qs = ["ready.spartan", APP, "web-2.dcos.thisdcos.directory", "web-1.dcos.thisdcos.directory"].map((n) => queryBuf(n));
    for (const q of qs) cache.put(q, 7, "udp", encode(q), meta);
    expect(cache.stats().bytes).toBeLessThanOrEqual(600);
    expect(cache.get(qs[3] as Buffer, 7, "udp")).toBeDefined();
  });

  it("does not cache oversized or short keys", () => {
    const cache = new ResponseCache();
    cache.put(Buffer.alloc(600), 7, "udp", Buffer.alloc(20), meta);
    cache.put(Buffer.alloc(4), 7, "udp", Buffer.alloc(20), meta);
    expect(cache.size).toBe(0);
  });

  it("round_robin variants: a hit for id i equals a fresh answer for id i", () => {
    const cache = new ResponseCache({ rotation: "round_robin" });
    const first = queryBuf(APP, "A", { id: 100 });
    const a = answer(first, "round_robin");
    const variants = renderVariants(zs, parsed(first), a, { rotation: "round_robin", transport: "udp" });
    expect(variants).toHaveLength(3);
    cache.put(first, 7, "udp", variants, meta);
    const replies = [0, 1, 2, 3].map((id) => cache.get(queryBuf(APP, "A", { id }), 7, "udp")?.reply);
    expect(replies[0]).not.toEqual(replies[1]);
    for (const id of [0, 1, 2, 3]) expect(replies[id]).toEqual(encode(queryBuf(APP, "A", { id }), "udp", "round_robin"));
  });

  it("renderVariants caps the count and renders one reply when nothing rotates", () => {
    const q = queryBuf(APP, "A", { id: 1 });
    expect(renderVariants(zs, parsed(q), answer(q, "round_robin"), { rotation: "round_robin", transport: "udp", maxVariants: 2 })).toHaveLength(2);
    expect(renderVariants(zs, parsed(q), answer(q, "off"), { rotation: "off", transport: "udp" })).toHaveLength(1);
    const single = queryBuf("ready.spartan");
    expect(renderVariants(zs, parsed(single), answer(single, "round_robin"), { rotation: "round_robin", transport: "udp" })).toHaveLength(1);
  });

  it("random rotation picks variants with the given source", () => {
    const cache = new ResponseCache({ rotation: "random", random: () => 0.99 });
    const q = queryBuf(APP, "A", { id: 0 });
    const vs = [Buffer.from("aaaaaaaaaaaaaa"), Buffer.from("bbbbbbbbbbbbbb")];
    cache.put(q, 7, "udp", vs, meta);
    expect(cache.get(q, 7, "udp")?.reply.subarray(2).toString()).toBe("bbbbbbbbbbbb");
  });

  it("counts hits and misses", () => {
    const cache = new ResponseCache();
    const q = queryBuf(APP);
    cache.get(q, 7, "udp");
    cache.put(q, 7, "udp", encode(q), meta);
    cache.get(q, 7, "udp");
    expect(cache.stats()).toMatchObject({ hits: 1, misses: 1, entries: 1, generation: 7 });
  });
});
