// bench/dns-qps: dnsperf against a dcnet node and against unbound serving the same names, in the
// same run and interleaved (unbound, dcnet, unbound, dcnet, ...), then the latency of each at a
// fixed 2,000 qps. The workload is ../shared/bench/dns-baselines.sh's (1,000 A / 100 SRV /
// 10 NXDOMAIN under .mesos); dcnet generates its names from a Mesos master state, like Mesos-DNS.
//   npx tsx bench/dns-qps.ts [--seconds 10] [--runs 2] [--clients 4] [--outstanding 100] [--tcp] [--udp-engine batch|dgram]
import { execFile, fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { startNatsServer } from "../integration/harness/nats-local.js";
import { startMesosMaster } from "../integration/support/mesos-master.js";
import { spawnDcnet, isReady } from "../integration/support/dcnet-process.js";
import { dig } from "../integration/support/dig.js";
import { benchMasterState, benchQueries, benchUnboundData, EMPTY_SUBSCRIBED } from "../integration/support/dns-lab.js";
import { freePort, startUnbound } from "../testkit/dns/servers.js";
import { arg, percentile } from "./stats.js";

const run = promisify(execFile);
const SECONDS = arg("--seconds", 10);
const RUNS = arg("--runs", 2);
const CLIENTS = arg("--clients", 4);
const OUTSTANDING = arg("--outstanding", 100);
const LAT_QPS = arg("--lat-qps", 2000);
const LAT_SECONDS = arg("--lat-seconds", 5);
const LAT_RUNS = arg("--lat-runs", 3);
const MODE = process.argv.includes("--tcp") ? "tcp" : "udp";
const ENGINE = (() => {
  const i = process.argv.indexOf("--udp-engine");
  const v = i >= 0 ? process.argv[i + 1] : "batch";
  if (v !== "batch" && v !== "dgram" && v !== "auto") throw new Error(`--udp-engine is batch, dgram or auto, not ${v}`);
  return v;
})();

async function dnsperf(port: number, queries: string, extra: string[]): Promise<string> {
  // -l bounds every run in time; the timeout is a second bound in case dnsperf hangs.
  const { stdout } = await run("dnsperf", ["-m", MODE, "-s", "127.0.0.1", "-p", String(port), "-d", queries, "-c", String(CLIENTS), "-t", "2", ...extra], { timeout: (SECONDS + LAT_SECONDS + 30) * 1000, maxBuffer: 256 * 1024 * 1024 });
  return stdout;
}

async function throughput(port: number, queries: string): Promise<{ qps: number; lost: number; rcodes: string }> {
  const out = await dnsperf(port, queries, ["-l", String(SECONDS), "-q", String(OUTSTANDING)]);
  const qps = Number(/Queries per second:\s+([\d.]+)/.exec(out)?.[1] ?? 0);
  const lost = Number(/Queries lost:\s+(\d+)/.exec(out)?.[1] ?? 0);
  const rcodes = (/Response codes:\s+(.*)/.exec(out)?.[1] ?? "").trim();
  return { qps, lost, rcodes };
}

async function latency(port: number, queries: string): Promise<{ p50: number; p99: number; n: number }> {
  const out = await dnsperf(port, queries, ["-l", String(LAT_SECONDS), "-Q", String(LAT_QPS), "-v"]);
  // verbose lines: "> NOERROR name type latency-seconds"
  const samples = out
    .split("\n")
    .filter((l) => l.startsWith("> "))
    .map((l) => Number(l.trim().split(/\s+/).pop()))
    .filter((v) => Number.isFinite(v));
  return { p50: percentile(samples, 50) * 1000, p99: percentile(samples, 99) * 1000, n: samples.length };
}

interface Buckets {
  readonly le: Map<number, number>;
  readonly total: number;
}

/** dcnet_dns_udp_queued_seconds from the node's /metrics (cumulative buckets). */
async function queuedBuckets(port: number): Promise<Buckets> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const le = new Map<number, number>();
  let total = 0;
  for (const m of text.matchAll(/^dcnet_dns_udp_queued_seconds_bucket\{le="([^"]+)"[^}]*\} (\d+)$/gm)) {
    if (m[1] === "+Inf") total = Number(m[2]);
    else le.set(Number(m[1]), Number(m[2]));
  }
  return { le, total };
}

function diffBuckets(after: Buckets, before: Buckets): Buckets {
  return { le: new Map([...after.le].map(([k, v]) => [k, v - (before.le.get(k) ?? 0)])), total: after.total - before.total };
}

/** The smallest bucket bound holding fraction q of the observations. */
function quantileBound(b: Buckets, q: number): number {
  for (const [bound, count] of [...b.le].sort((x, y) => x[0] - y[0])) if (count >= q * b.total) return bound;
  return Infinity;
}

