// bench/cli-start: start-up of the `dcnet` executable (bin/dcnet.js → the compiled build in dist/) next to
// bare node. Interleaved rounds, each command a fresh process: `node -e 0` (the reference), `dcnet --help`,
// `dcnet ctl ping` against a running node, and the same ping under Node's own source-map support
// (--enable-source-maps, what bin/dcnet.js avoids); median wall time (spawn → exit) and max RSS of each,
// and the ratio to bare node. Then a node's own start-up: `dcnet node` started several times, alone and
// joining a running node, and `dcnet up`; its `startupMs` (from the "dcnet node ready" log line) and the
// wall time from spawn to that line. Targets (issue 10): ctl ping ≤ 250 ms, --help ≤ 200 ms, startupMs ≤ 600 ms.
// One nats-server on 127.0.0.1; every process started here is stopped by its PID, also on failure.
//   npx tsx bench/cli-start.ts [--runs 15] [--starts 5]
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { startNatsServer, freePort, type NatsServerHandle } from "../integration/harness/nats-local.js";
import { spawnDcnet, isReady, type DcnetProcess } from "../integration/support/dcnet-process.js";
import { percentile, arg } from "./stats.js";

const RUNS = Math.min(Math.max(arg("--runs", 15), 10), 200);
const STARTS = Math.min(arg("--starts", 5), 50);
const COMMAND_TIMEOUT_MS = 20_000;
const BIN = fileURLToPath(new URL("../bin/dcnet.js", import.meta.url));
const BUILD = fileURLToPath(new URL("../dist/cli/main.js", import.meta.url));
const TIME = "/usr/bin/time";
const TARGETS = { help: 200, ping: 250, startupMs: 600 };

interface Sample {
  readonly wallMs: number;
  readonly rssMb: number;
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

if (!existsSync(BUILD)) {
  console.error(`cli-start: no compiled build (${BUILD}); run npm run build first`);
  process.exit(2);
}

const dir = mkdtempSync(join(tmpdir(), "dcnet-cli-start-"));
// Max RSS: GNU time's %M when installed, else the child reports its own process.resourceUsage().maxRSS at exit.
const haveTime = existsSync(TIME);
const preload = join(dir, "rss.cjs");
writeFileSync(preload, 'process.on("exit", () => require("node:fs").writeFileSync(process.env.DCNET_BENCH_RSS_FILE, String(process.resourceUsage().maxRSS)));\n');

const running = new Set<ChildProcess>();
const nodes: DcnetProcess[] = [];
let nats: NatsServerHandle | undefined;
let cleaned = false;
async function cleanup(): Promise<void> {
  if (cleaned) return;
  cleaned = true;
  for (const c of running) if (c.pid !== undefined && c.exitCode === null && c.signalCode === null) process.kill(c.pid, "SIGKILL");
  await Promise.all(nodes.map((n) => n.stop(5000)));
  await nats?.stop();
  rmSync(dir, { recursive: true, force: true });
}
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => void cleanup().finally(() => process.exit(130)));
}

let seq = 0;
/** One fresh `node <argv>` process: wall time from spawn to exit, max RSS, output. */
async function measure(argv: readonly string[]): Promise<Sample> {
  const rssFile = join(dir, `rss-${seq++}`);
  const [cmd, args, extraEnv] = haveTime
    ? [TIME, ["-f", "%M", "-o", rssFile, process.execPath, ...argv], {}]
    : [process.execPath, ["--require", preload, ...argv], { DCNET_BENCH_RSS_FILE: rssFile }];
  const started = performance.now();
  // NODE_OPTIONS cleared: the process under test must not inherit tsx's loader from this script.
  const child = spawn(cmd, args, { env: { ...process.env, NODE_OPTIONS: "", ...extraEnv }, stdio: ["ignore", "pipe", "pipe"] });
  running.add(child);
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (b: Buffer) => (stdout += b.toString()));
  child.stderr.on("data", (b: Buffer) => (stderr += b.toString()));
  const timer = setTimeout(() => child.pid !== undefined && process.kill(child.pid, "SIGKILL"), COMMAND_TIMEOUT_MS);
  const closed = new Promise<void>((resolve) => child.once("close", () => resolve()));
  const code = await new Promise<number | null>((resolve) => child.once("exit", (c) => resolve(c)));
  const wallMs = performance.now() - started;
  await closed;
  clearTimeout(timer);
  running.delete(child);
  // GNU time writes "Command exited with non-zero status N" first when the command failed.
  const kb = Number(readFileSync(rssFile, "utf8").trim().split("\n").pop());
  return { wallMs, rssMb: kb / 1024, code, stdout, stderr };
}

/**
 * Starts `dcnet node` (or, without a NATS URL, `dcnet up` with its own nats-server) and waits for its
 * ready line; returns its startupMs and the spawn → ready wall time.
 */
async function startNode(id: string, url?: string): Promise<{ node: DcnetProcess; startupMs: number; wallMs: number }> {
  const dnsPort = await freePort();
  const how = url === undefined ? ["up", "--nats-port", String(await freePort())] : ["node", "--nats", url];
  const started = performance.now();
  const node = spawnDcnet([...how, "--id", id, "--dns-listen", `127.0.0.1:${dnsPort}`, "--metrics-listen", ""]);
  nodes.push(node);
  const ready = await node.waitForLine(isReady, 20_000);
  return { node, startupMs: Number(ready.startupMs), wallMs: performance.now() - started };
}

