// Parts 3 and 4 of bench/l4lb-sync, on the L4LB lab (integration/support/l4lb-lab.ts): real
// `dcnet node` processes with l4lb on, in network namespaces, with the lab's own nats-server.
//   3. a task registered or changed on node A → its element in the kernel of every node, seen by
//      `nft monitor` in each host; reference: the same element operations applied by `nft -f` on the
//      three hosts at once, seen by the same monitors.
//   4. RSS of one node holding 10,000 VIPs × 3 backends (30,000 tasks from its Mesos agent poller),
//      next to the same node with l4lb off.
import type { ChildProcess } from "node:child_process";
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { JsonLineWorker } from "../lab-worker.js";
import { startL4lbLab, type L4lbLab } from "../../integration/support/l4lb-lab.js";
import type { Task } from "../../actors/catalogue/index.js";
import { l4lbConfigSection } from "../../actors/l4lb/config.js";
import { EMPTY_DESIRED, kernelVipKey, L4LB_TABLE, type DesiredState, type KernelVip } from "../../actors/l4lb/model.js";
import { desiredState, renderDelta, renderFull } from "../../actors/l4lb/index.js";
import { percentile } from "../stats.js";
import { benchTable } from "./gen.js";
import { checkKernel, inNs, now } from "./kernel.js";
import type { WorkerCmd, WorkerReply } from "./admin-worker.js";

const WORKER = fileURLToPath(new URL("./admin-worker.ts", import.meta.url));
const REPO = fileURLToPath(new URL("../../", import.meta.url));
/** The reference's own table in every host: same layout, never touched by the nodes. */
const REF_TABLE = "dcnet-bench-ref";
const ROUND_TIMEOUT_MS = 5000;
const PROPAGATION_BUDGET_MS = 120_000;
const CONVERGE_MAX_MS = 300_000;
/** Production's reconcile period: the lab's 1 s would read a 10,000-VIP table back every second. */
const LAB_NODE_CONFIG = { l4lb: { reconcileMs: 30_000 } };

const cfg = l4lbConfigSection.parse({ enabled: true });
const f1 = (x: number): string => x.toFixed(1);
const f2 = (x: number): string => x.toFixed(2);
const load = (): string => loadavg().map(f2).join(" ");
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The bench worker in a host (admin client, agent stand-in), and its replies by request id. */
class Worker {
  private constructor(private readonly io: JsonLineWorker<WorkerReply>) {}

  /** The ready line's body: `{ agent?: url }`. */
  info: { readonly agent?: string } = {};

  static async start(lab: L4lbLab, host: string, opts: { readonly agent?: boolean } = {}): Promise<Worker> {
    const args = ["--import", "tsx", WORKER, lab.natsUrl, ...(opts.agent ? ["--agent"] : [])];
    const child = lab.net.run(host, process.execPath, args, { stdio: ["pipe", "pipe", "pipe"], cwd: REPO, env: { ...process.env, NODE_OPTIONS: "" } });
    const w = new Worker(new JsonLineWorker<WorkerReply>(child));
    const r = await w.io.ready(`bench worker in ${host}`);
    w.info = (r.body ?? {}) as { agent?: string };
    return w;
  }

  async send(cmd: DistributiveOmit<WorkerCmd, "id">, timeoutMs: number): Promise<WorkerReply> {
    const r = await this.io.request(cmd, timeoutMs);
    if (!r) throw new Error(`admin worker: no reply to ${cmd.op} within ${timeoutMs} ms ${this.io.stderr}`);
    return r;
  }

