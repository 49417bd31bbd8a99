// Test helpers for the forwarder: real unbound servers and scripted fake upstreams, all on
// 127.0.0.1 only (tests must never send traffic off the loopback). Every unbound started here is
// stopped by its own PID.
import { spawn, type ChildProcess } from "node:child_process";
import { createSocket, type RemoteInfo, type Socket as UdpSocket } from "node:dgram";
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, type Server, type Socket as TcpSocket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import dnsPacket from "dns-packet";

const UNBOUND = "/usr/sbin/unbound";
export const haveUnbound = existsSync(UNBOUND);

/** A port free for both UDP and TCP on 127.0.0.1 right now (bound to 0, then released). */
export async function freePort(): Promise<number> {
  for (let i = 0; i < 50; i++) {
    const server: Server = createServer();
    const port = await new Promise<number>((resolve, reject) => {
      server.once("error", reject);
      server.listen(0, "127.0.0.1", () => {
        const addr = server.address();
        resolve(typeof addr === "object" && addr !== null ? addr.port : 0);
      });
    });
    const udp = createSocket("udp4");
    const udpOk = await new Promise<boolean>((resolve) => {
      udp.once("error", () => resolve(false));
      udp.bind(port, "127.0.0.1", () => resolve(true));
    });
    await new Promise<void>((resolve) => udp.close(() => resolve()));
    await new Promise<void>((resolve) => server.close(() => resolve()));
    if (udpOk && port > 0) return port;
  }
  throw new Error("no free port found");
}

export interface QueryOptions {
  id?: number;
  type?: "A" | "AAAA" | "NS" | "TXT" | "SOA" | "MX";
  /** Add an OPT record with this UDP payload size. */
  udpSize?: number;
  do?: boolean;
  cd?: boolean;
}

/** A client query as a stub resolver would send it (RD set). */
export function makeQuery(name: string, opts: QueryOptions = {}): Buffer {
  let flags = dnsPacket.RECURSION_DESIRED;
  if (opts.cd === true) flags |= dnsPacket.CHECKING_DISABLED;
  return dnsPacket.encode({
    type: "query",
    id: opts.id ?? 4242,
    flags,
    questions: [{ type: opts.type ?? "A", name }],
    additionals:
      opts.udpSize === undefined && opts.do !== true
        ? []
        : [{ type: "OPT", name: ".", udpPayloadSize: opts.udpSize ?? 1232, extendedRcode: 0, ednsVersion: 0, flags: opts.do === true ? dnsPacket.DNSSEC_OK : 0, flag_do: opts.do === true, options: [] }],
  });
}

export interface UnboundServer {
  readonly port: number;
  readonly key: string;
  readonly pid: number;
  stop(): Promise<void>;
}

interface UnboundOptions {
  /** Port to listen on; a free one is picked when absent. */
  port?: number;
  /** local-zone lines, e.g. `"example.test." static` (a static root zone is always added). */
  localZones?: string[];
  /** local-data records, e.g. `"www.example.test. 60 IN A 10.0.0.10"`. */
  localData?: string[];
}

function unboundConfig(port: number, dir: string, opts: UnboundOptions): string {
  const lines = [
    "server:",
    "    interface: 127.0.0.1",
    `    port: ${port}`,
    "    do-daemonize: no",
    '    chroot: ""',
    '    username: ""',
    `    directory: "${dir}"`,
    '    pidfile: ""',
    "    use-syslog: no",
    '    logfile: ""',
    "    verbosity: 0",
    "    num-threads: 1",
    "    access-control: 127.0.0.0/8 allow",
    '    module-config: "iterator"',
    "    do-ip6: no",
    // Never recurse: the whole namespace is local, so unbound sends nothing off the loopback
    // (not even root priming for the `. NS` health probes).
    "    outgoing-interface: 127.0.0.1",
    '    local-zone: "." static',
    '    local-data: ". 3600 IN SOA a.root.test. hostmaster.root.test. 1 60 600 86400 30"',
    ...(opts.localZones ?? []).map((z) => `    local-zone: ${z}`),
    ...(opts.localData ?? []).map((d) => `    local-data: "${d}"`),
    "remote-control:",
    "    control-enable: no",
    "",
  ];
  return lines.join("\n");
}

/** Sends one UDP query to 127.0.0.1:port; resolves with the reply or undefined after timeoutMs. */
export function udpAsk(port: number, query: Buffer, timeoutMs = 300): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    const sock = createSocket("udp4");
    const timer = setTimeout(() => done(undefined), timeoutMs);
    function done(r: Buffer | undefined): void {
      clearTimeout(timer);
      sock.close();
      resolve(r);
    }
    sock.on("message", (m: Buffer) => done(m));
    sock.on("error", () => undefined);
    sock.send(query, port, "127.0.0.1");
  });
}

function waitExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

