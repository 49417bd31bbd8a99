// bench/propagation: write-to-visible-everywhere latency of the gossip store, p50/p99, with
//   - 3 real node processes (startNode, exactly as `dcnet node` runs),
//   - 50 and 200 store instances sharing the NATS cluster (several per process),
// and messages/bytes per change next to what whole-key replication (lashup) would send for the
// same change, for a small key (1 field) and a big one (100 fields): our bytes must not grow with
// the key. Then memory: one store holding 10,000 keys × 10 fields, RSS reported.
//   npx tsx bench/propagation.ts [--keys 200] [--rate 200] [--quick]
import { fork, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { pino } from "pino";
import { startNatsCluster } from "../integration/harness/nats-local.js";
import { startNode } from "../actors/node/index.js";
import { validateConfig } from "../actors/node/config.js";
import { createLogHub } from "../observability/logger.js";
import type { StoreMsg } from "../actors/gossip/index.js";
import { STORE_PATH } from "../actors/gossip/index.js";
import { percentile, arg } from "./stats.js";

const KEYS = arg("--keys", 200);
const RATE = arg("--rate", 200);
const quick = process.argv.includes("--quick");
const WORKER = fileURLToPath(new URL("./propagation-worker.ts", import.meta.url));

interface Written {
  written: Array<{ key: string; at: number }>;
  deltas: number;
  bytes: number;
  msgsOut: number;
  wholeKeyBytes: number;
}

class Worker {
  readonly child: ChildProcess;
  private readonly waiters: Array<{ type: string; resolve: (m: Record<string, unknown>) => void }> = [];
  constructor() {
    this.child = fork(WORKER, [], { execArgv: ["--import", "tsx"], stdio: ["ignore", "inherit", "inherit", "ipc"] });
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
  }
  call<T>(msg: Record<string, unknown>, replyType: string): Promise<T> {
    const p = new Promise<T>((resolve) => this.waiters.push({ type: replyType, resolve: (m) => resolve(m as T) }));
    this.child.send(msg);
    return p;
  }
}

async function scenario(label: string, servers: string[], processes: number, perProcess: number, fields: number, gossip: Record<string, number>, full = false): Promise<void> {
  const workers = Array.from({ length: processes }, () => new Worker());
  try {
    await Promise.all(workers.map((w, i) => w.call({ type: "start", worker: i, count: perProcess, servers, gossip, full }, "started")));
    const total = processes * perProcess;
    await new Promise((r) => setTimeout(r, Math.max(1500, 3 * (gossip.heartbeatMs ?? 200))));
    const prefix = `${label.replace(/\W+/g, "-")}-${fields}`;
    const w = await (workers[0] as Worker).call<Written>({ type: "write", node: 0, keys: KEYS, fields, ratePerSec: RATE, prefix }, "written");
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
    const everywhere = [...writtenAt].map(([k, at]) => {
      const times = arrivals.get(k) ?? [];
      return times.length >= total ? Math.max(...times) - at : Number.NaN;
    });
    const missing = everywhere.filter((x) => Number.isNaN(x)).length;
    const ok = everywhere.filter((x) => !Number.isNaN(x));
    const perChange = w.bytes / KEYS;
    console.log(
      `${label.padEnd(34)} fields=${String(fields).padStart(3)} n=${KEYS} p50=${percentile(ok, 50).toFixed(2)} ms p99=${percentile(ok, 99).toFixed(2)} ms` +
        ` missing=${missing} | delta msgs/change=${(w.deltas / KEYS).toFixed(2)} bytes/change=${perChange.toFixed(0)}` +
        ` vs whole-key (value alone, no envelope) bytes/change=${w.wholeKeyBytes} (ratio ${(perChange / w.wholeKeyBytes).toFixed(2)}); NATS msgs out of writer/change=${(w.msgsOut / KEYS).toFixed(2)}; RSS all=${(rss / 2 ** 20).toFixed(0)} MiB`,
    );
  } finally {
    await Promise.all(workers.map((w) => w.call({ type: "stop" }, "stopped").catch(() => undefined)));
  }
}

async function memory(servers: string[]): Promise<void> {
  const logs = createLogHub({ level: "error", bindings: {}, destination: pino.destination(2) });
  global.gc?.();
  const rss0 = process.memoryUsage().rss;
  const node = await startNode(validateConfig({ id: "mem", nats: { servers }, log: { level: "error" } }), { logs });
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
try {
  const fast = {};
  // 200 instances on 2 cores: heartbeats and digests every 200 ms / 1 s from each would be
  // 200k deliveries/s of background traffic alone; the big scenarios slow them down and say so.
  const calm = { heartbeatMs: 1000, suspectAfterMs: 5000, deadAfterMs: 10_000, antiEntropyMs: 5000 };
  const calmer = { heartbeatMs: 2000, suspectAfterMs: 10_000, deadAfterMs: 20_000, antiEntropyMs: 10_000 };
  await scenario("3 node processes", cluster.urls, 3, 1, 1, fast, true);
  await scenario("3 node processes", cluster.urls, 3, 1, 100, fast, true);
  const only200 = process.argv.includes("--only-200");
  if (only200) await scenario("200 stores (4 processes x 50, hb 2 s)", cluster.urls, 4, 50, 1, calmer);
  else if (!quick) {
    await scenario("50 stores (2 processes x 25, hb 1 s)", cluster.urls, 2, 25, 1, calm);
    await scenario("200 stores (4 processes x 50, hb 2 s)", cluster.urls, 4, 50, 1, calmer);
  }
  await memory(cluster.urls);
} finally {
  await cluster.stop();
}