const STARTED_AS = { alone: "node, alone (nobody to sync from)", joining: "node, joining a running node", up: "up (its own nats-server)" };

async function nodeStarts(label: keyof typeof STARTED_AS, url?: string): Promise<{ label: keyof typeof STARTED_AS; startupMs: number[]; wallMs: number[] }> {
  const startupMs: number[] = [];
  const wallMs: number[] = [];
  for (let i = 0; i < STARTS; i++) {
    const r = await startNode(`start-${label}-${i}`, url);
    startupMs.push(r.startupMs);
    wallMs.push(r.wallMs);
    const { code } = await r.node.stop(5000);
    if (code !== 0) throw new Error(`node start-${label}-${i} stopped with code ${code}`);
  }
  return { label, startupMs, wallMs };
}

const median = (xs: readonly number[]): number => percentile(xs, 50);
const fmt = (x: number, digits = 1): string => x.toFixed(digits);
const verdict = (value: number, target: number): string => `<= ${target} ms  ${value <= target ? "PASS" : "FAIL"}`;

let failed = false;
try {
  nats = await startNatsServer({ jetstream: true });

  // A node alone (as `dcnet up` starts), then nodes joining one that is running (a peer to sync from).
  const alone = await nodeStarts("alone", nats.url);
  const up = await nodeStarts("up");
  const target = await startNode("bench-cli", nats.url);
  const joining = await nodeStarts("joining", nats.url);

  const commands = [
    { name: "node -e 0", argv: ["-e", "0"], check: (s: Sample) => s.code === 0 },
    { name: "dcnet --help", argv: [BIN, "--help"], check: (s: Sample) => s.code === 0 && s.stdout.startsWith("Usage: dcnet"), target: TARGETS.help },
    {
      name: "dcnet ctl ping",
      argv: [BIN, "ctl", "--nats", nats.url, "ping"],
      check: (s: Sample) => s.code === 0 && s.stderr === "" && /^pong from bench-cli \(dcnet \d+\.\d+\.\d+\S*, up \S+\) in [\d.]+ ms\n$/.test(s.stdout),
      target: TARGETS.ping,
    },
    {
      name: "ctl ping, --enable-source-maps",
      argv: ["--enable-source-maps", BIN, "ctl", "--nats", nats.url, "ping"],
      check: (s: Sample) => s.code === 0 && s.stdout.startsWith("pong from bench-cli"),
    },
  ];
  const samples = commands.map(() => [] as Sample[]);
  // Interleaved: every round runs each command once, starting one further along each time.
  for (let round = 0; round < RUNS; round++) {
    for (let k = 0; k < commands.length; k++) {
      const i = (round + k) % commands.length;
      const c = commands[i]!;
      const s = await measure(c.argv);
      if (!c.check(s)) throw new Error(`${c.name}: unexpected result (exit ${s.code}); stdout: ${JSON.stringify(s.stdout.slice(0, 300))}; stderr: ${JSON.stringify(s.stderr.slice(0, 300))}`);
      samples[i]!.push(s);
    }
  }

  const baseWall = median(samples[0]!.map((s) => s.wallMs));
  const baseRss = median(samples[0]!.map((s) => s.rssMb));
  console.log(`cli-start: ${RUNS} interleaved runs of each, median; node ${process.version}; RSS from ${haveTime ? "GNU time" : "process.resourceUsage()"}`);
  console.log(`  ${"command".padEnd(32)} ${"wall ms".padStart(8)} ${"RSS MB".padStart(7)} ${"wall/node".padStart(10)} ${"RSS/node".padStart(9)}  target`);
  commands.forEach((c, i) => {
    const wall = median(samples[i]!.map((s) => s.wallMs));
    const rss = median(samples[i]!.map((s) => s.rssMb));
    const t = c.target === undefined ? "" : verdict(wall, c.target);
    if (c.target !== undefined && wall > c.target) failed = true;
    console.log(`  ${c.name.padEnd(32)} ${fmt(wall).padStart(8)} ${fmt(rss).padStart(7)} ${fmt(wall / baseWall, 2).padStart(10)} ${fmt(rss / baseRss, 2).padStart(9)}  ${t}`);
  });
  console.log(`  ctl ping said: ${samples[2]![0]!.stdout.trim()}`);

  console.log(`node start -> ready: ${STARTS} starts each, median (startupMs from the node's "dcnet node ready" line; wall from spawn)`);
  for (const r of [alone, joining, up]) {
    const s = median(r.startupMs);
    if (s > TARGETS.startupMs) failed = true;
    console.log(`  ${STARTED_AS[r.label].padEnd(34)} startupMs ${fmt(s, 0).padStart(5)}  spawn->ready ${fmt(median(r.wallMs), 0).padStart(5)} ms  startupMs ${verdict(s, TARGETS.startupMs)}`);
  }
  console.log(`cli-start: ${failed ? "FAIL (a figure is over its target)" : "PASS (every figure within its target)"}`);
  await target.node.stop(5000);
} catch (err) {
  console.error(`cli-start: ${(err as Error).message}`);
  process.exitCode = 1;
} finally {
  await cleanup();
}
