// bench/l4lb/libnft-change: one VIP change at 10,000 VIPs through the nft edge alone (nftApply),
// libnftables in process (actors/l4lb/kernel/libnft.ts) vs one `nft -f -` process per change (the
// binary backend the applier used until now), interleaved, order alternating, medians; both
// namespaces must end with the same elements, equal to the desired state.
//
// The library programs the namespace of the process that calls it, so each side runs in a worker
// process started inside its own namespace (`ip netns exec <ns> node --import tsx <this file>
// --worker …`); this process, in the root namespace, only creates the namespaces, tells the workers
// which change to apply, and reads both kernels back with `ip netns exec <ns> nft -j list table`.
// Each worker generates the same table and the same changes (bench/l4lb/gen.ts), so only numbers
// cross the pipes. Also timed: the full load on each side (with the longest event-loop stall on the
// library side), reading both families' tables back as JSON (the reconciler's work), and a change
// made while such a read-back runs, in process or through the binary.
//   npx tsx bench/l4lb/libnft-change.ts [--vips 10000] [--backends 3] [--changes 200] [--lists 3]
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { statSync } from "node:fs";
import { loadavg } from "node:os";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { createNetnsLab, type NetnsLab } from "../../integration/harness/netns.js";
import { L4LB_TABLE, type Backend, type DesiredState, type Family } from "../../actors/l4lb/model.js";
import { desiredState, nftApply, nftListTable, renderDelta, renderFull, type RenderOptions } from "../../actors/l4lb/index.js";
import { arg, percentile } from "../stats.js";
import { benchTable, replaceBackend, type VipTable } from "./gen.js";
import { checkKernel, now, sameElements } from "./kernel.js";

const VIPS = Math.min(arg("--vips", 10_000), 65_536);
const BACKENDS = Math.min(arg("--backends", 3), 32);
const CHANGES = Math.min(arg("--changes", 200), 5000);
const LISTS = Math.min(arg("--lists", 3), 20);
/** No change round starts after this; each is bounded by its own timeouts too. */
const BUDGET_MS = 180_000;
/** After each change, before the next: the other side's run does not overlap a nft process's exit. */
const SETTLE_MS = 30;
const STEP_TIMEOUT_MS = 120_000;
const TARGET_P99_MS = 25;
const OPTS: RenderOptions = { table: L4LB_TABLE, selection: "random", maxBackends: 64 };
const FAMILIES: readonly Family[] = ["ip", "ip6"];
const SIDES = ["lib", "cli"] as const;
type Side = (typeof SIDES)[number];

/** `during`: the change starts 10 ms into a read-back of both families, by that backend. */
type Request = { readonly type: "change"; readonly n: number; readonly during?: Side } | { readonly type: "list" } | { readonly type: "quit" };
type Reply = { readonly type: "ready"; readonly loadMs: number; readonly maxGapMs: number } | { readonly type: "done"; readonly ms: number; readonly maxGapMs?: number } | { readonly type: "error"; readonly message: string };

function desiredOf(table: VipTable): DesiredState {
  return desiredState({ table, addresses: new Map(), deadNodes: new Set(), localIps: new Set(), forbidden: [], maxBackends: OPTS.maxBackends, ipv6: true }).state;
}

/** Change n of the sequence both workers and the final check replay. */
function change(table: VipTable, n: number) {
  return replaceBackend(table, (n * 7919 + 13) % VIPS, n % BACKENDS, n);
}

const oneVip = (key: string, backends: readonly Backend[]): DesiredState => desiredOf(new Map([[key, backends]]));

// ---- worker: inside one namespace ----

/** A 2 ms timer beside some work: the longest the event loop went without running it. */
function stallMeter(): { stop(): number } {
  let last = now();
  let max = 0;
  const timer = setInterval(() => {
    const t = now();
    max = Math.max(max, t - last);
    last = t;
  }, 2);
  return {
    stop() {
      clearInterval(timer);
      return Math.max(max, now() - last);
    },
  };
}

