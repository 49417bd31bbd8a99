// bench/dns-propagation: registration → answerable by DNS on every node. Three real `dcnet node`
// processes, each on its own server of a routed 3-server NATS cluster; N native tasks registered on
// node A (admin task-add), one every --pace ms, each timed from sending the request until every
// node's DNS server answers its A record with the task's IP (polled over UDP, a query every 1 ms
// per node, up to 3 in flight). The reference, interleaved with the DNS rounds on the same processes, is
// the path without the catalogue and DNS: admin state-update of a key on A until A acknowledges
// and B and C return it from state-get. The difference is what the catalogue → zone → listener
// path adds on top of gossip replication.
//   npx tsx bench/dns-propagation.ts [--count 200] [--pace 20]
import { createSocket, type Socket } from "node:dgram";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { join } from "node:path";
import dnsPacket from "dns-packet";
import { startNatsCluster, freePort, type NatsClusterHandle } from "../integration/harness/nats-local.js";
import { spawnDcnet, isReady, type DcnetProcess } from "../integration/support/dcnet-process.js";
import { connectAdmin, type TestAdmin } from "../integration/support/admin.js";
import type { Task } from "../actors/catalogue/index.js";
import { percentile, arg } from "./stats.js";

// Capped so a typo cannot turn a two-minute run into an hour (and the IPs stay in 10.100.0.0/16).
const COUNT = Math.min(arg("--count", 200), 10_000);
const PACE_MS = arg("--pace", 20);
const WARMUP = 10;
const ROUND_TIMEOUT_MS = 5000;
const POLL_GAP_MS = 1;
// Bounds what a stalled node can pile up; a healthy one answers within the gap or two.
const MAX_IN_FLIGHT = 3;
// A UDP reply on loopback is not lost in practice; this only keeps a dropped one from stalling a poller.
const REPLY_TIMEOUT_MS = 100;
const READY_TIMEOUT_MS = 60_000;
const TARGET_P99_MS = 100;
// Rounds wait for their predecessors, so a sick cluster (every round timing out) would otherwise
// run COUNT × ROUND_TIMEOUT_MS; no round starts after this.
const BUDGET_MS = 90_000;
const NODES = ["dns-a", "dns-b", "dns-c"] as const;
const ZONE = "dcos.thisdcos.directory";

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** One connected UDP socket per DNS server; replies are matched to queries by message id. */
class DnsProbe {
  private readonly pending = new Map<number, (reply: Buffer) => void>();
  private nextId = 1;
  /** Queries sent, to show the load the measurement itself puts on the nodes. */
  sent = 0;
  private constructor(private readonly sock: Socket) {
    sock.on("message", (buf) => {
      if (buf.length < 2) return;
      const id = buf.readUInt16BE(0);
      const done = this.pending.get(id);
      if (done) {
        this.pending.delete(id);
        done(buf);
      }
    });
  }

  static open(port: number): Promise<DnsProbe> {
    const sock = createSocket("udp4");
    return new Promise((resolve, reject) => {
      sock.once("error", reject);
      sock.connect(port, "127.0.0.1", () => {
        sock.off("error", reject);
        resolve(new DnsProbe(sock));
      });
    });
  }

  /** Does the server answer `name` A with `ip` right now? undefined when no reply came in time. */
  async has(name: string, ip: string): Promise<boolean | undefined> {
    const id = this.nextId;
    this.nextId = (this.nextId % 0xffff) + 1;
    const query = dnsPacket.encode({ type: "query", id, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type: "A", name }] });
    const reply = await new Promise<Buffer | undefined>((resolve) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        resolve(undefined);
      }, REPLY_TIMEOUT_MS);
      this.pending.set(id, (buf) => {
        clearTimeout(timer);
        resolve(buf);
      });
      this.sock.send(query);
      this.sent++;
    });
    if (reply === undefined) return undefined;
    const packet = dnsPacket.decode(reply);
    return (packet.answers ?? []).some((a) => a.type === "A" && a.data === ip);
  }

  close(): void {
    this.sock.close();
  }
}

