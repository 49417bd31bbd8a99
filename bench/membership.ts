// bench/membership: failure detection at cluster sizes, many membership instances in ONE process
// sharing one nats-server (testkit/gossip/members.ts: each its own connection, registry, actor).
// Per size and detector: messages per node per second (NATS in+out of every instance), CPU per node
// (this process's CPU time / n), false positives (dead events about live members) over a quiet
// window, then detection of killed instances (kill → first `dead` anywhere, and → every member).
// SWIM at every size, today's all-to-all heartbeats at the sizes where it still runs, same run.
//   npx tsx bench/membership.ts [--sizes 100,300,1000] [--heartbeat-sizes 100] [--window-s 30] [--ten-minutes] [--kills 5]
//   (DEBUG_FP=1 prints every false death: who saw whom dead, when after which kill)
import { startNatsCluster } from "../integration/harness/nats-local.js";
import { startMember, aliveSeen, type MemberInstance } from "../testkit/gossip/members.js";
import { percentile, arg } from "./stats.js";

const list = (name: string, dflt: string): number[] => {
  const i = process.argv.indexOf(name);
  return (i >= 0 ? (process.argv[i + 1] ?? dflt) : dflt).split(",").filter(Boolean).map(Number);
};
const SIZES = list("--sizes", "100,300,1000");
const HB_SIZES = list("--heartbeat-sizes", "100");
const WINDOW_S = process.argv.includes("--ten-minutes") ? 600 : arg("--window-s", 30);
const KILLS = arg("--kills", 5);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Result {
  readonly label: string;
  readonly n: number;
  readonly converged: boolean;
  readonly startS: number;
  readonly msgsPerNodeS: number;
  readonly cpuPerNodeMs: number;
  readonly falsePositives: number;
  readonly suspicions: number;
  readonly firstDead: number[];
  readonly allDead: number[];
}

async function run(url: string, detector: "swim" | "heartbeat", n: number): Promise<Result> {
  const cluster = `b${detector[0]}${n}`;
  const gossip = { detector } as const;
  const t0 = performance.now();
  const members: MemberInstance[] = [];
  try {
    for (let i = 0; i < n; i++) members.push(await startMember(url, cluster, `m${i}`, gossip));
    // Converged: every instance sees every other alive (checked on a sample of 20, then all).
    let converged = false;
    const deadline = performance.now() + 120_000;
    while (performance.now() < deadline) {
      const seen = await Promise.all(members.map(aliveSeen));
      if (seen.every((s) => s === n - 1)) {
        converged = true;
        break;
      }
      await sleep(1000);
    }
    const startS = (performance.now() - t0) / 1000;
    await sleep(2000);
    const msgs = () => members.reduce((a, m) => a + m.transport.nc.stats().inMsgs + m.transport.nc.stats().outMsgs, 0);
    const evBefore = members.map((m) => m.events.length);
    const m0 = msgs();
    const c0 = process.cpuUsage();
    const w0 = performance.now();
    await sleep(WINDOW_S * 1000);
    const secs = (performance.now() - w0) / 1000;
    const cpu = process.cpuUsage(c0);
    const msgsPerNodeS = (msgs() - m0) / n / secs;
    const cpuPerNodeMs = (cpu.user + cpu.system) / 1000 / n / secs;
    let falsePositives = 0;
    let suspicions = 0;
    members.forEach((m, i) => {
      for (const e of m.events.slice(evBefore[i])) {
        if (e.ev.type === "dead") falsePositives += 1;
        if (e.ev.type === "suspect") suspicions += 1;
      }
    });
    const firstDead: number[] = [];
    const allDead: number[] = [];
    for (let k = 0; k < KILLS; k++) {
      const victim = members[n - 1 - k] as MemberInstance;
      const others = members.slice(0, n - 1 - k);
      const killAt = performance.now();
      await victim.stop();
      const until = performance.now() + 30_000;
      while (performance.now() < until && !others.every((m) => m.events.some((e) => e.ev.type === "dead" && e.ev.node === victim.id && e.at >= killAt))) await sleep(50);
      const times = others.map((m) => m.events.find((e) => e.ev.type === "dead" && e.ev.node === victim.id && e.at >= killAt)?.at).filter((t): t is number => t !== undefined);
      if (times.length > 0) firstDead.push(Math.min(...times) - killAt);
      if (times.length === others.length) allDead.push(Math.max(...times) - killAt);
      for (const m of others) for (const e of m.events) if (e.ev.type === "dead" && e.at > killAt && !members.slice(n - 1 - k).some((x) => x.id === e.ev.node)) { falsePositives += 1; if (process.env.DEBUG_FP) console.log(`false death: ${m.id} saw ${e.ev.node} dead at +${(e.at - killAt).toFixed(0)} ms (kill ${k})`); }
      await sleep(1000);
    }
    return { label: detector, n, converged, startS, msgsPerNodeS, cpuPerNodeMs, falsePositives, suspicions, firstDead, allDead };
  } finally {
    await Promise.all(members.map((m) => m.stop().catch(() => undefined)));
  }
}

function line(r: Result): string {
  const f = (xs: number[], p: number) => (xs.length === 0 ? "n/a" : `${(percentile(xs, p) / 1000).toFixed(2)} s`);
  return (
    `${r.label.padEnd(9)} n=${String(r.n).padStart(4)} ${r.converged ? "converged" : "NOT CONVERGED"} in ${r.startS.toFixed(1)} s | msgs/node/s ${r.msgsPerNodeS.toFixed(1)} | CPU/node ${r.cpuPerNodeMs.toFixed(2)} ms/s` +
    ` | false deaths over ${WINDOW_S} s + kills: ${r.falsePositives} (suspicions in window ${r.suspicions})` +
    ` | killed → first dead p50 ${f(r.firstDead, 50)} p99 ${f(r.firstDead, 99)}; → dead everywhere p50 ${f(r.allDead, 50)} p99 ${f(r.allDead, 99)} (${r.firstDead.length}/${KILLS} kills seen)`
  );
}

const nats = await startNatsCluster(1, { jetstream: false });
try {
  console.log(`bench/membership: window ${WINDOW_S} s${WINDOW_S === 600 ? " (10 minutes)" : " (pass --ten-minutes for 10)"}, ${KILLS} kills per run; all instances in this one process`);
  for (const n of SIZES) {
    // Heartbeats first where they run, then SWIM, so both see the same machine a minute apart.
    if (HB_SIZES.includes(n)) console.log(line(await run(nats.urls[0] as string, "heartbeat", n)));
    console.log(line(await run(nats.urls[0] as string, "swim", n)));
  }
} finally {
  await nats.stop();
}