async function worker(side: Side, netns: string): Promise<void> {
  // Never the root namespace: this process must be inside the one it was named.
  if (!/^[-\w]+$/.test(netns) || statSync(`/run/netns/${netns}`).ino !== statSync("/proc/self/ns/net").ino) throw new Error(`not inside network namespace ${netns}`);
  const opts = { backend: side, timeoutMs: STEP_TIMEOUT_MS } as const;
  const send = (r: Reply): void => void process.stdout.write(`${JSON.stringify(r)}\n`);
  let table: VipTable = benchTable({ vips: VIPS, backends: BACKENDS, owner: "bench" });
  const full = renderFull(desiredOf(table), OPTS);
  // The full load, with a timer beside it: how long the event loop stalls while it runs.
  const stall = stallMeter();
  const t0 = now();
  await nftApply(full, opts);
  const loadMs = now() - t0;
  send({ type: "ready", loadMs, maxGapMs: stall.stop() });
  for await (const line of createInterface({ input: process.stdin })) {
    const req = JSON.parse(line) as Request;
    try {
      if (req.type === "quit") break;
      if (req.type === "list") {
        const meter = stallMeter();
        const t = now();
        for (const f of FAMILIES) await nftListTable(f, L4LB_TABLE, opts);
        send({ type: "done", ms: now() - t, maxGapMs: meter.stop() });
        continue;
      }
      const rep = change(table, req.n);
      const text = renderDelta(oneVip(rep.key, table.get(rep.key) ?? []), oneVip(rep.key, rep.table.get(rep.key) ?? []), OPTS).text;
      const listing = req.during === undefined ? undefined : Promise.all(FAMILIES.map((f) => nftListTable(f, L4LB_TABLE, { ...opts, backend: req.during })));
      if (listing) await new Promise((r) => setTimeout(r, 10));
      const t = now();
      await nftApply(text, opts);
      const ms = now() - t;
      await listing;
      send({ type: "done", ms });
      table = rep.table;
    } catch (e) {
      send({ type: "error", message: e instanceof Error ? e.message : String(e) });
    }
  }
}

// ---- coordinator: the root namespace, no nft here ----

class Worker {
  private readonly replies: Reply[] = [];
  private waiting: { resolve(r: Reply): void; reject(e: Error): void } | undefined;
  private stderr = "";
  private gone: Error | undefined;

  constructor(
    readonly side: Side,
    readonly child: ChildProcessWithoutNullStreams,
  ) {
    createInterface({ input: child.stdout }).on("line", (line) => {
      const r = JSON.parse(line) as Reply;
      const w = this.waiting;
      this.waiting = undefined;
      if (w) w.resolve(r);
      else this.replies.push(r);
    });
    child.stderr.on("data", (b: Buffer) => void (this.stderr = (this.stderr + b.toString()).slice(-4000)));
    child.once("exit", (code) => {
      this.gone = new Error(`${side} worker exited ${code}: ${this.stderr}`);
      this.waiting?.reject(this.gone);
      this.waiting = undefined;
    });
  }

  next(): Promise<Reply> {
    const queued = this.replies.shift();
    if (queued) return Promise.resolve(queued);
    if (this.gone) return Promise.reject(this.gone);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => {
        this.waiting = undefined;
        reject(new Error(`${this.side} worker: no answer within ${STEP_TIMEOUT_MS} ms; stderr: ${this.stderr}`));
      }, STEP_TIMEOUT_MS);
      this.waiting = {
        resolve: (r) => {
          clearTimeout(t);
          resolve(r);
        },
        reject: (e) => {
          clearTimeout(t);
          reject(e);
        },
      };
    });
  }

  async ask(req: Request): Promise<{ ms: number; maxGapMs: number }> {
    this.child.stdin.write(`${JSON.stringify(req)}\n`);
    const r = await this.next();
    if (r.type === "error") throw new Error(`${this.side}: ${r.message}`);
    if (r.type !== "done") throw new Error(`${this.side}: unexpected ${r.type}`);
    return { ms: r.ms, maxGapMs: r.maxGapMs ?? Number.NaN };
  }
}

function startWorker(net: NetnsLab, side: Side): Worker {
  const self = fileURLToPath(import.meta.url);
  const args = ["netns", "exec", net.ns(side), process.execPath, "--import", "tsx", self, "--worker", side, "--netns", net.ns(side), "--vips", String(VIPS), "--backends", String(BACKENDS)];
  return new Worker(side, spawn("ip", args, { stdio: ["pipe", "pipe", "pipe"] }));
}

const f1 = (x: number): string => x.toFixed(1);
const f2 = (x: number): string => x.toFixed(2);
const load = (): string => loadavg().map(f2).join(" ");
const stats = (xs: readonly number[]): string => `p50=${f1(percentile(xs, 50))} ms p99=${f1(percentile(xs, 99))} ms max=${f1(Math.max(...xs))} ms`;