interface Round {
  /** Send → the last of the per-node times; NaN when some node missed the deadline. */
  readonly total: number;
  /** Send → visible there, per node (for DNS: A, B, C; for the reference: A's ack, B, C). */
  readonly perNode: readonly number[];
  readonly error?: string;
}

let statePolls = 0;

const ipFor = (i: number): string => `10.100.${(i >> 8) & 0xff}.${i & 0xff}`;

/**
 * Asks `seen()` every POLL_GAP_MS without waiting for the previous answer (at most MAX_IN_FLIGHT
 * outstanding), so the resolution is the gap, not a round trip plus the gap; resolves with the time
 * the first positive answer arrived, or NaN at the deadline.
 */
function pollUntil(seen: () => Promise<boolean | undefined>, deadline: number): Promise<number> {
  return new Promise((resolve) => {
    let inFlight = 0;
    let done = false;
    let timer: NodeJS.Timeout | undefined;
    const finish = (at: number): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve(at);
    };
    const tick = (): void => {
      if (done) return;
      if (performance.now() >= deadline) return finish(Number.NaN);
      if (inFlight < MAX_IN_FLIGHT) {
        inFlight++;
        seen().then(
          (ok) => {
            inFlight--;
            if (ok === true) finish(performance.now());
          },
          () => inFlight--,
        );
      }
      timer = setTimeout(tick, POLL_GAP_MS);
    };
    tick();
  });
}

function round(t0: number, times: readonly number[], error?: string): Round {
  const perNode = times.map((x) => x - t0);
  return { total: perNode.some(Number.isNaN) ? Number.NaN : Math.max(...perNode), perNode, ...(error ? { error } : {}) };
}

async function dnsRound(admin: TestAdmin, probes: readonly DnsProbe[], tag: string, i: number): Promise<Round> {
  const name = `${tag}-${i}`;
  const ip = ipFor(i);
  const task: Task = { id: `${name}-1`, name, framework: "bench", runtime: "native", agentIp: ip, taskIps: [], state: "running", ports: [] };
  const fqdn = `${name}.bench.agentip.${ZONE}`;
  const t0 = performance.now();
  const deadline = t0 + ROUND_TIMEOUT_MS;
  let error: string | undefined;
  const added = admin.admin.request("dns-a", "task-add", { task }, ROUND_TIMEOUT_MS).catch((err: unknown) => void (error = (err as Error).message));
  const times = await Promise.all(probes.map((p) => pollUntil(() => p.has(fqdn, ip), deadline)));
  await added;
  return round(t0, times, error);
}

async function referenceRound(admin: TestAdmin, tag: string, i: number): Promise<Round> {
  const key = `bench/dns-propagation/${tag}/${i}`;
  const t0 = performance.now();
  const deadline = t0 + ROUND_TIMEOUT_MS;
  let error: string | undefined;
  const acked = admin.admin
    .request("dns-a", "state-update", { key, ops: [{ op: "set", field: "v", value: i }] }, ROUND_TIMEOUT_MS)
    .then(
      () => performance.now(),
      (err: unknown) => {
        error = (err as Error).message;
        return Number.NaN;
      },
    );
  const visible = async (node: string): Promise<boolean> => {
    statePolls++;
    const v = (await admin.admin.request(node, "state-get", { key }, 2000)).value?.v;
    return v?.type === "lww" && v.value === i;
  };
  const times = await Promise.all([acked, pollUntil(() => visible("dns-b"), deadline), pollUntil(() => visible("dns-c"), deadline)]);
  return round(t0, times, error);
}

