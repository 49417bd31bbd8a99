// bench/propagation: write-to-visible-everywhere latency of the gossip store, p50/p99, with
//   - 3 real node processes (startNode, exactly as `dcnet node` runs),
//   - 50 and 200 store instances sharing the NATS cluster (several per process),
// and messages/bytes per change next to what whole-key replication (lashup) would send for the
// same change, for a small key (1 field) and a big one (100 fields): our bytes must not grow with
// the key. Then memory: one store holding 10,000 keys × 10 fields, RSS reported.
//
// The 3-process figures are measured twice in the same run: on an open NATS cluster and on one with
// authentication (docs/security.md: TLS with client certificates mapped to users, routes over TLS,
// each node with its node credential). Rounds alternate plain / auth+TLS, the order flipping every
// round; the overhead is the median over rounds of (auth+TLS / plain), target ≤ 1.2. Both sides must
// deliver every change to every node and send the same delta messages per change.
//   npx tsx bench/propagation.ts [--keys 200] [--rate 200] [--rounds 9] [--quick] [--no-auth-compare] [--verbose]
//   npx tsx bench/propagation.ts --no-auth-compare --swim-sizes 200,1000   (issue 17: SWIM, default store timings, only these)
import { fork, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { pino } from "pino";
import { freePort, startNatsCluster, type NatsClusterHandle } from "../integration/harness/nats-local.js";
import { makeTestCreds } from "../integration/harness/creds.js";
import { startNode } from "../actors/node/index.js";
import { validateConfig } from "../actors/node/config.js";
import { createLogHub } from "../observability/logger.js";
import type { StoreMsg } from "../actors/gossip/index.js";
import { STORE_PATH } from "../actors/gossip/index.js";
import { percentile, arg } from "./stats.js";
import { manyInstanceGcFlags } from "./worker-gc.js";

const KEYS = arg("--keys", 200);
// --gossip '{"digestFanIn":4}': gossip settings over the defaults for the --swim-sizes runs (printed in their line).
const GOSSIP_EXTRA = process.argv.includes("--gossip") ? (JSON.parse(process.argv[process.argv.indexOf("--gossip") + 1] ?? "{}") as Record<string, number | string>) : undefined;
const RATE = arg("--rate", 200);
const ROUNDS = arg("--rounds", 9);
const quick = process.argv.includes("--quick");
// --settle-s N: for the --swim-sizes runs, wait N s after every instance sees every other alive before
// writing (a change in a steady cluster, not one queued behind the start-up's joins and syncs).
const SETTLE_S = arg("--settle-s", 0);
// --per-process N: store instances per worker process in the --swim-sizes runs (default 250).
const PER_PROCESS = arg("--per-process", 250);
const compare = !process.argv.includes("--no-auth-compare");
const verbose = process.argv.includes("--verbose");
const WORKER = fileURLToPath(new URL("./propagation-worker.ts", import.meta.url));

interface Written {
  written: Array<{ key: string; at: number }>;
  deltas: number;
  bytes: number;
  /** null on a shared connection: its count is every instance's. */
  msgsOut: number | null;
  wholeKeyBytes: number;
}

class Worker {
  readonly child: ChildProcess;
  private readonly waiters: Array<{ type: string; resolve: (m: Record<string, unknown>) => void }> = [];
  constructor(manyInstances = false) {
    // BENCH_WORKER_FLAGS: more V8/Node flags for the workers (e.g. --trace-gc), space-separated.
    const extra = (process.env.BENCH_WORKER_FLAGS ?? "").split(" ").filter((f) => f !== "");
    // Hundreds of instances in one heap: the membership workers' GC setting (worker-gc.ts).
    const gc = manyInstances ? manyInstanceGcFlags() : [];
    this.child = fork(WORKER, [], { execArgv: ["--import", "tsx", ...gc, ...extra], stdio: ["ignore", "inherit", "inherit", "ipc"] });
    this.child.on("message", (raw) => {
      const m = raw as Record<string, unknown>;
      if (m.type === "error") {
        console.error(`worker failed: ${String(m.message)}`);
        process.exitCode = 1;
        for (const w of this.waiters.splice(0)) w.resolve({ type: "failed" });
        return;
      }
      const i = this.waiters.findIndex((w) => w.type === m.type);
      if (i >= 0) this.waiters.splice(i, 1)[0]?.resolve(m);
    });
    // A worker that died answers nothing more: its callers are told so (else the bench waits for ever).
    this.child.on("exit", () => {
      for (const w of this.waiters.splice(0)) w.resolve({ type: "failed" });
    });
  }
  call<T>(msg: Record<string, unknown>, replyType: string): Promise<T> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return Promise.resolve({ type: "failed" } as T);
    const p = new Promise<T>((resolve) => this.waiters.push({ type: replyType, resolve: (m) => resolve(m as T) }));
    this.child.send(msg);
    return p;
  }
}

