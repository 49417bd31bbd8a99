// Test fixture for the L4LB lab (integration/support/l4lb-lab.ts): the whole client loop in one
// process run inside a namespace, because a process per connection is far too slow for thousands
// of connections. Talks to l4lb-echo.mjs backends, which answer with their name.
//   node l4lb-client.mjs MODE --addr ADDR --port P [options]
// Modes (every one bounded in count and time; SIGTERM ends any of them with its summary):
//   tcp-count  --n connections, --concurrency at once; counts answers per backend name
//   udp-count  --n exchanges, each from a new socket (new source port, so a new conntrack entry),
//              or with --same-port one socket for all (one flow); counts answers per backend name
//   tcp-hold   one connection ("hold"), a line every --interval-ms; prints an event when it is up
//              and when it breaks (error, close, silence) or moves to another backend
//   tcp-loop   opens connections in a loop (--concurrency workers, --interval-ms pause each) until
//              SIGTERM, --n or --max-ms; prints every failure at once, and in the summary
// Options: --timeout-ms per connection/exchange (2000), --max-ms for the whole run (60000),
//   --dns IP[:PORT] resolve a name given as --addr there (A, AAAA with --family 6).
// Output: JSON lines; events have "event", the last line has "summary": true. Times: "t" = ms since
// start, "at" = epoch ms (the test process's clock, for correlating with what it did).
import dgram from "node:dgram";
import { Resolver } from "node:dns/promises";
import net from "node:net";

const MODES = ["tcp-count", "udp-count", "tcp-hold", "tcp-loop"];
const mode = process.argv[2];
if (!MODES.includes(mode)) fail(`mode must be one of ${MODES.join(", ")}`);
const str = (flag) => {
  const i = process.argv.indexOf(flag);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const num = (flag, dflt) => {
  const v = Number(str(flag) ?? dflt);
  if (!Number.isFinite(v) || v < 0) fail(`${flag} must be a number`);
  return v;
};
const has = (flag) => process.argv.includes(flag);

const port = num("--port", 0);
const loop = mode === "tcp-loop";
const n = num("--n", loop ? 100_000 : 100);
const concurrency = Math.max(1, num("--concurrency", mode === "tcp-count" || mode === "udp-count" ? 16 : 1));
const timeoutMs = num("--timeout-ms", 2000);
const maxMs = num("--max-ms", 60_000);
const intervalMs = num("--interval-ms", mode === "tcp-hold" ? 100 : 0);
const family = num("--family", 4) === 6 ? 6 : 4;
if (!str("--addr") || !port) fail("--addr and --port are required");
if (n > 1_000_000 || maxMs > 600_000) fail("--n is at most 1,000,000 and --max-ms at most 600,000");

const started = Date.now();
const since = () => Date.now() - started;
let stopping = false;
const deadline = setTimeout(() => (stopping = true), maxMs);
deadline.unref();

function fail(msg) {
  console.error(`l4lb-client: ${msg}`);
  process.exit(2);
}
function emit(o) {
  process.stdout.write(`${JSON.stringify(o)}\n`);
}
function finish(summary) {
  process.stdout.write(`${JSON.stringify({ summary: true, mode, ...summary, ms: since() })}\n`, () => process.exit(0));
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const errCode = (e) => e?.code ?? e?.message ?? String(e);

async function resolveAddr() {
  const addr = str("--addr");
  if (net.isIP(addr)) return addr;
  const server = str("--dns");
  if (!server) fail(`--addr ${addr} is a name: give --dns IP[:PORT]`);
  const r = new Resolver({ timeout: Math.min(timeoutMs, 2000), tries: 2 });
  r.setServers([server]);
  const addrs = family === 6 ? await r.resolve6(addr) : await r.resolve4(addr);
  if (addrs.length === 0) fail(`${addr}: no address`);
  return addrs[0];
}

/** One connection: send `line`, read the backend's name; the server closes after answering. */
function tcpOnce(addr, line = "name") {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: addr, port });
    let data = "";
    let done = false;
    const end = (f) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      s.destroy();
      f();
    };
    const timer = setTimeout(() => end(() => reject(Object.assign(new Error("timeout"), { code: "ETIMEDOUT" }))), timeoutMs);
    s.setNoDelay(true);
    s.on("connect", () => s.write(`${line}\n`));
    s.on("data", (d) => {
      data += d.toString("utf8");
      const nl = data.indexOf("\n");
      if (nl >= 0) end(() => resolve(data.slice(0, nl).trim()));
    });
    s.on("error", (e) => end(() => reject(e)));
    s.on("close", () => end(() => reject(Object.assign(new Error("closed without an answer"), { code: "EMPTY" }))));
  });
}

function udpSocket() {
  return dgram.createSocket(family === 6 || (net.isIP(str("--addr")) === 6) ? "udp6" : "udp4");
}

/** One datagram on `sock` (connected to the target), resolves with the first answer. */
function udpExchange(sock) {
  return new Promise((resolve, reject) => {
    const onMsg = (m) => done(() => resolve(m.toString("utf8").trim()));
    const onErr = (e) => done(() => reject(e));
    const timer = setTimeout(() => done(() => reject(Object.assign(new Error("timeout"), { code: "ETIMEDOUT" }))), timeoutMs);
    const done = (f) => {
      clearTimeout(timer);
      sock.removeListener("message", onMsg);
      sock.removeListener("error", onErr);
      f();
    };
    sock.on("message", onMsg);
    sock.on("error", onErr);
    sock.send("q", (e) => e && onErr(e));
  });
}

