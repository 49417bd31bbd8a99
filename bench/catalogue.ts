// bench/catalogue: cost of turning a 10,000-task Mesos GET_STATE into the Task model and the VIP
// table, next to the unavoidable part — JSON.parse of the same document — in the same run,
// alternating rounds. Prints median times, their ratio and the retained heap of each; then what one
// task change costs the catalogue's VIP view, kept task by task (VipTableBuilder), p50/p99.
//   npx tsx bench/catalogue.ts [--tasks 10000] [--agents 100] [--rounds 5]
import v8 from "node:v8";
import vm from "node:vm";
import { mesosStateFromGetState } from "../actors/catalogue/index.js";
import { tasksFromMesosState } from "../actors/catalogue/index.js";
import { backendsOf, vipTable } from "../actors/catalogue/index.js";
import { VipTableBuilder } from "../actors/catalogue/index.js";
import { arg, percentile } from "./stats.js";

const nTasks = arg("--tasks", 10_000);
const nAgents = arg("--agents", 100);
const rounds = arg("--rounds", 5);
const FRAMEWORKS = ["marathon", "hello-world", "kafka", "cassandra", "jenkins"];

v8.setFlagsFromString("--expose-gc");
const gc = vm.runInNewContext("gc") as () => void;

const agentIp = (a: number) => `10.0.${a >> 8}.${a & 255}`;
const fid = (f: number) => `c620b0f5-ce56-472b-814a-aa36b40206af-000${f}`;

function status(i: number, a: number, net: string, ts: number, state: string, healthy?: boolean) {
  const ip = net === "host" ? agentIp(a) : net === "bridge" ? `172.18.${(i >> 8) & 255}.${i & 255}` : `9.0.${(i >> 8) & 255}.${i & 255}`;
  return {
    task_id: { value: `t${i}` }, agent_id: { value: `S${a}` }, state, timestamp: ts, source: "SOURCE_EXECUTOR",
    uuid: "ibq8OoyDRAK/Pau27SsVgA==", ...(healthy === undefined ? {} : { healthy }),
    container_status: {
      container_id: { value: `790ae3b9-17a3-4ea5-919e-${String(i).padStart(12, "0")}` },
      network_infos: [{ ip_addresses: [{ protocol: "IPv4", ip_address: ip }], ...(net === "dcos" ? { name: "dcos" } : {}) }],
    },
  };
}

function task(i: number) {
  const a = i % nAgents;
  const f = i % FRAMEWORKS.length;
  const net = ["host", "bridge", "dcos"][i % 3] as string;
  const app = `app${i % 500}`;
  const port = 31000 + (i % 1000);
  const checked = i % 4 === 0;
  const labels = (vip: string) => ({ labels: [{ key: "VIP_0", value: vip }, ...(net === "host" ? [{ key: "network-scope", value: "host" }] : [])] });
  return {
    task_id: { value: `${app}.${i}` }, framework_id: { value: fid(f) }, agent_id: { value: `S${a}` }, name: app,
    state: i % 50 === 0 ? "TASK_KILLING" : "TASK_RUNNING",
    statuses: [status(i, a, net, 1528404802 + i, "TASK_STARTING"), status(i, a, net, 1528404817 + i, "TASK_RUNNING", checked ? i % 20 !== 0 : undefined)],
    resources: [
      { name: "cpus", type: "SCALAR", scalar: { value: 0.1 } },
      { name: "mem", type: "SCALAR", scalar: { value: 128 } },
      { name: "ports", type: "RANGES", ranges: { range: [{ begin: port, end: port + 1 }] } },
    ],
    ...(checked ? { health_check: { type: "HTTP", http: { port: 8080, path: "/" } } } : {}),
    ...(i % 7 === 0 ? { labels: { labels: [{ key: "VIP_PORT1", value: `tcp://legacy${i % 50}:8443` }] } } : {}),
    container: net === "bridge"
      ? { type: "DOCKER", docker: { image: "nginx", network: "BRIDGE", port_mappings: [{ host_port: port, container_port: 8080, protocol: "tcp" }] } }
      : { type: "MESOS", mesos: { image: { type: "DOCKER", docker: { name: "python:3-alpine" } } } },
    discovery: {
      visibility: "FRAMEWORK", name: app,
      ports: { ports: [
        { number: net === "host" ? port : 8080, name: "http", protocol: "tcp", labels: labels(`/${app}:80`) },
        { number: net === "host" ? port + 1 : 8081, name: "metrics", protocol: "tcp" },
      ] },
    },
  };
}

