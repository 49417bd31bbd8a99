import { afterEach, describe, expect, it } from "@jest/globals";
import { createSocket } from "node:dgram";
import { ExchangeError, ForwardTransport, exchangeTcp } from "./transport.js";
import { parseUpstream } from "./upstream.js";
import { decodeReply, freePort, frame, makeQuery, makeReply, startFakeTcp, startFakeUdp, type FakeTcp, type FakeUdp } from "../../../testkit/dns/servers.js";

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});
function track<T extends FakeUdp | FakeTcp | ForwardTransport>(x: T): T {
  cleanups.push(() => x.close());
  return x;
}

const reasonOf = async (p: Promise<unknown>): Promise<string> => {
  try {
    await p;
    return "resolved";
  } catch (e) {
    return e instanceof ExchangeError ? e.reason : `other: ${String(e)}`;
  }
};

describe("UDP exchange", () => {
  it("uses its own query id and hands back the reply with the caller's", async () => {
    const fake = track(await startFakeUdp((msg, rinfo, sock) => sock.send(makeReply(msg, { a: [["www.example.test", "10.0.0.1", 60]] }), rinfo.port, rinfo.address)));
    const t = track(new ForwardTransport());
    const ids = new Set<number>();
    for (let i = 0; i < 8; i++) {
      const reply = await t.exchangeUdp(parseUpstream(fake.key), makeQuery("www.example.test", { id: 1234 }), 1000);
      expect(reply.readUInt16BE(0)).toBe(1234);
      expect(decodeReply(reply).answers?.[0]).toMatchObject({ data: "10.0.0.1" });
    }
    for (const q of fake.received) ids.add(q.readUInt16BE(0));
    // Random 16-bit ids: 8 draws all equal to the client's id would be a bug, not bad luck.
    expect([...ids].some((id) => id !== 1234)).toBe(true);
    expect(t.stats()).toEqual({ pendingUdp: 0, pendingTcp: 0, droppedUdp: 0 });
  });

  it("ignores spoofed and mismatched datagrams and keeps waiting for the real reply", async () => {
    const intruder = createSocket("udp4");
    cleanups.push(() => new Promise<void>((r) => intruder.close(() => r())));
    const fake = track(
      await startFakeUdp((msg, rinfo, sock) => {
        const id = msg.readUInt16BE(0);
        const send = (b: Buffer): void => void sock.send(b, rinfo.port, rinfo.address);
        send(makeReply(msg, { id: (id + 1) & 0xffff, a: [["www.example.test", "6.6.6.1", 60]] })); // wrong id
        intruder.send(makeReply(msg, { a: [["www.example.test", "6.6.6.2", 60]] }), rinfo.port, rinfo.address); // wrong source port
        send(makeReply(msg, { name: "www.evil.test", a: [["www.evil.test", "6.6.6.3", 60]] })); // wrong question
        send(makeReply(msg, { qr: false })); // not a response
        send(Buffer.from([1, 2, 3])); // runt
        setTimeout(() => send(makeReply(msg, { a: [["www.example.test", "10.0.0.7", 60]] })), 30);
      }),
    );
    const t = track(new ForwardTransport({ udpPoolSize: 1 }));
    const reply = await t.exchangeUdp(parseUpstream(fake.key), makeQuery("www.example.test", { id: 77 }), 2000);
    expect(reply.readUInt16BE(0)).toBe(77);
    expect(decodeReply(reply).answers?.map((a) => a.data)).toEqual(["10.0.0.7"]);
    expect(t.stats().droppedUdp).toBe(5);
  });

  it("returns a truncated reply as is", async () => {
    const fake = track(await startFakeUdp((msg, rinfo, sock) => sock.send(makeReply(msg, { tc: true }), rinfo.port, rinfo.address)));
    const t = track(new ForwardTransport());
    const reply = await t.exchangeUdp(parseUpstream(fake.key), makeQuery("big.example.test"), 1000);
    expect(decodeReply(reply).flag_tc).toBe(true);
  });

  it("times out, honours abort, and fails everything on close", async () => {
    const hole = track(await startFakeUdp());
    const t = new ForwardTransport();
    const up = parseUpstream(hole.key);
    const started = Date.now();
    expect(await reasonOf(t.exchangeUdp(up, makeQuery("a.test"), 100))).toBe("timeout");
    expect(Date.now() - started).toBeGreaterThanOrEqual(90);
    const ac = new AbortController();
    const aborted = t.exchangeUdp(up, makeQuery("a.test"), 5000, ac.signal);
    ac.abort();
    expect(await reasonOf(aborted)).toBe("aborted");
    const pending = t.exchangeUdp(up, makeQuery("a.test"), 5000);
    expect(t.stats().pendingUdp).toBe(1);
    t.close();
    expect(await reasonOf(pending)).toBe("aborted");
    expect(await reasonOf(t.exchangeUdp(up, makeQuery("a.test"), 5000))).toBe("aborted");
  });
});

describe("TCP exchange", () => {
  it("frames the query and reassembles a reply arriving in pieces", async () => {
    const fake = track(
      await startFakeTcp((q, conn) => {
        const out = frame(makeReply(q, { a: [["www.example.test", "10.0.0.9", 60]] }));
        conn.write(out.subarray(0, 1));
        setTimeout(() => conn.write(out.subarray(1, 20)), 10);
        setTimeout(() => conn.write(out.subarray(20)), 20);
      }),
    );
    const reply = await exchangeTcp(parseUpstream(fake.key), makeQuery("www.example.test", { id: 99 }), 1000);
    expect(reply.readUInt16BE(0)).toBe(99);
    expect(decodeReply(reply).answers?.map((a) => a.data)).toEqual(["10.0.0.9"]);
  });

  it("rejects a reply to another question, a refused connection, and a silent server", async () => {
    const wrong = track(await startFakeTcp((q, conn) => conn.write(frame(makeReply(q, { name: "other.test" })))));
    expect(await reasonOf(exchangeTcp(parseUpstream(wrong.key), makeQuery("a.test"), 1000))).toBe("error");
    const closed = await freePort();
    expect(await reasonOf(exchangeTcp(parseUpstream(`127.0.0.1:${closed}`), makeQuery("a.test"), 1000))).toBe("error");
    const silent = track(await startFakeTcp(() => undefined));
    const t = track(new ForwardTransport());
    const started = Date.now();
    expect(await reasonOf(t.exchangeTcp(parseUpstream(silent.key), makeQuery("a.test"), 150))).toBe("timeout");
    expect(Date.now() - started).toBeLessThan(1150);
    expect(t.stats().pendingTcp).toBe(0);
  });
});