/** One timed run of KEYS changes written on worker 0's first store: when each was visible everywhere. */
interface Measured {
  readonly everywhere: number[];
  readonly missing: number;
  readonly deltasPerChange: number;
  readonly bytesPerChange: number;
  readonly wholeKeyBytes: number;
  readonly msgsOutPerChange: number;
  readonly rss: number;
}

async function startWorkers(processes: number, perProcess: number, servers: string[], gossip: Record<string, number | string>, full: boolean, creds?: string, shared = false): Promise<Worker[]> {
  const workers = Array.from({ length: processes }, () => new Worker(perProcess >= 100));
  await Promise.all(workers.map((w, i) => w.call({ type: "start", worker: i, count: perProcess, servers, gossip, full, shared, ...(creds === undefined ? {} : { creds }) }, "started")));
  return workers;
}

async function stopWorkers(workers: readonly Worker[]): Promise<void> {
  await Promise.all(workers.map((w) => w.call({ type: "stop" }, "stopped").catch(() => undefined)));
}

async function measure(workers: readonly Worker[], total: number, fields: number, prefix: string): Promise<Measured> {
  const w = await (workers[0] as Worker).call<Written | { type: "failed" }>({ type: "write", node: 0, keys: KEYS, fields, ratePerSec: RATE, prefix }, "written");
  if (!("written" in w)) throw new Error("the writer's worker failed before the changes were written (its error is above)");
  const writtenAt = new Map(w.written.map((x) => [x.key, x.at]));
  let arrivals = new Map<string, number[]>();
  let rss = 0;
  for (let tries = 0; tries < 60; tries++) {
    const reports = await Promise.all(workers.map((x) => x.call<{ seen: Array<[string, number[]]>; rss: number }>({ type: "report" }, "report")));
    arrivals = new Map();
    rss = reports.reduce((n, r) => n + r.rss, 0);
    for (const r of reports) for (const [k, times] of r.seen) if (writtenAt.has(k)) arrivals.set(k, [...(arrivals.get(k) ?? []), ...times]);
    if ([...writtenAt.keys()].every((k) => (arrivals.get(k)?.length ?? 0) >= total)) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  const all = [...writtenAt].map(([k, at]) => {
    const times = arrivals.get(k) ?? [];
    return times.length >= total ? Math.max(...times) - at : Number.NaN;
  });
  return {
    everywhere: all.filter((x) => !Number.isNaN(x)),
    missing: all.filter((x) => Number.isNaN(x)).length,
    deltasPerChange: w.deltas / KEYS,
    bytesPerChange: w.bytes / KEYS,
    wholeKeyBytes: w.wholeKeyBytes,
    msgsOutPerChange: w.msgsOut === null ? Number.NaN : w.msgsOut / KEYS,
    rss,
  };
}

function line(label: string, fields: number, n: number, m: Pick<Measured, "everywhere" | "missing" | "deltasPerChange" | "bytesPerChange" | "wholeKeyBytes" | "msgsOutPerChange" | "rss">): string {
  return (
    `${label.padEnd(34)} fields=${String(fields).padStart(3)} n=${n} p50=${percentile(m.everywhere, 50).toFixed(2)} ms p99=${percentile(m.everywhere, 99).toFixed(2)} ms` +
    ` missing=${m.missing} | delta msgs/change=${m.deltasPerChange.toFixed(2)} bytes/change=${m.bytesPerChange.toFixed(0)}` +
    ` vs whole-key (value alone, no envelope) bytes/change=${m.wholeKeyBytes} (ratio ${(m.bytesPerChange / m.wholeKeyBytes).toFixed(2)}); NATS msgs out of writer/change=${Number.isNaN(m.msgsOutPerChange) ? "n/a (shared connection)" : m.msgsOutPerChange.toFixed(2)}; RSS all=${(m.rss / 2 ** 20).toFixed(0)} MiB`
  );
}

async function scenario(label: string, servers: string[], processes: number, perProcess: number, fields: number, gossip: Record<string, number | string>, full = false, shared = false): Promise<void> {
  const began = Date.now();
  const workers = await startWorkers(processes, perProcess, servers, gossip, full, undefined, shared);
  try {
    await new Promise((r) => setTimeout(r, Math.max(1500, 3 * Number(gossip.heartbeatMs ?? 200))));
    if (shared) {
      // Hundreds per process: measured once every instance sees every other alive (SWIM has
      // converged), not while the start-up's joins still flood the machine; at most 5 minutes.
      const total = processes * perProcess;
      let min = 0;
      while (Date.now() - began < 300_000) {
        const replies = await Promise.all(workers.map((w) => w.call<{ min?: number }>({ type: "alive" }, "alive")));
        min = Math.min(...replies.map((r) => r.min ?? -1));
        if (min >= total - 1) break;
        await new Promise((r) => setTimeout(r, 1000));
      }
      console.log(`# ${label}: ${min >= total - 1 ? "every instance sees every other alive" : `NOT converged (fewest alive peers seen: ${min} of ${total - 1})`} ${((Date.now() - began) / 1000).toFixed(1)} s after the start; ${SETTLE_S > 0 ? `measuring after ${SETTLE_S} s more` : "measuring"}`);
      await new Promise((r) => setTimeout(r, SETTLE_S * 1000));
    }
    const m = await measure(workers, processes * perProcess, fields, `${label.replace(/\W+/g, "-")}-${fields}`);
    console.log(line(label, fields, KEYS, m));
  } finally {
    await stopWorkers(workers);
  }
}

/**
 * 3 node processes on the open cluster and 3 on the secured one, all running at once; for each key
 * size, ROUNDS rounds of one timed run per side, the side going first alternating. Prints each side's
 * line over all rounds and the overhead (median of the per-round ratios). Returns false when a side
 * lost a change or the two sides sent different numbers of delta messages.
 */
async function compared(plainUrls: string[], secure: NatsClusterHandle, credsDir: string): Promise<boolean> {
  const sides = [
    { label: "3 node processes", workers: await startWorkers(3, 1, plainUrls, {}, true) },
    { label: "3 node processes, auth+TLS", workers: await startWorkers(3, 1, secure.servers.map((s) => `tls://127.0.0.1:${s.port}`), {}, true, credsDir) },
  ];
  let same = true;
  try {
    await new Promise((r) => setTimeout(r, 1500));
    for (const fields of [1, 100]) {
      const runs = sides.map(() => [] as Measured[]);
      for (let round = 0; round < ROUNDS; round++) {
        const order = round % 2 === 0 ? [0, 1] : [1, 0];
        for (const i of order) runs[i]?.push(await measure((sides[i] as (typeof sides)[number]).workers, 3, fields, `cmp-${i}-${fields}-r${round}`));
      }
      const total = (ms: readonly Measured[]): Measured => ({
        everywhere: ms.flatMap((m) => m.everywhere),
        missing: ms.reduce((n, m) => n + m.missing, 0),
        deltasPerChange: ms.reduce((n, m) => n + m.deltasPerChange, 0) / ms.length,
        bytesPerChange: ms.reduce((n, m) => n + m.bytesPerChange, 0) / ms.length,
        wholeKeyBytes: ms[ms.length - 1]?.wholeKeyBytes ?? 0,
        msgsOutPerChange: ms.reduce((n, m) => n + m.msgsOutPerChange, 0) / ms.length,
        rss: ms[ms.length - 1]?.rss ?? 0,
      });
      const [plain, auth] = runs.map(total) as [Measured, Measured];
      sides.forEach((s, i) => console.log(line(s.label, fields, KEYS * ROUNDS, total(runs[i] as Measured[]))));
      const ratio = (p: number): number =>
        percentile(
          (runs[1] as Measured[]).map((m, r) => percentile(m.everywhere, p) / percentile((runs[0] as Measured[])[r]?.everywhere ?? [], p)),
          50,
        );
      if (verbose) for (const [i, s] of sides.entries()) console.log(`  ${s.label} per round p50/p99: ${(runs[i] as Measured[]).map((m) => `${percentile(m.everywhere, 50).toFixed(1)}/${percentile(m.everywhere, 99).toFixed(1)}`).join(" ")}`);
      const ok = plain.missing === 0 && auth.missing === 0 && plain.deltasPerChange === auth.deltasPerChange;
      same &&= ok;
      console.log(
        `${"auth+TLS overhead".padEnd(34)} fields=${String(fields).padStart(3)} p50 x${ratio(50).toFixed(2)} p99 x${ratio(99).toFixed(2)} (median of ${ROUNDS} interleaved rounds, order alternating; target <= 1.2);` +
          ` both sides: every change on every node ${plain.missing === 0 && auth.missing === 0 ? "yes" : "NO"}, delta msgs/change ${plain.deltasPerChange.toFixed(2)} / ${auth.deltasPerChange.toFixed(2)}, bytes/change ${plain.bytesPerChange.toFixed(0)} / ${auth.bytesPerChange.toFixed(0)}`,
      );
    }
  } finally {
    await Promise.all(sides.map((s) => stopWorkers(s.workers)));
  }
  return same;
}

async function memory(servers: string[]): Promise<void> {
  const logs = createLogHub({ level: "error", bindings: {}, destination: pino.destination(2) });
  global.gc?.();
  const rss0 = process.memoryUsage().rss;
  const node = await startNode(validateConfig({ id: "mem", nats: { servers, insecure: true }, log: { level: "error" }, dns: { listen: [`127.0.0.1:${await freePort()}`] }, metrics: { listen: "" } }), { logs });
  const store = node.tree.lookup<StoreMsg>(STORE_PATH);
  if (!store) throw new Error("no store");
  const t0 = performance.now();
  const pending: Promise<unknown>[] = [];
  for (let k = 0; k < 10_000; k++) {
    const ops = Array.from({ length: 10 }, (_, f) => ({ op: "set" as const, field: `field-${f}`, value: `value-${k}-${f}` }));
    pending.push(store.ask((reply) => ({ type: "update", key: `mem/${k}`, ops, reply }), 60_000));
    if (pending.length >= 500) await Promise.all(pending.splice(0));
  }
  await Promise.all(pending);
  const ms = performance.now() - t0;
  global.gc?.();
  const { rss, heapUsed } = process.memoryUsage();
  console.log(`memory: 10,000 keys x 10 fields written in ${ms.toFixed(0)} ms; RSS ${(rss / 2 ** 20).toFixed(0)} MiB (+${((rss - rss0) / 2 ** 20).toFixed(0)} MiB for the node), heap used ${(heapUsed / 2 ** 20).toFixed(0)} MiB`);
  await node.stop("bench done");
}

const cluster = await startNatsCluster(3, { jetstream: false });
const creds = compare ? await makeTestCreds({ cluster: "dcnet", servers: 3, nodes: ["w0-n0", "w1-n0", "w2-n0"] }) : undefined;
const secure = creds ? await startNatsCluster(3, { jetstream: false, name: "dcnet-secure", secure: creds.secureCluster() }) : undefined;
try {
  const fast = {};
  // 200 instances on 2 cores: heartbeats and digests every 200 ms / 1 s from each would be
  // 200k deliveries/s of background traffic alone; the big scenarios slow them down and say so.
  const calm = { heartbeatMs: 1000, suspectAfterMs: 5000, deadAfterMs: 10_000, antiEntropyMs: 5000 };
  const calmer = { heartbeatMs: 2000, suspectAfterMs: 10_000, deadAfterMs: 20_000, antiEntropyMs: 10_000 };
  if (secure && creds) {
    if (!(await compared(cluster.urls, secure, creds.dir))) process.exitCode = 1;
    await secure.stop();
  } else {
    await scenario("3 node processes", cluster.urls, 3, 1, 1, fast, true);
    await scenario("3 node processes", cluster.urls, 3, 1, 100, fast, true);
  }
  // Issue 17: SWIM membership and default store timings (digests fan-in bounded), hundreds of
  // instances per process on one shared connection each: --swim-sizes 200,1000.
  const swimSizes = (process.argv[process.argv.indexOf("--swim-sizes") + 1] ?? "").split(",").filter(() => process.argv.includes("--swim-sizes")).map(Number);
  for (const n of swimSizes) {
    const processes = Math.max(1, Math.ceil(n / PER_PROCESS));
    await scenario(`${n} stores, SWIM (${processes} proc x ${n / processes}, shared conn)${GOSSIP_EXTRA ? ` gossip ${JSON.stringify(GOSSIP_EXTRA)}` : ""}`, cluster.urls, processes, n / processes, 1, { detector: "swim", ...GOSSIP_EXTRA }, false, true);
  }
  if (swimSizes.length > 0) process.exit(0);
  const only200 = process.argv.includes("--only-200");
  if (only200) await scenario("200 stores (4 processes x 50, hb 2 s)", cluster.urls, 4, 50, 1, calmer);
  else if (!quick) {
    await scenario("50 stores (2 processes x 25, hb 1 s)", cluster.urls, 2, 25, 1, calm);
    await scenario("200 stores (4 processes x 50, hb 2 s)", cluster.urls, 4, 50, 1, calmer);
  }
  await memory(cluster.urls);
} finally {
  await secure?.stop();
  await cluster.stop();
  creds?.cleanup();
}
