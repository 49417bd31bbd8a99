// bench/dns-qps: dnsperf against a dcnet node and against unbound, NSD and Knot serving the same
// names, in the same run: first a sample of the workload asked of every server, whose answers (rcode
// and answer set) must be the same everywhere, so a faster server cannot be a wrong one; then
// throughput, each server once per round with the order reversed every round, median of the rounds;
// then latency at a fixed rate (default 2,000 qps), the same way, median of the rounds' p99. dcnet runs
// twice: as configured by default, and with dns.answerCache off (every answer encoded, as unbound,
// NSD and Knot do). The references run one worker each, as dcnet runs one Node.js thread.
// The workload is ../shared/bench/dns-baselines.sh's (1,000 A / 100 SRV / 10 NXDOMAIN under .mesos);
// dcnet generates its names from a Mesos master state, like Mesos-DNS.
//   npx tsx bench/dns-qps.ts [--seconds 10] [--runs 3] [--clients 4] [--outstanding 100] [--lat-qps 2000] [--lat-runs 3] [--tcp] [--udp-engine batch|dgram] [--trace-gc]
import { execFile, fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { startNatsServer } from "../integration/harness/nats-local.js";
import { startMesosMaster } from "../integration/support/mesos-master.js";
import { spawnDcnet, isReady, type DcnetProcess } from "../integration/support/dcnet-process.js";
import { dig } from "../integration/support/dig.js";
import { benchMasterState, benchQueries, benchUnboundData, EMPTY_SUBSCRIBED } from "../integration/support/dns-lab.js";
import { freePort, startUnbound } from "../testkit/dns/servers.js";
import { arg, percentile } from "./stats.js";
import { ask, startRef, type Answer } from "./dns-refs.js";
import { oracleRecords } from "../testkit/dns/mesos-dns-oracle.js";

const run = promisify(execFile);
const SECONDS = arg("--seconds", 10);
const RUNS = Math.max(3, arg("--runs", 3));
const CLIENTS = arg("--clients", 4);
const OUTSTANDING = arg("--outstanding", 100);
const LAT_QPS = arg("--lat-qps", 2000);
const LAT_SECONDS = arg("--lat-seconds", 5);
const LAT_RUNS = Math.max(3, arg("--lat-runs", 3));
const MODE = process.argv.includes("--tcp") ? "tcp" : "udp";
const TRACE_GC = process.argv.includes("--trace-gc");
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

/** A UDP histogram from the node's /metrics (cumulative buckets): the socket wait, or receive → answer. */
async function queuedBuckets(port: number, metric = "dcnet_dns_udp_queued_seconds"): Promise<Buckets> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const le = new Map<number, number>();
  let total = 0;
  for (const line of text.split("\n")) {
    const m = /^(\w+)_bucket\{([^}]*)\} (\d+)$/.exec(line);
    if (m?.[1] !== metric || !(m[2] as string).includes('transport="udp"')) continue;
    const bound = /le="([^"]+)"/.exec(m[2] as string)?.[1];
    if (bound === "+Inf") total = Number(m[3]);
    else if (bound !== undefined) le.set(Number(bound), Number(m[3]));
  }
  return { le, total };
}

/** Zone rebuilds so far on the node (dcnet_dns_zone_build_seconds count and sum, all zones). */
async function zoneBuilds(port: number): Promise<{ n: number; seconds: number }> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const sum = (suffix: string) =>
    text
      .split("\n")
      .filter((l) => l.startsWith(`dcnet_dns_zone_build_seconds_${suffix}{`))
      .reduce((a, l) => a + Number(l.split(" ").pop()), 0);
  return { n: sum("count"), seconds: sum("sum") };
}