async function coordinator(): Promise<boolean> {
  let net: NetnsLab | undefined;
  const workers: Worker[] = [];
  try {
    net = await createNetnsLab({ hosts: { lib: "10.79.1.1/24", cli: "10.79.1.2/24" } });
    console.log(`# bench/l4lb/libnft-change: ${VIPS.toLocaleString("en")} IP VIPs × ${BACKENDS} backends, Node ${process.version}, load average ${load()}`);
    // One at a time: the two full loads must not share the 2 cores while timed.
    const ready = new Map<Side, Reply>();
    for (const side of SIDES) {
      const w = startWorker(net, side);
      workers.push(w);
      const r = await w.next();
      if (r.type !== "ready") throw new Error(`${side}: ${r.type === "error" ? r.message : r.type}`);
      ready.set(side, r);
    }
    const [lib, cli] = workers as [Worker, Worker];
    const samples: Record<Side, number[]> = { lib: [], cli: [] };
    const begin = now();
    let n = 0;
    for (; n < CHANGES && now() - begin < BUDGET_MS; n++) {
      for (const w of n % 2 === 0 ? [lib, cli] : [cli, lib]) {
        samples[w.side].push((await w.ask({ type: "change", n })).ms);
        await new Promise((r) => setTimeout(r, SETTLE_MS));
      }
    }
    const changes = n;
    const lists: Record<Side, number[]> = { lib: [], cli: [] };
    const listStalls: Record<Side, number[]> = { lib: [], cli: [] };
    for (let i = 0; i < LISTS; i++) {
      for (const w of i % 2 === 0 ? [lib, cli] : [cli, lib]) {
        const r = await w.ask({ type: "list" });
        lists[w.side].push(r.ms);
        listStalls[w.side].push(r.maxGapMs);
      }
    }
    // A change that arrives while the kernel is read back (the reconciler, every 30 s): behind an
    // in-process listing it waits in the one context's queue; beside a listing by the binary it
    // does not (what `auto` does). The binary's side applies the same changes, untimed, to stay equal.
    const during: Record<Side, number[]> = { lib: [], cli: [] };
    for (let i = 0; i < 2 * LISTS; i++, n++) {
      const by: Side = i % 2 === 0 ? "lib" : "cli";
      during[by].push((await lib.ask({ type: "change", n, during: by })).ms);
      await cli.ask({ type: "change", n });
      await new Promise((r) => setTimeout(r, SETTLE_MS));
    }
    for (const w of workers) w.child.stdin.end(`${JSON.stringify({ type: "quit" })}\n`);
    // The final state, replayed here, read back from both namespaces with the binary.
    let table: VipTable = benchTable({ vips: VIPS, backends: BACKENDS, owner: "bench" });
    for (let k = 0; k < n; k++) table = change(table, k).table;
    const desired = desiredOf(table);
    const [a, b] = [await checkKernel(net.ns("lib"), desired, OPTS), await checkKernel(net.ns("cli"), desired, OPTS)];
    const equal = a.drift === 0 && !a.full && b.drift === 0 && !b.full && sameElements(a.elements, b.elements);
    const readyLine = (s: Side): string => {
      const r = ready.get(s);
      return r?.type === "ready" ? `${f1(r.loadMs)} ms, longest event-loop stall ${f1(r.maxGapMs)} ms` : "?";
    };
    const p99 = percentile(samples.lib, 99);
    console.log(`\n## one VIP change at ${VIPS.toLocaleString("en")} VIPs: one backend replaced, ${changes} changes each, order alternating per change, ${SETTLE_MS} ms pause between (load average ${load()})`);
    console.log(`full load  libnftables in process ${readyLine("lib")}; nft -f - process ${readyLine("cli")}`);
    console.log(`lib        nftApply, libnftables in process   ${stats(samples.lib)}`);
    console.log(`cli        nftApply, one nft -f - process      ${stats(samples.cli)}`);
    console.log(`ratio      lib/cli p50=${f2(percentile(samples.lib, 50) / percentile(samples.cli, 50))} p99=${f2(p99 / percentile(samples.cli, 99))}`);
    console.log(`read-back  both families as JSON, parsed (${LISTS} rounds, medians): lib ${f1(percentile(lists.lib, 50))} ms (longest event-loop stall ${f1(percentile(listStalls.lib, 50))} ms), cli ${f1(percentile(lists.cli, 50))} ms (stall ${f1(percentile(listStalls.cli, 50))} ms)`);
    console.log(`during     a lib change while both families are read back: behind an in-process read-back ${during.lib.map(f1).join(" ")} ms; beside a read-back by the binary (auto) ${during.cli.map(f1).join(" ")} ms`);
    const worst = samples.lib.indexOf(Math.max(...samples.lib));
    console.log(`           the slowest lib change was change ${worst + 1} of ${samples.lib.length}`);
    console.log(`kernel     ${equal ? `both namespaces read back equal to the desired state and to each other (${a.elements.length} elements)` : `NOT EQUAL: lib drift ${a.drift} ${a.reasons.join("; ")}; cli drift ${b.drift} ${b.reasons.join("; ")}; same elements ${sameElements(a.elements, b.elements)}`}`);
    console.log(`target     the nft edge's share of p99 ≤ ${TARGET_P99_MS} ms: lib p99 ${f1(p99)} ms → ${equal && p99 <= TARGET_P99_MS ? "PASS" : "MISS"}`);
    return equal;
  } finally {
    for (const w of workers) if (w.child.exitCode === null && w.child.pid) w.child.kill("SIGKILL");
    await net?.cleanup();
  }
}

const at = process.argv.indexOf("--worker");
if (at >= 0) {
  const side = process.argv[at + 1];
  if (side !== "lib" && side !== "cli") throw new Error(`--worker lib|cli, not ${side}`);
  await worker(side, process.argv[process.argv.indexOf("--netns") + 1] ?? "");
} else if (!(await coordinator())) process.exitCode = 1;
