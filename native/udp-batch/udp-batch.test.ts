// The addon against real sockets on loopback: every datagram of a burst is answered to its own
// sender in batches, answers after the batch reach a kept peer, oversized datagrams are reported
// cut, bind errors carry their code, a closed socket stops answering and refuses calls, and receive
// errors reach the caller (a fatal one stops reading).
import { afterEach, describe, expect, it } from "@jest/globals";
import { createSocket, type Socket } from "node:dgram";
import { createRequire } from "node:module";
import type { BatchSocket, UdpBatchBinding } from "@dcnet/udp-batch";

const loaded = createRequire(import.meta.url)("@dcnet/udp-batch") as UdpBatchBinding | { loadError: string };
if ("loadError" in loaded) throw new Error(`the addon did not load (npm ci builds it): ${loaded.loadError}`);
const nb: UdpBatchBinding = loaded;

const open: BatchSocket[] = [];
const clients: Socket[] = [];
afterEach(() => {
  for (const s of open.splice(0)) nb.close(s);
  for (const c of clients.splice(0)) c.close();
});

function server(host = "127.0.0.1", batch = 16, slot = 512): { sock: BatchSocket; port: number; batches: number[]; replies: Array<Buffer | undefined> } {
  const sock = nb.open({ host, port: 0, batch, slot });
  open.push(sock);
  return { sock, port: nb.address(sock).port, batches: [], replies: new Array<Buffer | undefined>(batch) };
}

async function client(type: "udp4" | "udp6" = "udp4"): Promise<{ socket: Socket; got: Buffer[]; port: number }> {
  const socket = createSocket(type);
  clients.push(socket);
  const got: Buffer[] = [];
  socket.on("message", (m) => got.push(m));
  await new Promise<void>((r) => socket.bind(0, type === "udp4" ? "127.0.0.1" : "::1", r));
  return { socket, got, port: socket.address().port };
}

