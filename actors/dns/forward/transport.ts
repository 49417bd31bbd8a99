// One DNS exchange with one upstream, over UDP or TCP, returning the upstream's reply bytes
// untouched except for the message id (restored to the caller's).
//
// UDP goes through a small pool of shared sockets instead of a socket per query: at forwarding
// rates a socket per query means a bind + close per query and an ephemeral port per in-flight
// query. Sharing a socket means the kernel no longer pairs replies with queries for us, so we do
// it ourselves and, since an off-path attacker only has to guess what we check, we check
// everything a reply must match: a fresh random 16-bit id per exchange (never the client's,
// which the client chose and an attacker may know), the source address and port of the
// upstream we asked, QR set, and the same question. A datagram failing any check is dropped and
// counted, and the exchange keeps waiting: a spoofed or stale datagram must not be able to cancel
// a real query. Several sockets (each on its own random port) add port entropy on top of the id.
//
// A UDP reply with TC set is returned as is: the client retries over TCP, and its TCP query is
// forwarded over TCP (UDP in -> UDP out, TCP in -> TCP out, as dcos-net and Mesos-DNS do).
//
// TCP: one connection per exchange, 2-byte length framing, the timeout covers connect + reply.
// Connection reuse is not implemented: forwarded TCP is rare (TC fallbacks, AXFR-less), and a
// reused connection needs pipelining/out-of-order handling that isn't worth it here.
import { randomInt } from "node:crypto";
import { createSocket, type Socket as UdpSocket } from "node:dgram";
import { connect, type Socket as TcpSocket } from "node:net";
import { HEADER_LEN } from "../wire/codes.js";
import { isResponse, readHeader, sameQuestion } from "./packet.js";
import { sameAddress, type Upstream } from "./upstream.js";
import { ExchangeError } from "../errors.js";

// The error class lives with DNS's other coded errors (../errors.ts); re-exported for the rest of this folder.
export { ExchangeError } from "../errors.js";

interface Pending {
  readonly upstream: Upstream;
  /** The query as sent (our id), to compare the reply's question against. */
  readonly sent: Buffer;
  readonly clientId: number;
  settle(err: ExchangeError | undefined, reply?: Buffer): void;
}

interface PooledSocket {
  readonly socket: UdpSocket;
  readonly pending: Map<number, Pending>;
}

export interface TransportStats {
  /** UDP exchanges waiting for a reply. */
  pendingUdp: number;
  /** TCP exchanges in progress. */
  pendingTcp: number;
  /** UDP datagrams dropped: unknown id (late or spoofed), wrong source, not a reply, wrong question. */
  droppedUdp: number;
}

interface ForwardTransportOptions {
  /** Shared UDP sockets per address family (default 4). */
  udpPoolSize?: number;
}

/** Reply of a TCP exchange must still be ours even though nobody can inject into the stream. */
function checkReply(sent: Buffer, reply: Buffer): string | undefined {
  if (reply.length < HEADER_LEN) return "reply shorter than a DNS header";
  if (reply.readUInt16BE(0) !== sent.readUInt16BE(0)) return "reply id does not match";
  if (!isResponse(readHeader(reply))) return "reply does not have QR set";
  if (!sameQuestion(sent, reply)) return "reply question does not match";
  return undefined;
}

/** Runs `body` with an exchange-level timeout and abort signal folded into one settle callback. */
function guarded(
  timeoutMs: number,
  signal: AbortSignal | undefined,
  what: string,
  body: (settle: (err: ExchangeError | undefined, reply?: Buffer) => void) => () => void,
): Promise<Buffer> {
  return new Promise<Buffer>((resolve, reject) => {
    if (signal?.aborted === true) {
      reject(new ExchangeError("aborted", `${what}: aborted`));
      return;
    }
    let done = false;
    let cleanup: () => void = () => undefined;
    const onAbort = (): void => settle(new ExchangeError("aborted", `${what}: aborted`));
    const timer = setTimeout(() => settle(new ExchangeError("timeout", `${what}: no reply within ${timeoutMs} ms`)), timeoutMs);
    function settle(err: ExchangeError | undefined, reply?: Buffer): void {
      if (done) return;
      done = true;
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      cleanup();
      if (err !== undefined) reject(err);
      else resolve(reply as Buffer);
    }
    signal?.addEventListener("abort", onAbort, { once: true });
    cleanup = body(settle);
    // body may have settled synchronously (send error): run its cleanup now.
    if (done) cleanup();
  });
}

