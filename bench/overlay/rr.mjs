// Request/response latency over one TCP connection (TCP_NODELAY), for bench/overlay.
//   node rr.mjs server <port> <tag>           answers each "\n"-terminated request with "<tag>\n"
//   node rr.mjs client <host> <port> <n> <ms>  n round trips (bounded by <ms> overall); prints JSON
//     { n, ok, p50, p99, mean, answers: [distinct answers] } (times in ms)
import net from "node:net";

const [mode, ...rest] = process.argv.slice(2);
if (mode === "server") {
  const [port, tag] = rest;
  net
    .createServer((s) => {
      s.setNoDelay(true);
      let buf = "";
      s.on("data", (d) => {
        buf += d;
        let i;
        while ((i = buf.indexOf("\n")) >= 0) {
          buf = buf.slice(i + 1);
          s.write(`${tag}\n`);
        }
      });
      s.on("error", () => undefined);
    })
    .listen(Number(port), "0.0.0.0", () => console.log("ready"));
} else if (mode === "client") {
  const [host, port, n, ms] = rest;
  const total = Number(n);
  const deadline = Date.now() + Number(ms);
  const samples = [];
  const answers = new Set();
  const s = net.connect({ host, port: Number(port) });
  s.setNoDelay(true);
  let buf = "";
  let t0 = 0n;
  const finish = (code) => {
    const sorted = [...samples].sort((a, b) => a - b);
    const pct = (p) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] : null);
    const mean = sorted.length ? sorted.reduce((a, x) => a + x, 0) / sorted.length : null;
    process.stdout.write(`${JSON.stringify({ n: total, ok: samples.length, p50: pct(50), p99: pct(99), mean, answers: [...answers] })}\n`);
    s.destroy();
    process.exit(code);
  };
  const send = () => {
    if (samples.length >= total || Date.now() > deadline) return finish(samples.length >= total ? 0 : 2);
    t0 = process.hrtime.bigint();
    s.write("ping\n");
  };
  s.on("connect", send);
  s.on("data", (d) => {
    buf += d;
    let i;
    while ((i = buf.indexOf("\n")) >= 0) {
      samples.push(Number(process.hrtime.bigint() - t0) / 1e6);
      answers.add(buf.slice(0, i));
      buf = buf.slice(i + 1);
      send();
    }
  });
  s.on("error", (e) => {
    console.error(e.message);
    finish(1);
  });
  setTimeout(() => finish(2), Number(ms) + 2000).unref();
} else {
  console.error("usage: rr.mjs server <port> <tag> | client <host> <port> <n> <ms>");
  process.exit(64);
}