/** Starts unbound on 127.0.0.1 and waits until it answers. */
export async function startUnbound(opts: UnboundOptions = {}): Promise<UnboundServer> {
  const port = opts.port ?? (await freePort());
  const dir = await mkdtemp(join(tmpdir(), "dcnet-unbound-"));
  const conf = join(dir, "unbound.conf");
  await writeFile(conf, unboundConfig(port, dir, opts));
  const child = spawn(UNBOUND, ["-d", "-c", conf], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr?.on("data", (d: Buffer) => (stderr += d.toString()));
  const pid = child.pid;
  if (pid === undefined) throw new Error("unbound did not start");
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      process.kill(pid, "SIGTERM");
      if (!(await waitExit(child, 5000))) {
        process.kill(pid, "SIGKILL");
        await waitExit(child, 2000);
      }
    }
    await rm(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) break;
    if ((await udpAsk(port, makeQuery("."), 200)) !== undefined) return { port, key: `127.0.0.1:${port}`, pid, stop };
  }
  await stop();
  throw new Error(`unbound on port ${port} did not come up: ${stderr}`);
}

type UdpHandler = (msg: Buffer, rinfo: RemoteInfo, socket: UdpSocket) => void;

export interface FakeUdp {
  readonly port: number;
  readonly key: string;
  readonly socket: UdpSocket;
  /** Queries received so far. */
  readonly received: Buffer[];
  close(): Promise<void>;
}

/** A scripted UDP "upstream" on 127.0.0.1; with no handler it is a black hole. */
export async function startFakeUdp(handler?: UdpHandler): Promise<FakeUdp> {
  const socket = createSocket("udp4");
  const received: Buffer[] = [];
  socket.on("message", (msg: Buffer, rinfo) => {
    received.push(msg);
    handler?.(msg, rinfo, socket);
  });
  await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", () => resolve()));
  const port = socket.address().port;
  return {
    port,
    key: `127.0.0.1:${port}`,
    socket,
    received,
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}

export interface FakeTcp {
  readonly port: number;
  readonly key: string;
  close(): Promise<void>;
}

/** A scripted TCP "upstream" on 127.0.0.1: `handler` gets each framed query and the connection. */
export async function startFakeTcp(handler: (query: Buffer, conn: TcpSocket) => void): Promise<FakeTcp> {
  const conns = new Set<TcpSocket>();
  const server = createServer((conn) => {
    conns.add(conn);
    conn.on("close", () => conns.delete(conn));
    conn.on("error", () => undefined);
    let buf: Buffer = Buffer.alloc(0);
    conn.on("data", (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        const len = buf.readUInt16BE(0);
        handler(buf.subarray(2, 2 + len), conn);
        buf = buf.subarray(2 + len);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const addr = server.address();
  const port = typeof addr === "object" && addr !== null ? addr.port : 0;
  return {
    port,
    key: `127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of conns) c.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A reply to `query` with the given answers (A records as [name, ip, ttl]) and rcode. */
export function makeReply(query: Buffer, opts: { id?: number; a?: Array<[string, string, number]>; rcode?: number; tc?: boolean; qr?: boolean; name?: string } = {}): Buffer {
  const q = dnsPacket.decode(query);
  const question = q.questions?.[0];
  let flags = dnsPacket.RECURSION_DESIRED | dnsPacket.RECURSION_AVAILABLE | (opts.rcode ?? 0);
  if (opts.tc === true) flags |= dnsPacket.TRUNCATED_RESPONSE;
  const buf = dnsPacket.encode({
    type: opts.qr === false ? "query" : "response",
    id: opts.id ?? q.id ?? 0,
    flags,
    questions: question === undefined ? [] : [{ ...question, name: opts.name ?? question.name }],
    answers: (opts.a ?? []).map(([name, data, ttl]) => ({ type: "A" as const, name, data, ttl, class: "IN" as const })),
  });
  return buf;
}

/** Frames `msg` for DNS over TCP. */
export function frame(msg: Buffer): Buffer {
  const len = Buffer.alloc(2);
  len.writeUInt16BE(msg.length, 0);
  return Buffer.concat([len, msg]);
}

/** Resolves when `predicate` is true, polling every 10 ms; rejects after timeoutMs. */
export async function waitFor(predicate: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

interface Rr {
  readonly name: string;
  readonly type: string;
  readonly ttl: number | undefined;
  readonly data: unknown;
}

type Decoded = Omit<dnsPacket.DecodedPacket, "answers" | "authorities" | "additionals"> & {
  readonly rcode: string;
  readonly answers: Rr[];
  readonly authorities: Rr[];
  readonly additionals: Rr[];
};

/** dns-packet's decode with the record union flattened (its typings omit rcode and OPT has no ttl/data). */
export function decodeReply(buf: Buffer): Decoded {
  const p = dnsPacket.decode(buf);
  const flat = (list: dnsPacket.Answer[] | undefined): Rr[] =>
    (list ?? []).map((a) => ({ name: a.name, type: a.type, ttl: "ttl" in a ? a.ttl : undefined, data: "data" in a ? a.data : undefined, ...(a.type === "OPT" ? { flag_do: a.flag_do } : {}) }));
  const rcode = (p as { rcode?: unknown }).rcode;
  return { ...p, rcode: typeof rcode === "string" ? rcode : "", answers: flat(p.answers), authorities: flat(p.authorities), additionals: flat(p.additionals) };
}