/** V8's --trace-gc lines of a node since line `from`: pause count, longest and total pause (ms). */
function gcPauses(lines: ReadonlyArray<{ readonly msg?: string }>, from: number): { n: number; max: number; total: number; kinds: Map<string, number> } {
  const kinds = new Map<string, number>();
  let n = 0;
  let max = 0;
  let total = 0;
  for (const l of lines.slice(from)) {
    const m = /ms: ([A-Za-z-]+)[^,]*, ([\d.]+) \/ [\d.]+ ms/.exec(l.msg ?? "");
    if (!m) continue;
    const ms = Number(m[2]);
    n++;
    total += ms;
    max = Math.max(max, ms);
    kinds.set(m[1] as string, (kinds.get(m[1] as string) ?? 0) + 1);
  }
  return { n, max, total, kinds };
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
const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)] as number;
try {
  const queries = join(dir, "queries.txt");
  writeFileSync(queries, benchQueries());
  const nats = await startNatsServer({});
  cleanups.push(() => nats.stop());
  // Heartbeats as a real master sends them: without, each node's stream times out every ~45 s and
  // the node publishing the .mesos records changes each time (background work in the latency rounds).
  const master = await startMesosMaster({ script: [EMPTY_SUBSCRIBED], masterState: benchMasterState(), heartbeatMs: 5000 });
  cleanups.push(() => master.close());
  const metricsPort = await freePort();
  // Two nodes: the default configuration, and the same with the answer cache off.
  const startNode = async (id: string, answerCache: boolean, metricsListen: string): Promise<{ port: number; node: DcnetProcess }> => {
    const dnsPort = await freePort();
    writeFileSync(join(dir, `${id}.yaml`), `log:\n  level: info\nmesos:\n  tasksReadinessMs: 100\nmetrics:\n  listen: "${metricsListen}"\napi:\n  listen: ""\ndns:\n  udpEngine: ${ENGINE}\n  answerCache: ${answerCache}\n`);
    // --trace-gc (V8 prints each collection's pause on stdout): only for the default node, only when asked.
    const execArgv = TRACE_GC && answerCache ? { DCNET_TEST_EXEC_ARGV: "--trace-gc" } : {};
    const saved = process.env.DCNET_TEST_EXEC_ARGV;
    Object.assign(process.env, execArgv);
    const node = spawnDcnet(["node", "--config", join(dir, `${id}.yaml`), "--nats", nats.url, "--id", id, "--mesos", master.url, "--dns-listen", `127.0.0.1:${dnsPort}`]);
    if (saved === undefined) delete process.env.DCNET_TEST_EXEC_ARGV;
    else process.env.DCNET_TEST_EXEC_ARGV = saved;
    cleanups.push(() => node.stop());
    await node.waitForLine(isReady, 30_000).catch(() => undefined);
    const deadline = Date.now() + 30_000;
    for (;;) {
      const r = await dig({ host: "127.0.0.1", port: dnsPort }, ["app-0999.marathon.mesos", "A"]).catch(() => undefined);
      if (r?.answer.some((a) => a.data === "10.0.3.250")) break;
      if (Date.now() > deadline) throw new Error(`dcnet ${id} did not serve app-0999.marathon.mesos within 30 s; node log: ${node.lines().slice(-8).map((l) => JSON.stringify(l)).join("\n")}`);
      await new Promise((r2) => setTimeout(r2, 200));
    }
    return { port: dnsPort, node };
  };
  const { port: dnsPort, node: dcnetNode } = await startNode("bench", true, `127.0.0.1:${metricsPort}`);
  const { port: noCachePort } = await startNode("bench-nocache", false, "");
  // The references serve the records Mesos-DNS itself generates from the bench state (its oracle
  // file), so every server holds the same names: SRV targets included.
  const head = benchUnboundData().localData.slice(0, 3);
  const records = oracleRecords("bench-state.default-rfc1123.tsv").map((l) => {
    const [type, name, value] = l.split("\t") as [string, string, string];
    if (type !== "SRV") return `${name} 60 IN ${type} ${value}`;
    const at = value.lastIndexOf(":");
    return `${name} 60 IN SRV 0 1 ${value.slice(at + 1)} ${value.slice(0, at)}`;
  });
  const data = { localZones: benchUnboundData().localZones, localData: [...head, ...records] };
  const unbound = await startUnbound(data);
  cleanups.push(() => unbound.stop());
  const zoneText = `$TTL 60\n${data.localData.join("\n")}\n`;
  const nsd = await startRef("nsd", "mesos", zoneText, await freePort());
  cleanups.push(() => nsd.stop());
  const knot = await startRef("knot", "mesos", zoneText, await freePort());
  cleanups.push(() => knot.stop());
  const floorPort = await freePort();
  const floor = fork(fileURLToPath(new URL("./dns-floor-server.ts", import.meta.url)), [String(floorPort)], { execArgv: ["--import", "tsx"], stdio: ["ignore", "inherit", "inherit", "ipc"] });
  cleanups.push(async () => {
    floor.kill("SIGTERM");
  });
  await new Promise<void>((resolve, reject) => {
    floor.once("message", () => resolve());
    floor.once("exit", (code) => reject(new Error(`floor server exited ${code}`)));
  });

  type Label = "unbound" | "nsd" | "knot" | "dcnet" | "dcnet-nocache" | "node-floor";
  const servers: ReadonlyArray<readonly [Label, number]> = [
    ["unbound", unbound.port],
    ["nsd", nsd.port],
    ["knot", knot.port],
    ["dcnet", dnsPort],
    ["dcnet-nocache", noCachePort],
    // The floor is a UDP socket sending one fixed answer: over TCP, and in the answer check, it has no place.
    ...(MODE === "udp" ? [["node-floor", floorPort] as const] : []),
  ];
  const dnsServers = servers.filter(([l]) => l !== "node-floor");

  // Same answers everywhere: every 10th query of the workload (112 of 1,111), each server asked.
  const sample = benchQueries()
    .trim()
    .split("\n")
    .filter((_, i) => i % 10 === 0)
    .map((l) => l.split(" ") as [string, string]);
  const rcodes = new Map<string, number>();
  const mismatches: string[] = [];
  for (const [name, type] of sample) {
    const got = new Map<Label, Answer | undefined>();
    for (const [label, port] of dnsServers) got.set(label, await ask(port, name, type));
    const ref = JSON.stringify(got.get("unbound"));
    for (const [label, a] of got) if (JSON.stringify(a) !== ref) mismatches.push(`${name} ${type}: ${label} ${JSON.stringify(a)} vs unbound ${ref}`);
    const rc = got.get("unbound")?.rcode ?? "none";
    rcodes.set(rc, (rcodes.get(rc) ?? 0) + 1);
  }
  console.log(`# answers: ${sample.length} sampled queries asked of ${dnsServers.map(([l]) => l).join(", ")}: ${mismatches.length === 0 ? "all the same" : `${mismatches.length} differ`} (rcodes ${[...rcodes].map(([k, v]) => `${k} ${v}`).join(", ")}; answer sets compared without TTLs)`);
  for (const m of mismatches.slice(0, 10)) console.log(`#   ${m}`);
  if (mismatches.length > 0) process.exitCode = 1;

  const load = (): string => loadavg().map((l) => l.toFixed(2)).join(" ");
  console.log(`# dnsperf -m ${MODE} -l ${SECONDS} -c ${CLIENTS} -q ${OUTSTANDING}: ${RUNS} rounds, each server once per round, order reversed every round; load average ${load()} (a shared machine)`);
  const qps = new Map<Label, number[]>(servers.map(([l]) => [l, []]));
  const lostBy = new Map<Label, number>(servers.map(([l]) => [l, 0]));
  const rcodesBy = new Map<Label, string>();
  for (let r = 0; r < RUNS; r++) {
    for (const [label, port] of r % 2 === 0 ? servers : [...servers].reverse()) {
      const t = await throughput(port, queries);
      qps.get(label)?.push(t.qps);
      lostBy.set(label, (lostBy.get(label) ?? 0) + t.lost);
      rcodesBy.set(label, t.rcodes);
    }
  }
  for (const [label] of dnsServers) console.log(`# ${label} response codes (last round): ${rcodesBy.get(label)}`);
  // Latency, the same way; the median round's p99 is reported: on a shared 2-core machine one run's
  // p99 is often another tenant's burst, for any server.
  const lat = new Map<Label, Array<{ p50: number; p99: number; n: number }>>(dnsServers.map(([l]) => [l, []]));
  const queuedBefore = await queuedBuckets(metricsPort);
  const answeredBefore = await queuedBuckets(metricsPort, "dcnet_dns_request_duration_seconds");
  const gcFrom = dcnetNode.lines().length;
  const buildsBefore = await zoneBuilds(metricsPort);
  for (let r = 0; r < LAT_RUNS; r++) {
    for (const [label, port] of r % 2 === 0 ? dnsServers : [...dnsServers].reverse()) lat.get(label)?.push(await latency(port, queries));
  }
  const queued = diffBuckets(await queuedBuckets(metricsPort), queuedBefore);
  const answered = diffBuckets(await queuedBuckets(metricsPort, "dcnet_dns_request_duration_seconds"), answeredBefore);
  const gc = gcPauses(dcnetNode.lines(), gcFrom);
  const buildsAfter = await zoneBuilds(metricsPort);
  console.log(`# load average after: ${load()}`);
  const q = (l: Label) => median(qps.get(l) ?? []);
  const p99 = (l: Label) => median((lat.get(l) ?? []).map((x) => x.p99));
  const p50 = (l: Label) => median((lat.get(l) ?? []).map((x) => x.p50));
  for (const [label] of servers) {
    const runs = (qps.get(label) ?? []).map((x) => Math.round(x)).join(" ");
    const lost = lostBy.get(label) ? ` lost ${lostBy.get(label)}` : "";
    const l = lat.get(label);
    const latText = l ? `  p50_ms=${p50(label).toFixed(3)} p99_ms=${p99(label).toFixed(3)} (at ${LAT_QPS} qps; rounds' p99: ${l.map((x) => x.p99.toFixed(2)).join(" ")})` : "  (one fixed answer: the ceiling of a node:dgram server)";
    console.log(`${label.padEnd(14)} qps=${Math.round(q(label))} (rounds: ${runs}${lost})${latText}`);
  }
  const ratio = (a: number, b: number) => (a / b).toFixed(2);
  console.log(`ratio qps      dcnet/unbound = ${ratio(q("dcnet"), q("unbound"))}  dcnet/nsd = ${ratio(q("dcnet"), q("nsd"))}  dcnet/knot = ${ratio(q("dcnet"), q("knot"))}  (target >= 1.0 vs unbound)`);
  console.log(`ratio qps      dcnet-nocache/unbound = ${ratio(q("dcnet-nocache"), q("unbound"))}  dcnet-nocache/nsd = ${ratio(q("dcnet-nocache"), q("nsd"))}  dcnet-nocache/dcnet = ${ratio(q("dcnet-nocache"), q("dcnet"))}`);
  if (MODE === "udp") console.log(`ratio qps      dcnet(${ENGINE})/node-floor = ${ratio(q("dcnet"), q("node-floor"))}`);
  console.log(`ratio p99      dcnet/nsd = ${ratio(p99("dcnet"), p99("nsd"))}  dcnet-nocache/nsd = ${ratio(p99("dcnet-nocache"), p99("nsd"))}  dcnet/unbound = ${ratio(p99("dcnet"), p99("unbound"))}  dcnet/knot = ${ratio(p99("dcnet"), p99("knot"))}  (target dcnet/nsd <= 2)`);
  // The server's own share of that latency: kernel receive timestamp → read by the node (batch engine).
  if (answered.total > 0) console.log(`server         dcnet receive → answer inside the node during the latency rounds: p99 <= ${quantileBound(answered, 0.99) * 1000} ms, p99.9 <= ${quantileBound(answered, 0.999) * 1000} ms (n=${answered.total})`);
  console.log(`server         dcnet zone rebuilds on its main thread during the latency rounds: ${buildsAfter.n - buildsBefore.n}, ${((buildsAfter.seconds - buildsBefore.seconds) * 1000).toFixed(1)} ms in all (the master state did not change: a rebuild here is background work)`);
  if (TRACE_GC) console.log(`server         dcnet GC during the latency rounds (${LAT_RUNS} x ${LAT_SECONDS} s at ${LAT_QPS} qps, plus the other servers' rounds): ${gc.n} pauses (${[...gc.kinds].map(([k, v]) => `${k} ${v}`).join(", ")}), longest ${gc.max.toFixed(2)} ms, total ${gc.total.toFixed(1)} ms`);
  if (queued.total > 0) console.log(`server         dcnet queries waiting in its socket during the latency rounds: p99 <= ${quantileBound(queued, 0.99) * 1000} ms, ${(100 * (1 - (queued.le.get(0.001) ?? 0) / queued.total)).toFixed(2)}% over 1 ms (n=${queued.total}); the rest of dnsperf's figure is the kernel and the client`);
} finally {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
}
