// bench/membership: failure detection at cluster sizes. n membership instances sharing one
// nats-server, spread over worker processes (bench/membership-worker.ts: each hosts its slice on ONE
// shared NATS connection, testkit/gossip/members.ts), so 1,000 instances use both cores instead of
// saturating one event loop. Per size and detector: messages per node per second (every instance's
// sent + received), CPU per node (the workers' CPU time / n), false positives (dead events about live
// members) over a quiet window and the kill phase, then detection of killed instances (kill → first
// `dead` anywhere, and → `dead` on every other member). SWIM at every size, today's all-to-all
// heartbeats at the sizes where it still runs, same run, heartbeats first.
//   npx tsx bench/membership.ts [--sizes 100,300,1000] [--heartbeat-sizes 100] [--window-s 30] [--ten-minutes]
//                               [--kills 5] [--per-process 250] [--converge-s 180] [--start-rate 0]
//                               [--no-advisories]
//   (DEBUG_FP=1 prints every false death: who saw whom dead, when)
// Two kinds of kill under SWIM: `--kills` instances each in a process of its own with its own NATS
// connection, SIGKILLed (a node's crash: the server sees the connection close and, with
// gossip.disconnectAdvisories, says so to everyone), then `--kills` instances stopped silently
// inside a shared worker (no connection closes: a host that froze or was cut off, probes alone).
// The nats-server exports the advisories into the instances' account (--no-advisories: neither the
// accounts nor the setting, SWIM's probes only, as before).
import { fork, type ChildProcess } from "node:child_process";
import { manyInstanceGcFlags } from "./worker-gc.js";
import { fileURLToPath } from "node:url";
import { startNatsCluster } from "../integration/harness/nats-local.js";
import { percentile, arg } from "./stats.js";
import type { WorkerCommand, WorkerReply } from "./membership-worker.js";

const list = (name: string, dflt: string): number[] => {
  const i = process.argv.indexOf(name);
  return (i >= 0 ? (process.argv[i + 1] ?? dflt) : dflt).split(",").filter(Boolean).map(Number);
};
const SIZES = list("--sizes", "100,300,1000");
const HB_SIZES = list("--heartbeat-sizes", "100");
const WINDOW_S = process.argv.includes("--ten-minutes") ? 600 : arg("--window-s", 30);
const KILLS = arg("--kills", 5);
const PER_PROCESS = arg("--per-process", 250);
const CONVERGE_S = arg("--converge-s", 180);
// Instances started per second, all processes together (0: as fast as they start, every node booting at once).
const START_RATE = arg("--start-rate", 0);
const ADVISORIES = !process.argv.includes("--no-advisories");
const WORKER = fileURLToPath(new URL("./membership-worker.ts", import.meta.url));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const now = (): number => performance.timeOrigin + performance.now();

type ReplyTo<C extends WorkerCommand> = Extract<WorkerReply, { type: C["type"] }>;

class Worker {
  readonly #child: ChildProcess;
  readonly #pending = new Map<number, (r: WorkerReply) => void>();
  #seq = 1;
  readonly ready: Promise<void>;