/**
 * One round of each kind every PACE_MS, the reference half a pace after the DNS round; a round
 * whose predecessor of the same kind is still polling waits for it, and the pace counts from the
 * last start, so a slow round is followed by a gap, not by a burst. Why: every round polls the
 * nodes every millisecond, so overlapping rounds multiply that load, and on a small machine the
 * pollers then slow the nodes they time, the rounds get slower and overlap more. The registrations
 * themselves (50/s) are no load worth measuring.
 */
async function run(admin: TestAdmin, probes: readonly DnsProbe[], tag: string, n: number): Promise<{ dns: Round[]; ref: Round[]; late: number }> {
  const dns: Round[] = [];
  const ref: Round[] = [];
  let late = 0;
  const idle = { done: true, promise: Promise.resolve() };
  let dnsPrev = idle;
  let refPrev = idle;
  const track = (p: Promise<unknown>) => {
    const t = { done: false, promise: p.then(() => undefined) };
    void t.promise.then(() => (t.done = true));
    return t;
  };
  /** Waits until `at` and until `prev` is done; returns the start time. */
  const slot = async (at: number, prev: typeof idle): Promise<number> => {
    await sleep(Math.max(0, at - performance.now()));
    if (!prev.done) late++;
    await prev.promise;
    return performance.now();
  };
  const begin = performance.now();
  let started = begin - PACE_MS;
  for (let i = 0; i < n && performance.now() - begin < BUDGET_MS; i++) {
    started = await slot(started + PACE_MS, dnsPrev);
    dnsPrev = track(dnsRound(admin, probes, tag, i).then((r) => dns.push(r)));
    await slot(started + PACE_MS / 2, refPrev);
    refPrev = track(referenceRound(admin, tag, i).then((r) => ref.push(r)));
  }
  await Promise.all([dnsPrev.promise, refPrev.promise]);
  return { dns, ref, late };
}

function summary(rounds: readonly Round[]): { ok: number[]; missing: number; errors: string[] } {
  const ok = rounds.map((r) => r.total).filter((x) => !Number.isNaN(x));
  return { ok, missing: rounds.length - ok.length, errors: [...new Set(rounds.flatMap((r) => (r.error ? [r.error] : [])))] };
}

const f = (x: number): string => x.toFixed(2);
const pct = (xs: readonly number[]): string => `p50=${f(percentile(xs, 50))} ms p99=${f(percentile(xs, 99))} ms max=${f(Math.max(...xs))} ms`;
const perNode = (rounds: readonly Round[], labels: readonly string[]): string =>
  labels
    .map((label, k) => {
      const xs = rounds.map((r) => r.perNode[k] as number).filter((x) => !Number.isNaN(x));
      return `${label} p50=${f(percentile(xs, 50))} p99=${f(percentile(xs, 99))}`;
    })
    .join(" | ");