  stop(): void {
    this.io.stop();
  }
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

interface StatusBody {
  readonly lastSync?: { readonly ok: boolean };
  readonly vips: number;
  readonly backends: number;
  readonly nftFailures: number;
}

async function status(w: Worker, node: string): Promise<StatusBody | undefined> {
  const r = await w.send({ op: "status", node }, 20_000);
  return r.ok ? (r.body as StatusBody) : undefined;
}

async function waitUntil(what: string, timeoutMs: number, probe: () => Promise<boolean>, everyMs: number): Promise<number> {
  const t0 = now();
  for (;;) {
    if (await probe()) return now() - t0;
    if (now() - t0 > timeoutMs) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await sleep(everyMs);
  }
}

/** `nft monitor` in a host: each element line's arrival time, and waiters for given lines. */
class Monitor {
  private readonly waiters = new Map<string, (at: number) => void>();
  private constructor(readonly child: ChildProcess) {
    if (child.stdout) {
      createInterface({ input: child.stdout }).on("line", (line) => {
        const at = now();
        const w = this.waiters.get(line.trim());
        if (w) {
          this.waiters.delete(line.trim());
          w(at);
        }
      });
    }
  }

  static async start(lab: L4lbLab, host: string): Promise<Monitor> {
    const m = new Monitor(lab.net.run(host, "nft", ["monitor", "elements"], { stdio: ["ignore", "pipe", "pipe"] }));
    await sleep(200); // subscribed before the first round
    return m;
  }

  /** Arrival time of `line`, or NaN at the deadline. Register before causing it. */
  expect(line: string, deadline: number): Promise<number> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiters.delete(line);
        resolve(Number.NaN);
      }, Math.max(0, deadline - now()));
      this.waiters.set(line, (at) => {
        clearTimeout(timer);
        resolve(at);
      });
    });
  }

  stop(): void {
    if (this.child.exitCode === null) this.child.kill("SIGTERM");
  }
}

function oneVipState(addr: string, ip: string, port: number): DesiredState {
  const v: KernelVip = { family: "ip", addr, protocol: "tcp", port: 80, backends: [{ ip, port }], draining: [] };
  return { vips: new Map([[kernelVipKey(v), v]]), hairpin: { ip: new Set(), ip6: new Set() } };
}

interface Round {
  readonly total: number;
  readonly perNode: readonly number[];
}

const roundOf = (t0: number, times: readonly number[]): Round => {
  const perNode = times.map((t) => t - t0);
  return { total: perNode.some(Number.isNaN) ? Number.NaN : Math.max(...perNode), perNode };
};