function connectUdp(sock, addr) {
  return new Promise((resolve, reject) => {
    sock.once("error", reject);
    sock.connect(port, addr, () => {
      sock.removeListener("error", reject);
      resolve();
    });
  });
}

async function udpOnce(addr) {
  const sock = udpSocket();
  try {
    await connectUdp(sock, addr);
    return await udpExchange(sock);
  } finally {
    sock.close();
  }
}

function tally() {
  const counts = {};
  const errors = {};
  return {
    counts,
    errors,
    ok: (name) => (counts[name] = (counts[name] ?? 0) + 1),
    err: (e) => (errors[errCode(e)] = (errors[errCode(e)] ?? 0) + 1),
    total: (o) => Object.values(o).reduce((a, b) => a + b, 0),
  };
}

async function count(addr, once) {
  const t = tally();
  let next = 0;
  const worker = async () => {
    while (!stopping && next < n) {
      next++;
      try {
        t.ok(await once(addr));
      } catch (e) {
        t.err(e);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, n) }, worker));
  const ok = t.total(t.counts);
  const failed = t.total(t.errors);
  return { addr, ok, failed, complete: ok + failed === n, counts: t.counts, errors: t.errors };
}

async function udpSamePort(addr) {
  const t = tally();
  const sock = udpSocket();
  await connectUdp(sock, addr);
  for (let i = 0; i < n && !stopping; i++) {
    try {
      t.ok(await udpExchange(sock));
    } catch (e) {
      t.err(e);
    }
  }
  const sourcePort = sock.address().port;
  sock.close();
  const ok = t.total(t.counts);
  const failed = t.total(t.errors);
  return { addr, sourcePort, ok, failed, complete: ok + failed === n, counts: t.counts, errors: t.errors };
}

function hold(addr) {
  return new Promise((resolve) => {
    const s = net.connect({ host: addr, port });
    s.setNoDelay(true);
    let buf = "";
    let backend;
    let exchanges = 0;
    let waiting;
    let broken = null;
    let over = false;
    const moves = [];
    const close = () => {
      if (over) return;
      over = true;
      clearTimeout(waiting);
      clearInterval(ticker);
      clearInterval(watchStop);
      s.destroy();
      resolve({ addr, backend: backend ?? null, exchanges, moves, broken });
    };
    const breakOff = (error) => {
      if (over) return;
      broken = { t: since(), at: Date.now(), error, exchanges };
      emit({ event: "broken", backend: backend ?? null, ...broken });
      close();
    };
    const expectAnswer = () => {
      clearTimeout(waiting);
      waiting = setTimeout(() => breakOff("ETIMEDOUT"), timeoutMs);
    };
    s.on("connect", () => {
      s.write("hold\n");
      expectAnswer();
    });
    s.on("data", (d) => {
      buf += d.toString("utf8");
      for (let nl = buf.indexOf("\n"); nl >= 0; nl = buf.indexOf("\n")) {
        const name = buf.slice(0, nl).trim();
        buf = buf.slice(nl + 1);
        clearTimeout(waiting);
        if (backend === undefined) {
          backend = name;
          emit({ event: "connected", backend, t: since(), at: Date.now() });
        } else {
          exchanges++;
          if (name !== backend) {
            const move = { event: "moved", from: backend, to: name, t: since(), at: Date.now() };
            moves.push(move);
            emit(move);
            backend = name;
          }
        }
      }
    });
    s.on("error", (e) => breakOff(errCode(e)));
    s.on("close", () => breakOff("closed"));
    const ticker = setInterval(() => {
      if (stopping) return close();
      if (backend === undefined || over) return;
      s.write("ping\n");
      expectAnswer();
    }, Math.max(10, intervalMs));
    // SIGTERM or --max-ms end the hold even between pings.
    const watchStop = setInterval(() => stopping && close(), 20);
  });
}

async function tcpLoop(addr) {
  const t = tally();
  const failures = [];
  const okPerSecond = [];
  let next = 0;
  const worker = async () => {
    while (!stopping && next < n) {
      next++;
      const t0 = Date.now();
      try {
        t.ok(await tcpOnce(addr));
        const sec = Math.floor(since() / 1000);
        okPerSecond[sec] = (okPerSecond[sec] ?? 0) + 1;
      } catch (e) {
        t.err(e);
        const f = { t: since(), at: Date.now(), error: errCode(e), ms: Date.now() - t0 };
        if (failures.length < 1000) failures.push(f);
        emit({ event: "failed", ...f });
      }
      if (intervalMs > 0) await sleep(intervalMs);
    }
  };
  emit({ event: "started", t: 0, at: started });
  await Promise.all(Array.from({ length: concurrency }, worker));
  const ok = t.total(t.counts);
  return { addr, ok, failed: t.total(t.errors), counts: t.counts, errors: t.errors, failures, okPerSecond: Array.from(okPerSecond, (v) => v ?? 0), startedAt: started };
}

process.on("SIGTERM", () => (stopping = true));
process.on("SIGINT", () => (stopping = true));

let addr;
try {
  addr = await resolveAddr();
} catch (e) {
  finish({ ok: 0, failed: 0, error: `resolving ${str("--addr")}: ${errCode(e)}` });
}
if (addr !== undefined) {
  if (mode === "tcp-count") finish(await count(addr, (a) => tcpOnce(a)));
  else if (mode === "udp-count") finish(has("--same-port") ? await udpSamePort(addr) : await count(addr, udpOnce));
  else if (mode === "tcp-hold") finish(await hold(addr));
  else finish(await tcpLoop(addr));
}