const dir = mkdtempSync(join(tmpdir(), "dcnet-dns-prop-"));
let nats: NatsClusterHandle | undefined;
const procs: DcnetProcess[] = [];
const probes: DnsProbe[] = [];
let admin: TestAdmin | undefined;
try {
  writeFileSync(join(dir, "node.yaml"), "log:\n  level: info\n");
  nats = await startNatsCluster(3, { jetstream: false });
  const ports: number[] = [];
  for (const [i, id] of NODES.entries()) {
    const port = await freePort();
    ports.push(port);
    // Own DNS port and no metrics listener: the defaults would collide between three processes.
    procs.push(spawnDcnet(["node", "--config", join(dir, "node.yaml"), "--nats", nats.urls[i] as string, "--id", id, "--dns-listen", `127.0.0.1:${port}`, "--metrics-listen", ""]));
  }
  await Promise.all(procs.map((p) => p.waitForLine(isReady, READY_TIMEOUT_MS)));
  // The client sits on A's server, as a program registering with its local node would.
  admin = await connectAdmin([nats.urls[0] as string], 5000);
  const readyBy = Date.now() + 20_000;
  for (;;) {
    const views = await Promise.all(NODES.map((n) => (admin as TestAdmin).admin.request(n, "members", {}).catch(() => undefined)));
    if (views.every((v) => v?.members.filter((m) => m.state === "alive").length === NODES.length)) break;
    if (Date.now() > readyBy) throw new Error("the three nodes did not all see each other within 20 s");
    await sleep(200);
  }
  probes.push(...(await Promise.all(ports.map((p) => DnsProbe.open(p)))));

  await run(admin, probes, "warm", WARMUP); // JIT, connection buffers, first zone rebuilds
  const la0 = loadavg()[0] ?? 0;
  const sent0 = probes.reduce((n, p) => n + p.sent, 0);
  const polls0 = statePolls;
  // The pollers' timers fire late when this process is starved, which coarsens every figure alike.
  const lag = monitorEventLoopDelay({ resolution: 1 });
  lag.enable();
  const t0 = performance.now();
  const { dns, ref, late } = await run(admin, probes, "b", COUNT);
  const wall = (performance.now() - t0) / 1000;
  lag.disable();
  const d = summary(dns);
  const r = summary(ref);

  console.log(`# 3 node processes, NATS cluster of 3 (one server per node), admin client on A's server; ${COUNT} rounds of each, one every ${PACE_MS} ms, DNS and reference interleaved, at most one of each in flight (${late} of ${2 * COUNT} starts waited for the previous round); ${f(wall)} s; load average ${f(la0)} → ${f(loadavg()[0] ?? 0)}`);
  if (dns.length < COUNT) console.log(`# stopped after ${dns.length} of ${COUNT} rounds: the ${BUDGET_MS / 1000} s budget ran out`);
  console.log(`dns        task-add on A → A record answered on A, B, C   n=${d.ok.length} ${pct(d.ok)} missing=${d.missing}`);
  console.log(`           per node: ${perNode(dns, ["A", "B", "C"])}`);
  console.log(`reference  state-update on A → acked by A, state-get on B, C  n=${r.ok.length} ${pct(r.ok)} missing=${r.missing}`);
  console.log(`           per node: ${perNode(ref, ["A ack", "B", "C"])}`);
  const queries = probes.reduce((n, p) => n + p.sent, 0) - sent0;
  const polls = statePolls - polls0;
  // Time spent polling, summed over nodes, per query sent: the interval actually achieved.
  const polled = (rounds: readonly Round[], from: number) => rounds.reduce((n, x) => n + x.perNode.slice(from).reduce((m, t) => m + (Number.isNaN(t) ? ROUND_TIMEOUT_MS : t), 0), 0);
  console.log(
    `# polling: ${queries} DNS queries (${f(queries / wall)}/s; one per ${f(polled(dns, 0) / queries)} ms per node while polling), ` +
      `${polls} admin state-gets (${f(polls / wall)}/s; one per ${f(polled(ref, 1) / polls)} ms per node); ` +
      `bench event-loop delay p50=${f(lag.percentile(50) / 1e6)} ms p99=${f(lag.percentile(99) / 1e6)} ms`,
  );
  for (const e of [...d.errors, ...r.errors]) console.log(`# error: ${e}`);
  console.log(`ratio      dns/reference p50=${f(percentile(d.ok, 50) / percentile(r.ok, 50))} p99=${f(percentile(d.ok, 99) / percentile(r.ok, 99))}`);
  const p99 = percentile(d.ok, 99);
  const met = d.missing === 0 && p99 <= TARGET_P99_MS;
  console.log(`target     p99 <= ${TARGET_P99_MS} ms: dns p99 = ${f(p99)} ms${d.missing ? `, ${d.missing} never answered within ${ROUND_TIMEOUT_MS} ms` : ""} → ${met ? "met" : "NOT met"}`);
} finally {
  for (const p of probes) p.close();
  await admin?.close().catch(() => undefined);
  await Promise.all(procs.map((p) => p.stop()));
  await nats?.stop();
  rmSync(dir, { recursive: true, force: true });
}