/**
 * One TCP exchange: connect, send the length-prefixed query, read one length-prefixed reply,
 * close. The reply's id and question are checked against the query.
 */
export function exchangeTcp(upstream: Upstream, query: Buffer, timeoutMs: number, signal?: AbortSignal): Promise<Buffer> {
  const what = `tcp ${upstream.key}`;
  if (query.length < HEADER_LEN || query.length > 0xffff) return Promise.reject(new ExchangeError("error", `${what}: query size ${query.length} not sendable`));
  return guarded(timeoutMs, signal, what, (settle) => {
    const socket: TcpSocket = connect({ host: upstream.host, port: upstream.port, noDelay: true });
    let buffered: Buffer = Buffer.alloc(0);
    socket.on("connect", () => {
      const len = Buffer.alloc(2);
      len.writeUInt16BE(query.length, 0);
      socket.write(Buffer.concat([len, query]));
    });
    socket.on("data", (chunk: Buffer) => {
      buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
      if (buffered.length < 2) return;
      const need = buffered.readUInt16BE(0);
      if (buffered.length < 2 + need) return;
      const reply = Buffer.from(buffered.subarray(2, 2 + need));
      const problem = checkReply(query, reply);
      if (problem !== undefined) settle(new ExchangeError("error", `${what}: ${problem}`));
      else settle(undefined, reply);
    });
    socket.on("error", (e: Error) => settle(new ExchangeError("error", `${what}: ${e.message}`, { cause: e })));
    socket.on("close", () => settle(new ExchangeError("error", `${what}: connection closed before a full reply`)));
    return () => {
      socket.removeAllListeners("data");
      socket.on("error", () => undefined);
      socket.destroy();
    };
  });
}

/** The forwarder's I/O: a UDP socket pool with id remapping, and per-exchange TCP connections. */
export class ForwardTransport {
  private readonly poolSize: number;
  private readonly pools = new Map<4 | 6, PooledSocket[]>();
  private readonly closing = new AbortController();
  private tcpInFlight = 0;
  private dropped = 0;

  constructor(options: ForwardTransportOptions = {}) {
    this.poolSize = Math.max(1, options.udpPoolSize ?? 4);
  }

  /** Sends `query` (any id) to `upstream` over UDP; resolves with the validated reply, carrying `query`'s id. */
  exchangeUdp(upstream: Upstream, query: Buffer, timeoutMs: number, signal?: AbortSignal): Promise<Buffer> {
    const what = `udp ${upstream.key}`;
    if (this.closing.signal.aborted) return Promise.reject(new ExchangeError("aborted", `${what}: transport closed`));
    if (query.length < HEADER_LEN) return Promise.reject(new ExchangeError("error", `${what}: query shorter than a header`));
    const pooled = this.socketFor(upstream.family);
    const ourId = this.freeId(pooled);
    if (ourId === undefined) return Promise.reject(new ExchangeError("error", `${what}: no free query id`));
    const sent = Buffer.from(query);
    sent.writeUInt16BE(ourId, 0);
    const signals = signal === undefined ? this.closing.signal : AbortSignal.any([signal, this.closing.signal]);
    return guarded(timeoutMs, signals, what, (settle) => {
      pooled.pending.set(ourId, { upstream, sent, clientId: query.readUInt16BE(0), settle });
      pooled.socket.ref();
      pooled.socket.send(sent, upstream.port, upstream.host, (err) => {
        if (err) settle(new ExchangeError("error", `${what}: ${err.message}`, { cause: err }));
      });
      return () => {
        pooled.pending.delete(ourId);
        // Idle sockets must not keep the process alive; in-flight exchanges do (via their timer).
        if (pooled.pending.size === 0) pooled.socket.unref();
      };
    });
  }