/** Part 3. Returns whether every change reached every node on both sides and the end states agree. */
export async function propagationPart(o: { readonly rounds: number; readonly target: number }): Promise<boolean> {
  const lab = await startL4lbLab({ hosts: 3, containersPerHost: 0, nodeConfig: LAB_NODE_CONFIG });
  const monitors: Monitor[] = [];
  let worker: Worker | undefined;
  try {
    await lab.startNodes();
    worker = await Worker.start(lab, "h1");
    const w = worker;
    for (const h of lab.hosts) await waitUntil(`${h}'s applier to sync`, 30_000, async () => (await status(w, h))?.lastSync?.ok === true, 200);
    const refOpts = { table: REF_TABLE, selection: cfg.selection, maxBackends: cfg.maxBackends, ipv6: false };
    for (const h of lab.hosts) await lab.nft(h, [], { input: renderFull(EMPTY_DESIRED, refOpts) });
    for (const h of lab.hosts) monitors.push(await Monitor.start(lab, h));
    const dcnet: Round[] = [];
    const ref: Round[] = [];
    const errors = new Set<string>();
    const begin = now();
    let i = 0;
    for (; i < o.rounds && now() - begin < PROPAGATION_BUDGET_MS; i++) {
      // Pairs: a new task with a new VIP (its `vips` element appears), then that task's port changed
      // (its backend element is replaced).
      const k = i >> 1;
      const addr = `11.200.${k >> 8}.${k & 255}`;
      const ip = `10.250.${k >> 8}.${k & 255}`;
      const port = i % 2 === 0 ? 9000 : 9001;
      const line = (table: string): string => (i % 2 === 0 ? `add element ip ${table} vips { ${addr} . tcp . 80 : goto nb-1 }` : `add element ip ${table} backends { ${addr} . tcp . 80 . 0 : ${ip} . ${port} }`);
      const task: Task = { id: `chg${k}`, name: `chg${k}`, framework: "bench", runtime: "native", agentIp: ip, taskIps: [ip], state: "running", ports: [{ name: "p", protocol: "tcp", port, vips: [`${addr}:80`] }] };
      const prev = i % 2 === 0 ? EMPTY_DESIRED : oneVipState(addr, ip, 9000);
      const refText = renderDelta(prev, oneVipState(addr, ip, port), refOpts).text;
      const file = join(lab.dir, "ref-change.nft");
      writeFileSync(file, refText);
      const order = i % 2 === 0 ? (["dcnet", "ref"] as const) : (["ref", "dcnet"] as const);
      for (const side of order) {
        const deadline = now() + ROUND_TIMEOUT_MS;
        if (side === "dcnet") {
          const seen = monitors.map((m) => m.expect(line(L4LB_TABLE), deadline));
          const r = await w.send({ op: "add", node: "h1", task }, ROUND_TIMEOUT_MS + 10_000);
          if (!r.ok) errors.add(r.error ?? "task-add failed");
          dcnet.push(roundOf(r.sentAt ?? Number.NaN, await Promise.all(seen)));
        } else {
          const seen = monitors.map((m) => m.expect(line(REF_TABLE), deadline));
          const t0 = now();
          const runs = await Promise.all(lab.hosts.map((h) => inNs(lab.ns(h), ["nft", "-f", file])));
          for (const r of runs) if (r.code !== 0) errors.add(`reference nft: ${r.stderr.trim()}`);
          ref.push(roundOf(t0, await Promise.all(seen)));
        }
      }
    }
    // Same answers: every host's two tables hold the same elements for the VIPs of this part.
    const mismatches: string[] = [];
    for (const h of lab.hosts) {
      const ours = await benchElements(lab, h, L4LB_TABLE);
      const theirs = await benchElements(lab, h, REF_TABLE);
      if (ours.join("\n") !== theirs.join("\n")) mismatches.push(`${h}: ${ours.length} vs ${theirs.length} elements`);
      else if (ours.length !== Math.ceil(i / 2) * 2) mismatches.push(`${h}: ${ours.length} elements, expected ${Math.ceil(i / 2) * 2}`);
    }
    const ok = (rs: readonly Round[]) => rs.map((r) => r.total).filter((x) => !Number.isNaN(x));
    const d = ok(dcnet);
    const r = ok(ref);
    const pct = (xs: readonly number[]) => `p50=${f1(percentile(xs, 50))} ms p99=${f1(percentile(xs, 99))} ms max=${f1(Math.max(...xs))} ms`;
    const perNode = (rs: readonly Round[]) =>
      lab.hosts
        .map((h, n) => {
          const xs = rs.map((x) => x.perNode[n] as number).filter((x) => !Number.isNaN(x));
          return `${h} p50=${f1(percentile(xs, 50))} p99=${f1(percentile(xs, 99))}`;
        })
        .join(" | ");
    const missing = dcnet.length - d.length + (ref.length - r.length);
    const p99 = percentile(d, 99);
    const good = missing === 0 && mismatches.length === 0 && errors.size === 0;
    console.log(`\n## 3. task change on h1 → element in the kernel of all 3 nodes: 3 dcnet node processes in a netns lab, ${i} rounds (even: a task with a new VIP registered, odd: its port changed), order alternating (load average ${load()})`);
    console.log(`dcnet      task-add to h1 (admin client in h1) → element seen by nft monitor on every host   n=${d.length} ${pct(d)} missing=${dcnet.length - d.length}`);
    console.log(`           per node: ${perNode(dcnet)}`);
    console.log(`reference  nft -f of the same element operations on the 3 hosts at once → same monitors  n=${r.length} ${pct(r)} missing=${ref.length - r.length}`);
    console.log(`ratio      dcnet/reference p50=${f2(percentile(d, 50) / percentile(r, 50))} p99=${f2(p99 / percentile(r, 99))}`);
    for (const e of errors) console.log(`# error: ${e}`);
    console.log(`kernel     ${mismatches.length === 0 ? `on every host the node's table and the reference table hold the same ${Math.ceil(i / 2) * 2} elements of this part` : `NOT EQUAL: ${mismatches.join("; ")}`}`);
    console.log(`target     p99 ≤ ${o.target} ms: ${f1(p99)} ms → ${good && p99 <= o.target ? "PASS" : "MISS"}`);
    return good;
  } finally {
    for (const m of monitors) m.stop();
    worker?.stop();
    await lab.cleanup();
  }
}

/** This part's elements (VIPs in 11.200/16) of one table, as `set key : value` text, sorted. */
async function benchElements(lab: L4lbLab, host: string, table: string): Promise<string[]> {
  const r = await inNs(lab.ns(host), ["nft", "-j", "list", "table", "ip", table]);
  if (r.code !== 0) throw new Error(`nft list table ip ${table} in ${host}: ${r.stderr.trim()}`);
  const out: string[] = [];
  const items = (JSON.parse(r.stdout) as { nftables: Array<Record<string, { name?: string; elem?: unknown[] }>> }).nftables;
  for (const item of items) {
    const m = item["map"];
    if (!m || (m.name !== "vips" && m.name !== "backends")) continue;
    for (const e of m.elem ?? []) {
      const text = JSON.stringify(e);
      if (text.includes('"11.200.')) out.push(`${m.name} ${text}`);
    }
  }
  return out.sort();
}

/** Samples as text: every value when few, else min / median / max and every tenth. */
function series(xs: readonly number[]): string {
  if (xs.length <= 12) return xs.map((x) => x.toFixed(0)).join(" ");
  const sorted = [...xs].sort((a, b) => a - b);
  return `min ${f1(sorted[0] ?? Number.NaN)} median ${f1(percentile(xs, 50))} max ${f1(sorted[sorted.length - 1] ?? Number.NaN)}; every 10 s: ${xs.filter((_, i) => i % 10 === 9).map((x) => x.toFixed(0)).join(" ")}`;
}

/** MB from /proc/<pid>/status: resident, its anonymous part (heaps), and the peak. */
function memoryOf(pid: number): { rss: number; anon: number; hwm: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? Number.NaN);
  return { rss: kb("VmRSS") / 1024, anon: kb("RssAnon") / 1024, hwm: kb("VmHWM") / 1024 };
}