async function until(cond: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe("udp-batch", () => {
  it("answers a burst from several clients, each datagram to its own sender, in fewer calls than datagrams", async () => {
    const s = server();
    const rx = Buffer.from(s.sock.rx);
    const lens = new Int32Array(s.sock.lens);
    nb.start(
      s.sock,
      (n) => {
        s.batches.push(n);
        for (let i = 0; i < n; i++) s.replies[i] = Buffer.from(`re:${rx.toString("latin1", i * 512, i * 512 + (lens[i] as number))}`);
      },
      s.replies,
    );
    const cs = await Promise.all([client(), client(), client()]);
    // Sent in one synchronous loop, so they queue in the socket while the event loop is busy.
    for (let k = 0; k < 40; k++) for (const [j, c] of cs.entries()) c.socket.send(`c${j}-${k}`, s.port, "127.0.0.1");
    await until(() => cs.every((c) => c.got.length === 40));
    for (const [j, c] of cs.entries()) expect(c.got.map(String).sort()).toEqual(Array.from({ length: 40 }, (_, k) => `re:c${j}-${k}`).sort());
    const received = s.batches.reduce((a, b) => a + b, 0);
    expect(received).toBe(120);
    expect(s.batches.length).toBeLessThan(120);
    expect(Math.max(...s.batches)).toBeLessThanOrEqual(16);
    const st = nb.stats(s.sock);
    expect(st).toMatchObject({ received: 120, sent: 120, sendDropped: 0, truncated: 0 });
    expect(st.batches).toBe(s.batches.length);
  });

  it("a datagram left unanswered in its batch is answered later through its kept peer", async () => {
    const s = server();
    const kept: Buffer[] = [];
    nb.start(
      s.sock,
      (n) => {
        for (let i = 0; i < n; i++) {
          s.replies[i] = undefined;
          kept.push(nb.peer(s.sock, i));
        }
      },
      s.replies,
    );
    const c = await client();
    c.socket.send("later", s.port, "127.0.0.1");
    await until(() => kept.length === 1);
    expect(c.got).toHaveLength(0);
    // sockaddr_in: family, then the port in network order
    expect(kept[0]?.readUInt16BE(2)).toBe(c.port);
    expect(nb.sendTo(s.sock, Buffer.from("answer"), kept[0] as Buffer)).toBe(0);
    await until(() => c.got.length === 1);
    expect(String(c.got[0])).toBe("answer");
  });

  it("reports a datagram longer than a slot as cut (negative length) and keeps serving", async () => {
    const s = server();
    const lens = new Int32Array(s.sock.lens);
    const seen: number[] = [];
    nb.start(
      s.sock,
      (n) => {
        for (let i = 0; i < n; i++) {
          seen.push(lens[i] as number);
          s.replies[i] = (lens[i] as number) > 0 ? Buffer.from("ok") : undefined;
        }
      },
      s.replies,
    );
    const c = await client();
    c.socket.send(Buffer.alloc(2000, 1), s.port, "127.0.0.1");
    c.socket.send("small", s.port, "127.0.0.1");
    await until(() => seen.length === 2 && c.got.length === 1);
    expect(seen).toEqual([-2000, 5]);
    expect(nb.stats(s.sock).truncated).toBe(1);
  });

  it("tells how long each datagram waited in the socket while the event loop was busy", async () => {
    const s = server();
    const waits = new Int32Array(s.sock.waits);
    const seen: number[] = [];
    nb.start(
      s.sock,
      (n) => {
        for (let i = 0; i < n; i++) seen.push(waits[i] as number);
      },
      s.replies,
    );
    const c = await client();
    c.socket.send("idle", s.port, "127.0.0.1");
    await until(() => seen.length === 1);
    // Sent, then the event loop is kept busy for 80 ms before it can read them.
    // An identity lookup makes dgram send synchronously: both datagrams are in the server's socket
    // before the loop below keeps the event loop from reading them for 80 ms.
    const sync = createSocket({ type: "udp4", lookup: (address, _o, cb: (e: Error | null, a: string, f: number) => void) => cb(null, address, 4) });
    clients.push(sync);
    await new Promise<void>((r) => sync.bind(0, "127.0.0.1", r));
    sync.send("a", s.port, "127.0.0.1");
    sync.send("b", s.port, "127.0.0.1");
    const busyUntil = Date.now() + 80;
    while (Date.now() < busyUntil);
    await until(() => seen.length === 3);
    expect(seen[0]).toBeGreaterThanOrEqual(0);
    expect(seen[0]).toBeLessThan(50_000);
    for (const w of seen.slice(1)) expect(w).toBeGreaterThanOrEqual(60_000);
  });

  it("serves IPv6 and reports its address like dgram's socket.address()", async () => {
    const s = server("::1");
    expect(nb.address(s.sock)).toEqual({ address: "::1", port: s.port, family: "IPv6" });
    nb.start(
      s.sock,
      (n) => {
        for (let i = 0; i < n; i++) s.replies[i] = Buffer.from("six");
      },
      s.replies,
    );
    const c = await client("udp6");
    c.socket.send("q", s.port, "::1");
    await until(() => c.got.length === 1);
    expect(String(c.got[0])).toBe("six");
  });

  it("a taken port fails with EADDRINUSE, a bad address or option with a clear error", () => {
    const s = server();
    expect(() => nb.open({ host: "127.0.0.1", port: s.port })).toThrow(expect.objectContaining({ code: "EADDRINUSE", syscall: "bind" }));
    expect(() => nb.open({ host: "localhost", port: 0 })).toThrow(/not an IP address/);
    expect(() => nb.open({ host: "127.0.0.1", port: 0, batch: 0 })).toThrow(/batch 1-1024/);
  });

  it("close stops answering, frees the port, and further calls throw ERR_SOCKET_CLOSED", async () => {
    const s = server();
    let calls = 0;
    nb.start(
      s.sock,
      () => {
        calls++;
      },
      s.replies,
    );
    nb.close(s.sock);
    nb.close(s.sock);
    expect(() => nb.stats(s.sock)).toThrow(expect.objectContaining({ code: "ERR_SOCKET_CLOSED" }));
    const c = await client();
    c.socket.send("x", s.port, "127.0.0.1");
    await new Promise((r) => setTimeout(r, 50));
    expect(calls).toBe(0);
    const again = nb.open({ host: "127.0.0.1", port: s.port });
    open.push(again);
    expect(nb.address(again).port).toBe(s.port);
  });

  it("a receive error is counted and reported; a passing one (ENOBUFS) keeps the socket reading, a fatal one (EBADF) stops it", async () => {
    const s = server();
    const errors: Array<[string, number, boolean]> = [];
    const rx = Buffer.from(s.sock.rx);
    const lens = new Int32Array(s.sock.lens);
    nb.start(
      s.sock,
      (n) => {
        for (let i = 0; i < n; i++) s.replies[i] = Buffer.from(`re:${rx.toString("latin1", i * 512, i * 512 + (lens[i] as number))}`);
      },
      s.replies,
      (code, errno, fatal) => errors.push([code, errno, fatal]),
    );
    const c = await client();
    nb.injectError(s.sock, 105); // ENOBUFS
    c.socket.send("a", s.port, "127.0.0.1");
    await until(() => errors.length === 1 && c.got.length === 1);
    expect(errors).toEqual([["ENOBUFS", 105, false]]);
    expect(c.got.map(String)).toEqual(["re:a"]); // the datagram waited through the failed read
    expect(nb.stats(s.sock)).toMatchObject({ recvErrors: 1, lastErrno: 105 });

    nb.injectError(s.sock, 9); // EBADF
    c.socket.send("b", s.port, "127.0.0.1");
    await until(() => errors.length === 2);
    expect(errors[1]).toEqual(["EBADF", 9, true]);
    c.socket.send("c", s.port, "127.0.0.1");
    await new Promise((r) => setTimeout(r, 100));
    expect(c.got.map(String)).toEqual(["re:a"]);
    expect(nb.stats(s.sock)).toMatchObject({ recvErrors: 2, lastErrno: 9, received: 1 });
  });
});
