// Forwarder against real unbound servers (and scripted fakes) on 127.0.0.1. Nothing here sends a
// packet off the loopback: the unbounds serve a static root zone and never recurse.
import { afterAll, afterEach, beforeAll, describe, expect, it } from "@jest/globals";
import { Forwarder, type ForwardEvent, type ForwarderOptions, type ForwardRequest } from "./forwarder.js";
import type { DnsTransport } from "../wire/index.js";
import { decodeReply, freePort, haveUnbound, makeQuery, makeReply, startFakeUdp, startUnbound, waitFor, type FakeUdp, type QueryOptions, type UnboundServer } from "../../../testkit/dns/servers.js";

const SOA = (zone: string, minimum: number): string => `${zone}. 60 IN SOA ns1.${zone}. hostmaster.${zone}. 1 60 600 86400 ${minimum}`;

const request = (name: string, transport: DnsTransport = "udp", opts: QueryOptions = {}): ForwardRequest => ({
  query: makeQuery(name, opts),
  name,
  type: opts.type ?? "A",
  transport,
});

class Clock {
  t = 1_700_000_000_000;
  now = (): number => this.t;
}

const d = haveUnbound ? describe : describe.skip;

d("Forwarder against unbound", () => {
  let A: UnboundServer;
  let B: UnboundServer;
  const forwarders: Forwarder[] = [];
  const cleanups: Array<() => Promise<void>> = [];
  const make = (opts: ForwarderOptions): Forwarder => {
    const f = new Forwarder(opts);
    forwarders.push(f);
    return f;
  };
  const fake = async (handler?: Parameters<typeof startFakeUdp>[0]): Promise<FakeUdp> => {
    const f = await startFakeUdp(handler);
    cleanups.push(() => f.close());
    return f;
  };

  beforeAll(async () => {
    [A, B] = await Promise.all([
      startUnbound({
        localZones: ['"example.test." static', '"corp.example." static'],
        localData: [
          SOA("example.test", 7),
          "www.example.test. 60 IN A 10.0.0.10",
          ...Array.from({ length: 40 }, (_, i) => `many.example.test. 60 IN A 10.1.0.${i}`),
          SOA("corp.example", 7),
          "app.corp.example. 60 IN A 10.0.0.1",
        ],
      }),
      startUnbound({
        localZones: ['"corp.example." static'],
        localData: [SOA("corp.example", 7), "app.corp.example. 60 IN A 10.0.0.2", "x.app.corp.example. 60 IN A 10.0.0.3"],
      }),
    ]);
  }, 20_000);

  afterEach(async () => {
    for (const f of forwarders.splice(0)) f.close();
    for (const c of cleanups.splice(0)) await c();
  });

  afterAll(async () => {
    await Promise.all([A?.stop(), B?.stop()]);
  }, 20_000);

  it("answers over UDP and over TCP, relaying the upstream's reply with the client's id", async () => {
    const events: ForwardEvent[] = [];
    const f = make({ upstreams: [A.key], onEvent: (e) => events.push(e) });
    const udp = await f.forward(request("www.example.test", "udp", { id: 1111 }));
    expect(udp).toMatchObject({ rcode: "NOERROR", cached: false, upstream: A.key, zone: "." });
    const du = decodeReply(udp.reply);
    expect(du.id).toBe(1111);
    expect(du.answers?.map((a) => a.data)).toEqual(["10.0.0.10"]);

    const tcp = await f.forward(request("many.example.test", "tcp", { id: 2222 }));
    expect(tcp).toMatchObject({ rcode: "NOERROR", cached: false, upstream: A.key });
    const dt = decodeReply(tcp.reply);
    expect(dt.id).toBe(2222);
    expect(dt.answers).toHaveLength(40);
    expect(events).toContainEqual(expect.objectContaining({ type: "upstream-reply", upstream: A.key, transport: "tcp", zone: "." }));
    expect(events).toContainEqual({ type: "cache", hit: false });
  });

  it("passes a truncated UDP reply through, uncached; the TCP answer serves big-enough UDP clients", async () => {
    const f = make({ upstreams: [A.key] });
    const tc = await f.forward(request("many.example.test", "udp", { id: 3 }));
    expect(tc.cached).toBe(false);
    expect(decodeReply(tc.reply).flag_tc).toBe(true);
    const again = await f.forward(request("many.example.test", "udp", { id: 4 }));
    expect(again.cached).toBe(false);
    expect(decodeReply(again.reply).flag_tc).toBe(true);

    // Learn the full answer over TCP: a 512-byte UDP client still gets it truncated from upstream,
    // a client advertising 4096 bytes gets the cached full copy.
    await f.forward(request("many.example.test", "tcp"));
    expect((await f.forward(request("many.example.test", "udp"))).cached).toBe(false);
    const big = await f.forward(request("many.example.test", "udp", { udpSize: 4096 }));
    expect(big.cached).toBe(true);
    expect(decodeReply(big.reply).answers).toHaveLength(40);
  });

  it("races: a black-hole upstream costs nothing, and is then counted as failed", async () => {
    const hole = await fake();
    const events: ForwardEvent[] = [];
    const f = make({ upstreams: [hole.key, A.key], upstreamTimeoutMs: 2000, onEvent: (e) => events.push(e) });
    const started = Date.now();
    const r = await f.forward(request("www.example.test"));
    expect(Date.now() - started).toBeLessThan(1000);
    expect(r).toMatchObject({ rcode: "NOERROR", upstream: A.key });
    expect(hole.received).toHaveLength(1);
    // The losing attempt runs to its own timeout so the failure is still recorded.
    await waitFor(() => events.some((e) => e.type === "upstream-failure" && e.upstream === hole.key), 4000, "hole failure");
    expect(events).toContainEqual({ type: "upstream-failure", upstream: hole.key, transport: "udp", zone: ".", reason: "timeout" });
    expect(events).toContainEqual({ type: "health", upstream: hole.key, healthy: false });
    expect(f.stats().upstreams).toEqual([
      { upstream: hole.key, healthy: false, failures: 1 },
      { upstream: A.key, healthy: true, failures: 0 },
    ]);
  }, 10_000);

  it("answers from the live upstream while one is down, probes the dead one, and takes it back", async () => {
    const port = await freePort();
    const downKey = `127.0.0.1:${port}`;
    const events: ForwardEvent[] = [];
    const f = make({ upstreams: [downKey, A.key], upstreamTimeoutMs: 300, probeIntervalMs: 50, cache: { maxEntries: 0 }, onEvent: (e) => events.push(e) });
    const r = await f.forward(request("www.example.test"));
    expect(r).toMatchObject({ rcode: "NOERROR", upstream: A.key });
    await waitFor(() => events.some((e) => e.type === "health" && e.upstream === downKey && !e.healthy), 3000, "marked unhealthy");
    expect(events.find((e) => e.type === "upstream-failure")).toMatchObject({ upstream: downKey, reason: expect.stringMatching(/^(timeout|error)$/) });
    expect(f.stats().upstreams.find((u) => u.upstream === downKey)).toEqual({ upstream: downKey, healthy: false, failures: 1 });
    // While unhealthy it is skipped: the next query does not wait for it or count against it.
    expect((await f.forward(request("www.example.test"))).upstream).toBe(A.key);

    const back = await startUnbound({ port });
    try {
      await waitFor(() => events.some((e) => e.type === "health" && e.upstream === downKey && e.healthy), 5000, "healthy again");
      expect(f.stats().upstreams.find((u) => u.upstream === downKey)?.healthy).toBe(true);
    } finally {
      await back.stop();
    }
  }, 20_000);

  it("answers SERVFAIL within the query timeout when every upstream is down", async () => {
    const [p1, p2] = [await freePort(), await freePort()];
    const f = make({ upstreams: [`127.0.0.1:${p1}`, `127.0.0.1:${p2}`], upstreamTimeoutMs: 500, queryTimeoutMs: 1500 });
    const started = Date.now();
    const r = await f.forward(request("Www.Example.Test", "udp", { id: 4321 }));
    expect(Date.now() - started).toBeLessThan(1500 + 1000);
    expect(r).toMatchObject({ rcode: "SERVFAIL", cached: false, zone: "." });
    expect(r.upstream).toBeUndefined();
    const dr = decodeReply(r.reply);
    expect(dr).toMatchObject({ id: 4321, rcode: "SERVFAIL", flag_qr: true, flag_ra: true, flag_rd: true });
    expect(dr.questions).toEqual([{ name: "Www.Example.Test", type: "A", class: "IN" }]);

    // TCP to closed ports fails fast (connection refused), same SERVFAIL.
    const t = await f.forward(request("www.example.test", "tcp"));
    expect(t.rcode).toBe("SERVFAIL");
  }, 10_000);

  it("with 3+ upstreams, tries the untried ones when the first pair fails, still within the query timeout", async () => {
    const holes = await Promise.all([fake(), fake(), fake(), fake()]);
    const f = make({ upstreams: holes.map((h) => h.key), upstreamTimeoutMs: 300, queryTimeoutMs: 1000 });
    const started = Date.now();
    const r = await f.forward(request("www.example.test"));
    expect(Date.now() - started).toBeLessThan(1000 + 1000);
    expect(r.rcode).toBe("SERVFAIL");
    expect(holes.map((h) => h.received.length)).toEqual([1, 1, 1, 1]);
  }, 10_000);

  it("serves the second query from the cache with decremented TTLs after the upstream went away", async () => {
    const clock = new Clock();
    const C = await startUnbound({ localZones: ['"cached.test." static'], localData: [SOA("cached.test", 7), "www.cached.test. 60 IN A 10.0.0.60"] });
    const events: ForwardEvent[] = [];
    const f = make({ upstreams: [C.key], now: clock.now, upstreamTimeoutMs: 300, queryTimeoutMs: 600, onEvent: (e) => events.push(e) });
    const first = await f.forward(request("www.cached.test", "udp", { id: 1 }));
    expect(first).toMatchObject({ rcode: "NOERROR", cached: false, upstream: C.key });
    expect(decodeReply(first.reply).answers?.[0]?.ttl).toBe(60);
    await C.stop();

    clock.t += 3_500;
    const second = await f.forward(request("WWW.cached.test", "udp", { id: 2 }));
    expect(second).toMatchObject({ rcode: "NOERROR", cached: true, zone: "." });
    expect(second.upstream).toBeUndefined();
    const d2 = decodeReply(second.reply);
    expect(d2.id).toBe(2);
    expect(d2.questions?.[0]?.name).toBe("WWW.cached.test");
    expect(d2.answers?.map((a) => [a.data, a.ttl])).toEqual([["10.0.0.60", 57]]);
    expect(f.stats().cache).toEqual({ size: 1, maxEntries: 10_000 });

    clock.t += 60_000;
    const third = await f.forward(request("www.cached.test"));
    expect(third).toMatchObject({ rcode: "SERVFAIL", cached: false });
    expect(events.filter((e) => e.type === "cache")).toEqual([
      { type: "cache", hit: false },
      { type: "cache", hit: true },
      { type: "cache", hit: false },
    ]);
  }, 15_000);

  it("caches NXDOMAIN for the SOA minimum (and no longer than maxNegativeTtlS)", async () => {
    const clock = new Clock();
    const f = make({ upstreams: [A.key], now: clock.now });
    const r1 = await f.forward(request("nope.example.test"));
    expect(r1).toMatchObject({ rcode: "NXDOMAIN", cached: false });
    const soa = decodeReply(r1.reply).authorities?.[0];
    expect(soa).toMatchObject({ type: "SOA", ttl: 7, data: { minimum: 7 } });
    clock.t += 6_000;
    const r2 = await f.forward(request("nope.example.test", "udp", { id: 9 }));
    expect(r2).toMatchObject({ rcode: "NXDOMAIN", cached: true });
    expect(decodeReply(r2.reply).authorities?.[0]?.ttl).toBe(1);
    clock.t += 1_000;
    expect((await f.forward(request("nope.example.test"))).cached).toBe(false);

    const capped = make({ upstreams: [A.key], now: clock.now, cache: { maxNegativeTtlS: 2 } });
    await capped.forward(request("nope.example.test"));
    clock.t += 1_999;
    expect((await capped.forward(request("nope.example.test"))).cached).toBe(true);
    clock.t += 1;
    expect((await capped.forward(request("nope.example.test"))).cached).toBe(false);

    const off = make({ upstreams: [A.key], cache: { maxEntries: 0 } });
    await off.forward(request("www.example.test"));
    expect((await off.forward(request("www.example.test"))).cached).toBe(false);
  });

  it("routes by the longest forward zone, on label boundaries", async () => {
    const f = make({ upstreams: [A.key], forwardZones: { "Corp.Example.": [B.key], "deeper.app.corp.example": [] } });
    const corp = await f.forward(request("app.corp.example"));
    expect(corp).toMatchObject({ rcode: "NOERROR", upstream: B.key, zone: "corp.example" });
    expect(decodeReply(corp.reply).answers?.map((a) => a.data)).toEqual(["10.0.0.2"]);
    const sub = await f.forward(request("X.App.Corp.Example."));
    expect(sub).toMatchObject({ upstream: B.key, zone: "corp.example" });
    expect(decodeReply(sub.reply).answers?.map((a) => a.data)).toEqual(["10.0.0.3"]);
    expect(await f.forward(request("www.example.test"))).toMatchObject({ upstream: A.key, zone: "." });
    expect(await f.forward(request("app.notcorp.example"))).toMatchObject({ rcode: "NXDOMAIN", upstream: A.key, zone: "." });
    // A zone configured with no upstreams refuses its names rather than leaking them upstream.
    expect(await f.forward(request("a.deeper.app.corp.example"))).toMatchObject({ rcode: "REFUSED", zone: "deeper.app.corp.example" });
  });

  it("refuses names with no upstream configured", async () => {
    const none = make({ upstreams: [] });
    const r = await none.forward(request("www.example.test", "udp", { id: 55 }));
    expect(r).toMatchObject({ rcode: "REFUSED", cached: false, zone: "." });
    expect(decodeReply(r.reply)).toMatchObject({ id: 55, rcode: "REFUSED", flag_qr: true });
    const zonesOnly = make({ upstreams: [], forwardZones: { "corp.example": [B.key] } });
    expect((await zonesOnly.forward(request("www.example.test"))).rcode).toBe("REFUSED");
    expect(await zonesOnly.forward(request("app.corp.example"))).toMatchObject({ rcode: "NOERROR", upstream: B.key });
  });

  it("RA: clear on REFUSED for a name nobody forwards, set on our SERVFAIL for a routed name (issue 16, defect 1)", async () => {
    const none = make({ upstreams: [] });
    expect(none.recurses).toBe(false);
    expect(decodeReply((await none.forward(request("www.example.test"))).reply)).toMatchObject({ rcode: "REFUSED", flag_ra: false });
    const zonesOnly = make({ upstreams: [], forwardZones: { "corp.example": [B.key] } });
    expect(zonesOnly.recurses).toBe(true);
    expect(decodeReply((await zonesOnly.forward(request("www.example.test"))).reply)).toMatchObject({ rcode: "REFUSED", flag_ra: false });
    zonesOnly.close();
    expect(decodeReply((await zonesOnly.forward(request("app.corp.example"))).reply)).toMatchObject({ rcode: "SERVFAIL", flag_ra: true });
  });

  it("ignores a spoofed reply with the wrong id and takes the real one", async () => {
    const liar = await fake((msg, rinfo, sock) => {
      const id = msg.readUInt16BE(0);
      sock.send(makeReply(msg, { id: id ^ 0x5a5a, a: [["www.example.test", "6.6.6.6", 60]] }), rinfo.port, rinfo.address);
      setTimeout(() => sock.send(makeReply(msg, { a: [["www.example.test", "10.7.7.7", 60]] }), rinfo.port, rinfo.address), 20);
    });
    const f = make({ upstreams: [liar.key] });
    const r = await f.forward(request("www.example.test", "udp", { id: 8 }));
    expect(decodeReply(r.reply).answers?.map((a) => a.data)).toEqual(["10.7.7.7"]);
    expect(decodeReply(r.reply).id).toBe(8);
    expect(f.stats().transport.droppedUdp).toBe(1);
  });

  it("does not let a fast SERVFAIL beat a real answer, but relays it when nothing better comes", async () => {
    const broken = await fake((msg, rinfo, sock) => sock.send(makeReply(msg, { rcode: 2 }), rinfo.port, rinfo.address));
    const events: ForwardEvent[] = [];
    const f = make({ upstreams: [broken.key, A.key], onEvent: (e) => events.push(e) });
    expect(await f.forward(request("www.example.test"))).toMatchObject({ rcode: "NOERROR", upstream: A.key });
    await waitFor(() => events.some((e) => e.type === "upstream-failure"), 2000, "servfail counted");
    expect(events).toContainEqual({ type: "upstream-failure", upstream: broken.key, transport: "udp", zone: ".", reason: "servfail" });
    // A SERVFAIL proves the upstream is reachable: no health change.
    expect(events.some((e) => e.type === "health")).toBe(false);

    const hole = await fake();
    const g = make({ upstreams: [broken.key, hole.key], upstreamTimeoutMs: 300 });
    const r = await g.forward(request("www.example.test"));
    expect(r).toMatchObject({ rcode: "SERVFAIL", upstream: broken.key, cached: false });
    expect((await g.forward(request("www.example.test"))).cached).toBe(false);
  });

  it("rejects bad configuration and answers SERVFAIL after close", async () => {
    expect(() => new Forwarder({ upstreams: ["not-an-ip"] })).toThrow(/not an IP address/);
    expect(() => new Forwarder({ upstreams: [], forwardZones: { x: ["10.0.0.1:99999"] } })).toThrow(/out of range/);
    expect(() => new Forwarder({ upstreams: [], queryTimeoutMs: 0 })).toThrow(RangeError);
    const f = make({ upstreams: [A.key] });
    f.close();
    f.close();
    expect((await f.forward(request("www.example.test"))).rcode).toBe("SERVFAIL");
    expect((await f.forward({ query: Buffer.from([1, 2]), name: "", type: "A", transport: "udp" })).rcode).toBe("FORMERR");
  });
});