/** One node's memory at the VIP set: from a node without VIPs to the node holding all of them. */
interface RssRun {
  readonly before: ReturnType<typeof memoryOf>;
  readonly after: ReturnType<typeof memoryOf>;
  /** V8 heap (used → after, committed) of the node's last full GC before `after`, from --trace-gc. */
  readonly lastFullGc?: string;
  readonly bytes: number;
  /** Agent answer served → every VIP in the kernel (l4lb on) / the answer served + settle (off). */
  readonly convergeMs: number;
  readonly kernel?: KernelCheckText;
  /** VmRSS (MB) once a second while settling. */
  readonly samples: readonly number[];
}

interface KernelCheckText {
  readonly ok: boolean;
  readonly text: string;
}

/** After the burst: RSS is sampled every second this long; the figure is the last sample. */
const RSS_SETTLE_DEFAULT_S = 10;
const FULL_GC = /Mark-Compact[^\d]*([\d.]+) \(([\d.]+)\) -> ([\d.]+) \(([\d.]+)\) MB/;

/** The node's last full GC line (--trace-gc writes them to its stdout): how much of the heap is live. */
function lastFullGc(lines: ReadonlyArray<{ readonly msg?: string }>): string | undefined {
  for (let i = lines.length - 1; i >= 0; i--) {
    const m = FULL_GC.exec(lines[i]?.msg ?? "");
    if (m) return `V8 heap at its last full GC ${m[1]} → ${m[3]} MB live (${m[4]} MB committed)`;
  }
  return undefined;
}

/**
 * Asks the node for a V8 heap snapshot (it runs with --heapsnapshot-signal=SIGUSR2 and writes into
 * `dir`) and waits until the file stops growing. Taken after the RSS reading: writing a snapshot
 * grows the process itself.
 */