const dir = mkdtempSync(join(tmpdir(), "dcnet-dns-qps-"));
const cleanups: Array<() => Promise<unknown>> = [];
try {
  const queries = join(dir, "queries.txt");
  writeFileSync(queries, benchQueries());
  const nats = await startNatsServer({});
  cleanups.push(() => nats.stop());
  const master = await startMesosMaster({ script: [EMPTY_SUBSCRIBED], masterState: benchMasterState() });
  cleanups.push(() => master.close());
  const dnsPort = await freePort();
  const metricsPort = await freePort();
  writeFileSync(join(dir, "node.yaml"), `log:\n  level: info\nmesos:\n  tasksReadinessMs: 100\nmetrics:\n  listen: "127.0.0.1:${metricsPort}"\ndns:\n  udpEngine: ${ENGINE}\n`);
  const node = spawnDcnet(["node", "--config", join(dir, "node.yaml"), "--nats", nats.url, "--id", "bench", "--mesos", master.url, "--dns-listen", `127.0.0.1:${dnsPort}`]);
  cleanups.push(() => node.stop());
  await node.waitForLine(isReady, 30_000).catch(() => undefined);
  const server = { host: "127.0.0.1", port: dnsPort };
  const deadline = Date.now() + 30_000;
  for (;;) {
    const r = await dig(server, ["app-0999.marathon.mesos", "A"]).catch(() => undefined);
    if (r?.answer.some((a) => a.data === "10.0.3.250")) break;
    if (Date.now() > deadline) throw new Error(`dcnet did not serve app-0999.marathon.mesos within 30 s; node log: ${node.lines().slice(-8).map((l) => JSON.stringify(l)).join("\n")}`);
    await new Promise((r2) => setTimeout(r2, 200));
  }
  const unbound = await startUnbound(benchUnboundData());
  cleanups.push(() => unbound.stop());
  const floorPort = await freePort();
  const floor = fork(fileURLToPath(new URL("./dns-floor-server.ts", import.meta.url)), [String(floorPort)], { execArgv: ["--import", "tsx"], stdio: ["ignore", "inherit", "inherit", "ipc"] });
  cleanups.push(async () => {
    floor.kill("SIGTERM");
  });
  await new Promise<void>((resolve, reject) => {
    floor.once("message", () => resolve());
    floor.once("exit", (code) => reject(new Error(`floor server exited ${code}`)));
  });

  console.log(`# dnsperf -m ${MODE} -l ${SECONDS} -c ${CLIENTS} -q ${OUTSTANDING}, ${RUNS} interleaved runs each; load average ${(await import("node:os")).loadavg().map((l) => l.toFixed(2)).join(" ")}`);
  const best = { unbound: 0, dcnet: 0, "node-floor": 0 };
  const runsOf: Record<keyof typeof best, string[]> = { unbound: [], dcnet: [], "node-floor": [] };
  for (let r = 0; r < RUNS; r++) {
    // The floor is a UDP socket: over TCP only the two servers are compared.
    const servers = [["unbound", unbound.port], ["dcnet", dnsPort], ...(MODE === "udp" ? [["node-floor", floorPort] as const] : [])] as const;
    for (const [label, port] of servers) {
      const t = await throughput(port, queries);
      runsOf[label].push(`${Math.round(t.qps)}${t.lost ? ` (lost ${t.lost})` : ""}`);
      best[label] = Math.max(best[label], t.qps);
      if (r === RUNS - 1) console.log(`# ${label} response codes: ${t.rcodes}`);
    }
  }
  // Latency runs interleaved too, and the median run reported: on a shared 2-core machine one run's
  // p99 is often another tenant's burst, for either server.
  const latRuns: Record<"unbound" | "dcnet", Array<{ p50: number; p99: number; n: number }>> = { unbound: [], dcnet: [] };
  const queuedBefore = await queuedBuckets(metricsPort);
  for (let r = 0; r < LAT_RUNS; r++) {
    latRuns.unbound.push(await latency(unbound.port, queries));
    latRuns.dcnet.push(await latency(dnsPort, queries));
  }
  const median = (runs: Array<{ p50: number; p99: number; n: number }>) => [...runs].sort((a, b) => a.p99 - b.p99)[Math.floor((runs.length - 1) / 2)] as { p50: number; p99: number; n: number };
  const lat = { unbound: median(latRuns.unbound), dcnet: median(latRuns.dcnet) };
  for (const label of ["unbound", "dcnet"] as const) {
    const l = lat[label];
    console.log(`${label.padEnd(8)} qps=${Math.round(best[label])} (runs: ${runsOf[label].join(" ")})  p50_ms=${l.p50.toFixed(3)} p99_ms=${l.p99.toFixed(3)} (at ${LAT_QPS} qps, median of ${LAT_RUNS} runs' p99: ${latRuns[label].map((x) => x.p99.toFixed(2)).join(" ")}; n=${l.n})`);
  }
  if (MODE === "udp") console.log(`node-floor qps=${Math.round(best["node-floor"])} (runs: ${runsOf["node-floor"].join(" ")})  a bare node:dgram socket sending one fixed answer: the ceiling of dcnet's dgram engine`);
  console.log(`ratio    dcnet/unbound qps = ${(best.dcnet / best.unbound).toFixed(3)}   (target >= 1.0)`);
  if (MODE === "udp") console.log(`ratio    dcnet(${ENGINE})/node-floor qps = ${(best.dcnet / best["node-floor"]).toFixed(3)}   node-floor/unbound = ${(best["node-floor"] / best.unbound).toFixed(3)}`);
  // The server's own share of that latency: kernel receive timestamp → read by the node (batch engine).
  const queued = diffBuckets(await queuedBuckets(metricsPort), queuedBefore);
  if (queued.total > 0) console.log(`server   dcnet queries waiting in the socket during the latency runs: p99 <= ${quantileBound(queued, 0.99) * 1000} ms, ${(100 * (1 - (queued.le.get(0.001) ?? 0) / queued.total)).toFixed(2)}% over 1 ms (n=${queued.total}); the rest of dnsperf's figure is the kernel and the client`);
  console.log(`latency  dcnet p99 at ${LAT_QPS} qps = ${lat.dcnet.p99.toFixed(3)} ms   (target <= 1 ms; unbound ${lat.unbound.p99.toFixed(3)} ms)`);
} finally {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
}