  /** See the module-level exchangeTcp; tracked so close() can cut it short. */
  async exchangeTcp(upstream: Upstream, query: Buffer, timeoutMs: number, signal?: AbortSignal): Promise<Buffer> {
    if (this.closing.signal.aborted) throw new ExchangeError("aborted", `tcp ${upstream.key}: transport closed`);
    const signals = signal === undefined ? this.closing.signal : AbortSignal.any([signal, this.closing.signal]);
    this.tcpInFlight += 1;
    try {
      return await exchangeTcp(upstream, query, timeoutMs, signals);
    } finally {
      this.tcpInFlight -= 1;
    }
  }

  stats(): TransportStats {
    let pendingUdp = 0;
    for (const pool of this.pools.values()) for (const p of pool) pendingUdp += p.pending.size;
    return { pendingUdp, pendingTcp: this.tcpInFlight, droppedUdp: this.dropped };
  }

  /** Fails every exchange in flight with "aborted" and closes the sockets. Idempotent. */
  close(): void {
    if (this.closing.signal.aborted) return;
    this.closing.abort();
    for (const pool of this.pools.values()) for (const p of pool) p.socket.close();
    this.pools.clear();
  }

  private socketFor(family: 4 | 6): PooledSocket {
    let pool = this.pools.get(family);
    if (pool === undefined) {
      pool = [];
      this.pools.set(family, pool);
    }
    if (pool.length < this.poolSize) {
      const created = this.createSocket(family, pool);
      pool.push(created);
      return created;
    }
    return pool[randomInt(pool.length)] as PooledSocket;
  }

  private createSocket(family: 4 | 6, pool: PooledSocket[]): PooledSocket {
    // Unbound until the first send, which binds it to a kernel-chosen (random) ephemeral port.
    const socket = createSocket({ type: family === 6 ? "udp6" : "udp4" });
    const pooled: PooledSocket = { socket, pending: new Map() };
    socket.on("message", (msg: Buffer, rinfo) => this.onMessage(pooled, msg, rinfo.address, rinfo.port));
    socket.on("error", (err: Error) => {
      // A broken socket is taken out of the pool; its exchanges fail as network errors.
      const i = pool.indexOf(pooled);
      if (i >= 0) pool.splice(i, 1);
      for (const p of [...pooled.pending.values()]) p.settle(new ExchangeError("error", `udp ${p.upstream.key}: ${err.message}`, { cause: err }));
      try {
        socket.close();
      } catch {
        // Already closed.
      }
    });
    socket.unref();
    return pooled;
  }

  private freeId(pooled: PooledSocket): number | undefined {
    if (pooled.pending.size >= 0x10000) return undefined;
    for (;;) {
      const id = randomInt(0x10000);
      if (!pooled.pending.has(id)) return id;
    }
  }

  private onMessage(pooled: PooledSocket, msg: Buffer, address: string, port: number): void {
    if (msg.length < HEADER_LEN) {
      this.dropped += 1;
      return;
    }
    const id = msg.readUInt16BE(0);
    const p = pooled.pending.get(id);
    if (p === undefined || port !== p.upstream.port || !sameAddress(p.upstream, address) || !isResponse(readHeader(msg)) || !sameQuestion(p.sent, msg)) {
      this.dropped += 1;
      return;
    }
    // dgram hands us a fresh Buffer per datagram, so patching it in place is safe.
    msg.writeUInt16BE(p.clientId, 0);
    p.settle(undefined, msg);
  }
}