async function heapSnapshot(pid: number, dir: string, label: string): Promise<string | undefined> {
  const before = new Set(readdirSync(dir));
  process.kill(pid, "SIGUSR2");
  const deadline = now() + 120_000;
  let last = -1;
  while (now() < deadline) {
    await sleep(1000);
    const file = readdirSync(dir).find((f) => !before.has(f) && f.endsWith(".heapsnapshot"));
    if (file === undefined) continue;
    const size = statSync(join(dir, file)).size;
    if (size > 0 && size === last) {
      console.log(`# heap snapshot (${label}): ${join(dir, file)} (${f1(size / 1e6)} MB)`);
      return file;
    }
    last = size;
  }
  console.log(`# heap snapshot (${label}): none written within 120 s`);
  return undefined;
}

async function rssRun(o: { readonly vips: number; readonly backends: number; readonly l4lb: boolean; readonly heapDir?: string; readonly settleS: number }): Promise<RssRun> {
  // spawnDcnet passes DCNET_TEST_EXEC_ARGV to the node's node(1): GC lines only, no change of behaviour
  // (and, with a heap snapshot directory, the signal that writes a snapshot there on request).
  const flags = process.env.DCNET_TEST_EXEC_ARGV;
  const snapshot = o.heapDir === undefined ? [] : [`--heapsnapshot-signal=SIGUSR2`, `--diagnostic-dir=${o.heapDir}`];
  process.env.DCNET_TEST_EXEC_ARGV = [flags ?? "", "--trace-gc", ...snapshot].join(" ").trim();
  const lab = await startL4lbLab({ hosts: 1, containersPerHost: 0, nodeConfig: { l4lb: { ...LAB_NODE_CONFIG.l4lb, enabled: o.l4lb } } });
  let worker: Worker | undefined;
  try {
    // The agent stand-in runs in h1 before the node, which is told where to poll it.
    worker = await Worker.start(lab, "h1", { agent: true });
    const w = worker;
    if (!w.info.agent) throw new Error("the bench worker started no agent stand-in");
    await lab.startNodes(["h1"], { mesos: { agent: w.info.agent, pollMs: 1000 } });
    if (flags === undefined) delete process.env.DCNET_TEST_EXEC_ARGV;
    else process.env.DCNET_TEST_EXEC_ARGV = flags;
    const node = lab.node("h1");
    if (!node) throw new Error("no node on h1");
    if (o.l4lb) await waitUntil("h1's applier to sync", 30_000, async () => (await status(w, "h1"))?.lastSync?.ok === true, 200);
    await sleep(2000);
    const before = memoryOf(node.pid);
    const load = await w.send({ op: "agent-load", vips: o.vips, backends: o.backends, owner: "h1", timeoutMs: 30_000 }, 60_000);
    if (!load.ok) throw new Error(`agent load: ${load.error ?? "?"}`);
    const servedAt = load.doneAt ?? Number.NaN;
    const bytes = (load.body as { bytes?: number } | undefined)?.bytes ?? Number.NaN;
    let last: StatusBody | undefined;
    let convergeMs = Number.NaN;
    if (o.l4lb) {
      await waitUntil("h1's kernel to hold every VIP", CONVERGE_MAX_MS, async () => {
        last = await status(w, "h1").catch(() => undefined);
        return last?.vips === o.vips && last.backends === o.vips * o.backends;
      }, 200).then(
        () => (convergeMs = now() - servedAt),
        (e: unknown) => console.log(`# ${e instanceof Error ? e.message : String(e)}; last status ${JSON.stringify(last)}`),
      );
    }
    // Garbage of the burst is collected lazily: the settled figure is the one that lasts.
    const samples: number[] = [];
    for (let t = 0; t < o.settleS; t++) {
      await sleep(1000);
      samples.push(memoryOf(node.pid).rss);
    }
    const after = memoryOf(node.pid);
    const gc = lastFullGc(node.lines());
    if (o.heapDir !== undefined) {
      // The node's log with its GC lines (--trace-gc), next to the snapshot.
      writeFileSync(join(o.heapDir, `node-l4lb-${o.l4lb ? "on" : "off"}.log`), node.lines().map((l) => (typeof l.msg === "string" && Object.keys(l).length === 1 ? l.msg : JSON.stringify(l))).join("\n"));
      await heapSnapshot(node.pid, o.heapDir, `l4lb ${o.l4lb ? "on" : "off"}, ${o.vips} VIPs`);
    }
    const base = { before, after, bytes, convergeMs, samples, ...(gc ? { lastFullGc: gc } : {}) };
    if (!o.l4lb) return base;
    const desired = desiredState({ table: benchTable({ vips: o.vips, backends: o.backends, owner: "h1" }), addresses: new Map(), deadNodes: new Set(), localIps: new Set([lab.ip("h1"), lab.ip("h1", 6), "127.0.0.1", "::1"]), forbidden: cfg.forbidden, maxBackends: cfg.maxBackends, ipv6: cfg.ipv6 });
    const check = await checkKernel(lab.ns("h1"), desired.state, { table: L4LB_TABLE, selection: cfg.selection, maxBackends: cfg.maxBackends });
    const ok = check.drift === 0 && !check.full;
    return { ...base, kernel: { ok, text: ok ? `the node's tables read back equal to the desired state (drift 0, ${check.elements.length} elements)` : `NOT AS DESIRED: drift ${check.drift}${check.full ? " (full)" : ""} ${check.reasons.join("; ")}` } };
  } finally {
    worker?.stop();
    await lab.cleanup();
  }
}