function document(): string {
  const agents = Array.from({ length: nAgents }, (_, a) => ({
    agent_info: { id: { value: `S${a}` }, hostname: agentIp(a), port: 5051 }, active: true, version: "1.11.0",
  }));
  const frameworks = FRAMEWORKS.map((name, f) => ({ framework_info: { id: { value: fid(f) }, name, user: "root" }, active: true }));
  const tasks = Array.from({ length: nTasks }, (_, i) => task(i));
  return JSON.stringify({
    type: "GET_STATE",
    get_state: { get_agents: { agents }, get_frameworks: { frameworks }, get_tasks: { tasks } },
  });
}

function apply(text: string) {
  const state = mesosStateFromGetState(JSON.parse(text));
  const { tasks, problems } = tasksFromMesosState(state);
  const table = vipTable(tasks.flatMap((t) => backendsOf(t, "bench")));
  return { tasks, problems, table };
}

/** Retained heap (MiB) of what `fn` returns, after full GCs. */
function retained(fn: () => unknown): number {
  gc();
  const before = process.memoryUsage().heapUsed;
  const keep = fn();
  gc();
  const after = process.memoryUsage().heapUsed;
  if (keep === undefined) throw new Error("unreachable");
  return (after - before) / 2 ** 20;
}

function time(fn: () => unknown): number {
  const t0 = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

const text = document();
const check = apply(text);
if (check.problems.length > 0 || check.tasks.length !== nTasks) {
  throw new Error(`generator/convert mismatch: ${check.tasks.length} tasks, ${check.problems.length} problems`);
}
const backends = [...check.table.values()].reduce((n, b) => n + b.length, 0);
console.log(`document: ${(text.length / 2 ** 20).toFixed(1)} MiB, ${nTasks} tasks, ${nAgents} agents, ${FRAMEWORKS.length} frameworks → ${check.table.size} VIPs, ${backends} backends`);

const parseMs: number[] = [];
const applyMs: number[] = [];
apply(text); // warm-up
for (let r = 0; r < rounds; r++) {
  gc();
  parseMs.push(time(() => JSON.parse(text)));
  gc();
  applyMs.push(time(() => apply(text)));
}
const parseHeap = retained(() => JSON.parse(text));
const applyHeap = retained(() => apply(text));
const p = percentile(parseMs, 50);
const a = percentile(applyMs, 50);
console.log(
  `catalogue: apply=${a.toFixed(1)} ms parse-only=${p.toFixed(1)} ms ratio=${(a / p).toFixed(2)} ` +
    `heap=${applyHeap.toFixed(1)} MiB parse-heap=${parseHeap.toFixed(1)} MiB (median of ${rounds} alternating rounds)`,
);

// One task change as the VIP view sees it: the builder holds every task, one task drains or serves
// again, the table is rebuilt for that task's VIPs only (plus a copy of the key map).
const builder = new VipTableBuilder();
check.tasks.forEach((t, i) => builder.set(`t${i}`, backendsOf(t, "bench")));
builder.build();
const oneMs: number[] = [];
for (let r = 0; r < 500; r++) {
  const i = (r * 7919) % check.tasks.length;
  const t = check.tasks[i] as (typeof check.tasks)[number];
  const flipped = { ...t, state: t.state === "running" ? ("killing" as const) : ("running" as const) };
  check.tasks[i] = flipped;
  const t0 = process.hrtime.bigint();
  builder.set(`t${i}`, backendsOf(flipped, "bench"));
  builder.build();
  oneMs.push(Number(process.hrtime.bigint() - t0) / 1e6);
}
console.log(`catalogue VIP view, one task change: p50=${percentile(oneMs, 50).toFixed(2)} ms p99=${percentile(oneMs, 99).toFixed(2)} ms (500 changes, ${check.table.size} VIPs)`);