  constructor() {
    // BENCH_CPU_PROF=<dir>: a V8 CPU profile of each worker, written there when it exits.
    const prof = process.env.BENCH_CPU_PROF ? ["--cpu-prof", `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : [];
    // BENCH_WORKER_FLAGS: more V8/Node flags for the workers (e.g. --trace-gc), space-separated.
    const extra = (process.env.BENCH_WORKER_FLAGS ?? "").split(" ").filter((f) => f !== "");
    this.#child = fork(WORKER, [], { execArgv: ["--import", "tsx", ...manyInstanceGcFlags(), ...prof, ...extra], stdio: ["ignore", "inherit", "inherit", "ipc"] });
    this.ready = new Promise((resolve, reject) => {
      this.#pending.set(0, () => resolve());
      this.#child.once("exit", (code) => reject(new Error(`membership worker exited ${code}`)));
    });
    this.#child.on("message", (m: { seq: number; reply: WorkerReply }) => {
      this.#pending.get(m.seq)?.(m.reply);
      this.#pending.delete(m.seq);
    });
  }

  call<C extends WorkerCommand>(cmd: C, timeoutMs = 300_000): Promise<ReplyTo<C>> {
    const seq = this.#seq++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`membership worker: no answer to ${cmd.type} in ${timeoutMs} ms`)), timeoutMs);
      this.#pending.set(seq, (r) => {
        clearTimeout(timer);
        if (r.type === "error") reject(new Error(`membership worker: ${r.message}`));
        else resolve(r as ReplyTo<C>);
      });
      this.#child.send({ seq, cmd });
    });
  }

  /** SIGKILL now (a crash); resolves with the time it was sent, once the process is gone. */
  crash(): Promise<number> {
    const at = now();
    return new Promise((resolve) => {
      this.#child.once("exit", () => resolve(at));
      this.#child.kill("SIGKILL");
    });
  }

  get alive(): boolean {
    return this.#child.exitCode === null && this.#child.signalCode === null;
  }

  /** Asks it to exit (it writes its profile, if any), SIGKILL after 10 s. */
  exit(): Promise<void> {
    if (!this.alive) return Promise.resolve();
    return new Promise((resolve) => {
      const hard = setTimeout(() => this.#child.kill("SIGKILL"), 10_000);
      this.#child.once("exit", () => {
        clearTimeout(hard);
        resolve();
      });
      this.#child.disconnect();
    });
  }
}

interface Result {
  readonly label: string;
  readonly n: number;
  readonly processes: number;
  readonly converged: boolean;
  readonly startS: number;
  readonly msgsPerNodeS: number;
  readonly cpuPerNodeMs: number;
  readonly falsePositives: number;
  readonly suspicions: number;
  /** Instances stopped silently inside a shared worker: probes alone. */
  readonly silent: Detection;
  /** Processes SIGKILLed (their own connections close): with advisories, the bus's word too. */
  readonly crashed: Detection | undefined;
}

interface Detection {
  readonly firstDead: number[];
  readonly firstSuspect: number[];
  readonly allDead: number[];
}

async function run(url: string, detector: "swim" | "heartbeat", n: number): Promise<Result> {
  const cluster = `b${detector[0]}${n}`;
  const ids = Array.from({ length: n }, (_, i) => `m${i}`);
  // SWIM's crash victims: the last KILLS ids, one process and connection each.
  const crashIds = detector === "swim" ? ids.slice(n - KILLS) : [];
  const shared = ids.slice(0, n - crashIds.length);
  const processes = Math.max(1, Math.ceil(shared.length / PER_PROCESS));
  const slices = Array.from({ length: processes }, (_, p) => shared.filter((_, i) => i % processes === p));
  const where = new Map<string, number>();
  slices.forEach((s, p) => s.forEach((id) => where.set(id, p)));
  const workers = slices.map(() => new Worker());
  const crashWorkers = new Map(crashIds.map((id) => [id, new Worker()] as const));
  const everyone = [...workers, ...crashWorkers.values()];
  const all = <C extends WorkerCommand>(cmd: C) => Promise.all(everyone.filter((w) => w.alive).map((w) => w.call(cmd)));
  const gossip = { detector, ...(detector === "swim" && ADVISORIES ? { disconnectAdvisories: true } : {}) } as const;
  const t0 = performance.now();
  try {
    await Promise.all(everyone.map((w) => w.ready));
    // Instances start in parallel across processes, one after another within each (as nodes boot),
    // at --start-rate a second in all when given.
    const everyMs = START_RATE > 0 ? (processes * 1000) / START_RATE : 0;
    await Promise.all([
      ...workers.map((w, p) => w.call({ type: "start", url, cluster, ids: slices[p] as string[], gossip, everyMs }, 600_000)),
      ...[...crashWorkers].map(([id, w]) => w.call({ type: "start", url, cluster, ids: [id], gossip, everyMs: 0, ownConnection: true }, 600_000)),
    ]);
    // Converged: every instance sees every other alive.
    let converged = false;
    const deadline = performance.now() + CONVERGE_S * 1000;
    while (performance.now() < deadline) {
      if ((await all({ type: "alive" })).every((r) => r.min === n - 1)) {
        converged = true;
        break;
      }
      await sleep(1000);
    }
    const startS = (performance.now() - t0) / 1000;
    await sleep(2000);
    const windowStart = now();
    // CPU per node from the shared workers alone: a crash victim's process costs a whole runtime for one instance.
    const sharedCpu = async () => (await Promise.all(workers.map((w) => w.call({ type: "counters" })))).reduce((a, c) => a + c.cpuUs, 0);
    const c0 = await all({ type: "counters" });
    const cpu0 = await sharedCpu();
    const w0 = performance.now();
    await sleep(WINDOW_S * 1000);
    const c1 = await all({ type: "counters" });
    const cpu1 = await sharedCpu();
    const secs = (performance.now() - w0) / 1000;
    const messages = (cs: ReadonlyArray<{ messages: number }>) => cs.reduce((a, c) => a + c.messages, 0);
    const msgsPerNodeS = (messages(c1) - messages(c0)) / n / secs;
    const cpuPerNodeMs = (cpu1 - cpu0) / 1000 / shared.length / secs;
    const windowEnd = now();
    const window = await all({ type: "falseDeaths", since: windowStart, except: [] });
    let falsePositives = window.reduce((a, r) => a + r.dead.filter((d) => d.at <= windowEnd).length, 0);
    const suspicions = window.reduce((a, r) => a + r.suspicions, 0);
    const victims: string[] = [];
    let left = n - 1;
    /** Kill one victim, then poll every live worker until each other instance has it dead (≤ 30 s). */
    const detect = async (victim: string, kill: () => Promise<number>, into: Detection): Promise<void> => {
      victims.push(victim);
      const killAt = await kill();
      const others = left;
      left -= 1;
      const until = performance.now() + 30_000;
      let times: number[] = [];
      let suspected: number[] = [];
      while (performance.now() < until) {
        const replies = await all({ type: "dead", node: victim, since: killAt });
        times = replies.flatMap((r) => r.times);
        suspected = replies.flatMap((r) => (r.firstSuspect === undefined ? [] : [r.firstSuspect]));
        if (times.length === others) break;
        await sleep(100);
      }
      if (suspected.length > 0) into.firstSuspect.push(Math.min(...suspected) - killAt);
      if (times.length > 0) into.firstDead.push(Math.min(...times) - killAt);
      if (times.length === others) into.allDead.push(Math.max(...times) - killAt);
      await sleep(1000);
    };
    const crashed: Detection | undefined = crashIds.length > 0 ? { firstDead: [], firstSuspect: [], allDead: [] } : undefined;
    for (const [id, w] of crashWorkers) await detect(id, () => w.crash(), crashed as Detection);
    const silent: Detection = { firstDead: [], firstSuspect: [], allDead: [] };
    for (let k = 0; k < KILLS; k++) {
      const victim = shared[shared.length - 1 - k] as string;
      await detect(victim, async () => (await (workers[where.get(victim) as number] as Worker).call({ type: "kill", id: victim })).at, silent);
    }
    // False deaths in the kill phase: dead events about instances that were never killed.
    const killPhase = await all({ type: "falseDeaths", since: windowEnd, except: victims });
    for (const r of killPhase) {
      falsePositives += r.dead.length;
      if (process.env.DEBUG_FP) for (const d of r.dead) console.log(`false death: ${d.by} saw ${d.node} dead at +${(d.at - windowEnd).toFixed(0)} ms after the window`);
    }
    return { label: detector === "swim" && ADVISORIES ? "swim+adv" : detector, n, processes: processes + crashWorkers.size, converged, startS, msgsPerNodeS, cpuPerNodeMs, falsePositives, suspicions, silent, crashed };
  } finally {
    await Promise.all(everyone.filter((w) => w.alive).map((w) => w.call({ type: "stop" }, 60_000).catch(() => undefined)));
    await Promise.all(everyone.map((w) => w.exit()));
  }
}

function line(r: Result): string {
  const f = (xs: number[], p: number) => (xs.length === 0 ? "n/a" : `${(percentile(xs, p) / 1000).toFixed(2)} s`);
  return (
    `${r.label.padEnd(9)} n=${String(r.n).padStart(4)} (${r.processes} proc) ${r.converged ? "converged" : "NOT CONVERGED"} in ${r.startS.toFixed(1)} s | msgs/node/s ${r.msgsPerNodeS.toFixed(1)} | CPU/node ${r.cpuPerNodeMs.toFixed(2)} ms/s` +
    ` | false deaths over ${WINDOW_S} s + kills: ${r.falsePositives} (suspicions in window ${r.suspicions})` +
    (r.crashed === undefined ? "" : ` | ${detection("process SIGKILLed", r.crashed)}`) +
    ` | ${detection(r.crashed === undefined ? "killed" : "stopped silently", r.silent)}`
  );
  function detection(what: string, d: Detection): string {
    return `${what} → first suspect p50 ${f(d.firstSuspect, 50)}; → first dead p50 ${f(d.firstDead, 50)} p99 ${f(d.firstDead, 99)}; → dead everywhere p50 ${f(d.allDead, 50)} p99 ${f(d.allDead, 99)} (${d.firstDead.length}/${KILLS} kills seen)`;
  }
}

const nats = await startNatsCluster(1, { jetstream: false, advisories: ADVISORIES });
try {
  console.log(`bench/membership: ${ADVISORIES ? "SWIM with the server's disconnect advisories (gossip.disconnectAdvisories)" : "SWIM probes only (--no-advisories)"}; window ${WINDOW_S} s${WINDOW_S === 600 ? " (10 minutes)" : " (pass --ten-minutes for 10)"}, ${KILLS} kills per run; ≤ ${PER_PROCESS} instances per worker process, one shared NATS connection each; ${START_RATE > 0 ? `${START_RATE} starts/s` : "every instance started at once"}`);
  for (const n of SIZES) {
    // Heartbeats first where they run, then SWIM, so both see the same machine a minute apart.
    if (HB_SIZES.includes(n)) console.log(line(await run(nats.urls[0] as string, "heartbeat", n)));
    console.log(line(await run(nats.urls[0] as string, "swim", n)));
  }
} finally {
  await nats.stop();
}
