// bench/tracing-idle: spans per second an idle 3-node cluster exports (issue 18). Three real `dcnet
// node` processes (the compiled build: `npm run build` first) on a routed 3-server NATS cluster export
// OTLP/HTTP to an in-process receiver, with OTEL_TRACES_SAMPLER_ARG=1 as an operator would set it.
// "before" switches background tracing on (DCNET_TRACING_BACKGROUND_RATIO=1: every heartbeat, tick,
// digest, anti-entropy round and sweep traced, which is what every node did before issue 18);
// "after" is the default (0). Fresh cluster per run, --rounds runs each, order alternating; after a
// settle of 1.5 s, spans received during --idle-s seconds of nothing happening. Both sides must show
// the same cluster (every node sees all 3 alive, asked before and after the window) and, at the end,
// one task registration must reach the receiver as one trace on both sides.
//   npx tsx bench/tracing-idle.ts [--rounds 3] [--idle-s 5]
import { loadavg } from "node:os";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { startOtlpReceiver, type ReceivedSpan } from "../testkit/otlp-receiver.js";
import { startDnsNodes } from "../integration/support/dns-nodes.js";
import { runDcnet } from "../integration/support/dcnet-process.js";
import { arg, percentile } from "./stats.js";

const ROUNDS = Math.max(3, Math.min(arg("--rounds", 3), 20));
const IDLE_S = Math.max(1, Math.min(arg("--idle-s", 5), 120));
const NODES = ["idle-a", "idle-b", "idle-c"] as const;
type Side = "before" | "after";

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const median = (xs: readonly number[]): number => percentile(xs, 50);

interface Run {
  readonly side: Side;
  readonly spansPerS: number;
  readonly backgroundPerS: number;
  readonly byName: ReadonlyMap<string, number>;
  /** What both sides must agree on. */
  readonly alive: string;
  readonly registrationTraces: number;
}

async function run(side: Side, round: number): Promise<Run> {
  const receiver = await startOtlpReceiver();
  const env: NodeJS.ProcessEnv = { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_BSP_SCHEDULE_DELAY: "100", OTEL_TRACES_SAMPLER_ARG: "1", ...(side === "before" ? { DCNET_TRACING_BACKGROUND_RATIO: "1" } : {}) };
  const lab = await startDnsNodes(NODES, { env });
  try {
    await sleep(1_500);
    const from = receiver.spans().length;
    await sleep(IDLE_S * 1000);
    const idle = receiver.spans().slice(from);
    const byName = new Map<string, number>();
    for (const s of idle) byName.set(generic(s.name), (byName.get(generic(s.name)) ?? 0) + 1);
    const alive = (await Promise.all(NODES.map(async (n) => (await lab.admin.admin.request(n, "members", {})).members.filter((m) => m.state === "alive").map((m) => m.node).sort().join(",")))).join(" | ");
    const registrationTraces = await register(lab.dir, lab.nats.urls.join(","), env, receiver.spans.bind(receiver), `bench-${side}-${round}`);
    return { side, spansPerS: idle.length / IDLE_S, backgroundPerS: idle.filter((s) => s.attributes["dcnet.background"] === true).length / IDLE_S, byName, alive, registrationTraces };
  } finally {
    await lab.stop();
    await receiver.close();
  }
}

/** One task added with `dcnet ctl`: how many traces carry its store key once every node's zone has it. */
async function register(dir: string, urls: string, env: NodeJS.ProcessEnv, spans: () => ReceivedSpan[], id: string): Promise<number> {
  const file = join(dir, `${id}.json`);
  writeFileSync(file, JSON.stringify({ id, name: id, framework: "bench", runtime: "native", agentIp: "10.1.0.9", taskIps: [], state: "running", ports: [] }));
  const r = await runDcnet(["ctl", "--nats", urls, "--node", NODES[0], "task", "add", file], env);
  if (r.code !== 0) throw new Error(`task add failed: ${r.stderr}`);
  const key = `tasks/${NODES[0]}/native/${id}`;
  const deadline = Date.now() + 10_000;
  const updates = (): ReceivedSpan[] => spans().filter((s) => s.name === "dns zone update" && s.attributes["dcnet.store.key"] === key);
  while (updates().length < NODES.length && Date.now() < deadline) await sleep(50);
  return new Set(updates().map((s) => s.traceId)).size;
}

/** Span names with the node id of a subject taken out, so the three nodes' heartbeats add up. */
function generic(name: string): string {
  return name.replace(/\.(idle-[abc])( |$)/, ".<node>$2");
}

async function main(): Promise<void> {
  console.log(`tracing-idle: 3 dcnet node processes, ${ROUNDS} rounds per side, ${IDLE_S} s idle each; load ${loadavg().map((l) => l.toFixed(1)).join(" ")}`);
  const runs: Run[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const order: Side[] = round % 2 === 0 ? ["before", "after"] : ["after", "before"];
    for (const side of order) {
      const r = await run(side, round);
      runs.push(r);
      console.log(`  round ${round + 1} ${side.padEnd(6)}: ${r.spansPerS.toFixed(1)} spans/s (${r.backgroundPerS.toFixed(1)} background), registration → ${r.registrationTraces} trace(s)`);
    }
  }
  const side = (s: Side) => runs.filter((r) => r.side === s);
  const [before, after] = [median(side("before").map((r) => r.spansPerS)), median(side("after").map((r) => r.spansPerS))];
  // Same answers on both sides: the same 3 members alive on every node, and the registration one trace.
  const answers = new Set(runs.map((r) => `${r.alive} / ${r.registrationTraces}`));
  if (answers.size !== 1 || runs[0]?.registrationTraces !== 1) throw new Error(`the sides disagree or a registration was not one trace: ${[...answers].join("; ")}`);
  const last = side("before").at(-1);
  console.log(`\nbefore (tracing.backgroundRatio 1): median ${before.toFixed(1)} spans/s; by name in its last run (per s):`);
  for (const [name, n] of [...(last?.byName ?? new Map<string, number>())].sort((a, b) => b[1] - a[1]).slice(0, 10)) console.log(`  ${(n / IDLE_S).toFixed(1).padStart(6)}  ${name}`);
  console.log(`after (default, 0): median ${after.toFixed(1)} spans/s`);
  console.log(`after/before: ${(after / before).toFixed(3)}; every node saw ${runs[0]?.alive.split(" | ")[0]} alive on both sides; one registration = 1 trace on both sides`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