/**
 * Part 4. The tasks come from the node's Mesos agent poller, all in one agent answer: registering
 * 30,000 tasks one admin request at a time costs the node a whole-catalogue rebuild and a whole
 * L4LB derivation per request (measured ~16 registrations/s at 10,000 backends: hours). The
 * reference is the same node and tasks with l4lb off: the difference is the L4LB's share.
 * Returns whether the kernel ended up holding exactly the VIP set.
 */
export async function rssPart(o: { readonly vips: number; readonly backends: number; readonly target: number; readonly reference: boolean; readonly heapDir?: string; readonly settleS?: number }): Promise<boolean> {
  const settleS = Math.max(1, Math.min(o.settleS ?? RSS_SETTLE_DEFAULT_S, 600));
  const off = o.reference ? await rssRun({ ...o, settleS, l4lb: false }) : undefined;
  const on = await rssRun({ ...o, settleS, l4lb: true });
  const mem = (r: RssRun) => `VmRSS ${f1(r.before.rss)} → ${f1(r.after.rss)} MB (anonymous ${f1(r.before.anon)} → ${f1(r.after.anon)} MB; peak VmHWM ${f1(r.after.hwm)} MB; ${r.lastFullGc ?? "no full GC seen"})`;
  const ok = on.kernel?.ok === true;
  console.log(`\n## 4. RSS of a dcnet node at ${o.vips.toLocaleString("en")} VIPs × ${o.backends} backends: ${(o.vips * o.backends).toLocaleString("en")} tasks in one Mesos agent answer (${f1(on.bytes / 1e6)} MB) read by the node's agent poller, settled ${settleS} s (load average ${load()})`);
  console.log(`dcnet      l4lb on:  ${mem(on)}; every VIP in the kernel ${f1(on.convergeMs / 1000)} s after the agent answered`);
  console.log(`           VmRSS while settling, once a second: ${series(on.samples)}`);
  if (off) console.log(`reference  l4lb off: ${mem(off)}; the L4LB's share: ${f1(on.after.rss - off.after.rss)} MB`);
  if (off) console.log(`           VmRSS while settling, once a second: ${series(off.samples)}`);
  console.log(`kernel     ${on.kernel?.text ?? "?"}`);
  console.log(`target     RSS ≤ ${o.target} MB: ${f1(on.after.rss)} MB → ${ok && on.after.rss <= o.target ? "PASS" : "MISS"}`);
  return ok;
}
