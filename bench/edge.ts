// bench/edge: the L7 edge (issue 14) with the real Debian haproxy in the edge lab
// (integration/support/edge-lab.ts: a node in this process, HAProxy in a network namespace,
// backends and clients in others).
//   1. Task change → served by HAProxy: a task registered over admin (`task-add`) until HAProxy's
//      Runtime API shows its server ready (`show servers state`), p50/p99 over --changes changes
//      (alternating add and remove of one of 10 spare tasks). Reference in the same run: the same
//      wait for a structural change (a new vhost: render, haproxy -c, master-CLI reload), --reloads
//      times. Reloads per 100 membership changes, read from the master CLI (`show proc`).
//   2. Requests/s through the edge (3 backends) vs straight to one backend, wrk, interleaved in
//      alternating order over --rounds rounds; the ratio is the median of per-round ratios. Both
//      sides must answer 2xx only with no socket error, and the same body shape ("shopN /").
//   3. Render + validate at 500 services × 10 backends: buildModel + plan + render (in process),
//      then `haproxy -c` on the text; medians of 3.
//   npx tsx bench/edge.ts [--changes 100] [--reloads 5] [--rounds 3] [--wrk-s 3]
// Needs root, haproxy, wrk, curl, nats-server.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BE_IP, LB_IP, startEdgeLab, wrk, type EdgeLab } from "../integration/support/edge-lab.js";
import { buildModel, plan, procInfo, render, runtimeCommands, validateConfig, type EdgeTask } from "../actors/edge/index.js";
import { arg, percentile } from "./stats.js";

const CHANGES = arg("--changes", 100);
const RELOADS = arg("--reloads", 5);
const ROUNDS = arg("--rounds", 3);
const WRK_S = arg("--wrk-s", 3);
const G = { HAPROXY_GROUP: "external" };
const SHOP = { ...G, HAPROXY_0_VHOST: "shop.example.com" };
const median = (xs: readonly number[]) => percentile(xs, 50);

async function until(pred: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await pred())) {
    if (Date.now() > end) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 1));
  }
}

/** Whether HAProxy's live state has `port` on BE_IP in backend `b` serving (op state 2 = running; admin flags without forced maintenance 0x1 or drain 0x8 — 0x4 stays from the slot's `disabled` in the file). */
async function serving(e: EdgeLab, backend: string, port: number): Promise<boolean> {
  let out: string | undefined;
  try {
    [out] = await runtimeCommands(join(e.runDir, "admin.sock"), [`show servers state ${backend}`]);
  } catch {
    return false; // not running yet, or the backend not there yet
  }
  return (out ?? "").split("\n").some((l) => {
    const c = l.split(" ");
    return c[4] === BE_IP && c[18] === String(port) && c[5] === "2" && (Number(c[6]) & 0x09) === 0;
  });
}

async function changes(e: EdgeLab): Promise<void> {
  for (let i = 1; i <= 3; i++) await e.task(`shop.${i}`, "shop", 31000 + i, SHOP);
  for (let i = 11; i <= 20; i++) await e.backend(31000 + i, `shop${i}`);
  await until(() => serving(e, "marathon_shop_0", 31003));
  const master = join(e.runDir, "master.sock");
  await new Promise((r) => setTimeout(r, 500));
  const before = await procInfo(master);
  const ms: number[] = [];
  const admin: number[] = [];
  for (let k = 0; k < CHANGES; k++) {
    const i = 11 + (Math.floor(k / 2) % 10);
    if (k % 2 === 0) {
      const t0 = performance.now();
      await e.task(`shop.${i}`, "shop", 31000 + i, SHOP);
      admin.push(performance.now() - t0);
      await until(() => serving(e, "marathon_shop_0", 31000 + i));
      ms.push(performance.now() - t0);
    } else {
      await e.removeTask(`shop.${i}`);
      await until(async () => !(await serving(e, "marathon_shop_0", 31000 + i)));
    }
  }
  const after = await procInfo(master);
  const reloads = (after?.reloads ?? 0) - (before?.reloads ?? 0);
  // Reference: structural changes (each a new vhost → one validated reload).
  const ref: number[] = [];
  for (let k = 0; k < RELOADS; k++) {
    await new Promise((r) => setTimeout(r, 350)); // edge.minReloadIntervalMs is 300 in the lab
    const t0 = performance.now();
    await e.task(`v${k}.1`, `v${k}`, 31001, { ...G, HAPROXY_0_VHOST: `v${k}.example.com` });
    await until(() => serving(e, `marathon_v${k}_0`, 31001));
    ref.push(performance.now() - t0);
  }
  const afterRef = await procInfo(master);
  console.log(`task change → served (runtime API): p50 ${median(ms).toFixed(1)} ms, p99 ${percentile(ms, 99).toFixed(1)} ms over ${ms.length} additions (${CHANGES} membership changes)`);
  console.log(`  of which the admin request (task-add acknowledged): p50 ${median(admin).toFixed(1)} ms, p99 ${percentile(admin, 99).toFixed(1)} ms`);
  console.log(`reloads during ${CHANGES} membership changes: ${reloads} → ${((reloads * 100) / CHANGES).toFixed(1)} per 100 (Marathon-LB: one per change, 100)`);
  console.log(`reference, new vhost → served (haproxy -c + reload): p50 ${median(ref).toFixed(1)} ms, p99 ${percentile(ref, 99).toFixed(1)} ms over ${ref.length}; reloads ${(afterRef?.reloads ?? 0) - (after?.reloads ?? 0)}`);
  console.log(`ratio reload path / runtime path (p50): ${(median(ref) / median(ms)).toFixed(1)}×`);
}

async function throughput(e: EdgeLab): Promise<void> {
  const edge = () => wrk(e.lab, `http://${LB_IP}/`, "shop.example.com", WRK_S);
  const direct = () => wrk(e.lab, `http://${BE_IP}:31001/`, "shop.example.com", WRK_S);
  const same = async () => {
    const a = (await e.curl(["-H", "Host: shop.example.com", `http://${LB_IP}/`])).stdout;
    const b = (await e.curl([`http://${BE_IP}:31001/`])).stdout;
    if (!/^shop\d+ \/\n$/.test(a) || !/^shop\d+ \/\n$/.test(b)) throw new Error(`answers differ in shape: ${JSON.stringify(a)} vs ${JSON.stringify(b)}`);
  };
  await same();
  const rows: Array<{ edge: number; direct: number }> = [];
  for (let r = 0; r < ROUNDS; r++) {
    const order = r % 2 === 0 ? (["edge", "direct"] as const) : (["direct", "edge"] as const);
    const got: Record<string, number> = {};
    for (const side of order) {
      const w = await (side === "edge" ? edge() : direct());
      if (w.socketErrors > 0 || w.non2xx > 0) throw new Error(`${side}: ${w.socketErrors} socket errors, ${w.non2xx} non-2xx\n${w.text}`);
      got[side] = w.requests / WRK_S;
    }
    rows.push({ edge: got["edge"] ?? 0, direct: got["direct"] ?? 0 });
    console.log(`round ${r + 1} (${order.join(" then ")}): edge ${got["edge"]?.toFixed(0)} req/s, direct ${got["direct"]?.toFixed(0)} req/s`);
  }
  console.log(
    `requests/s (wrk -t2 -c16, keep-alive, ${WRK_S} s, median of ${ROUNDS}): edge ${median(rows.map((x) => x.edge)).toFixed(0)}, direct to one backend ${median(rows.map((x) => x.direct)).toFixed(0)}, ratio edge/direct ${median(rows.map((x) => x.edge / x.direct)).toFixed(2)}`,
  );
}

async function renderScale(): Promise<void> {
  const tasks: EdgeTask[] = [];
  for (let s = 0; s < 500; s++)
    for (let b = 0; b < 10; b++)
      tasks.push({ id: `svc${s}.${b}`, name: `svc${s}`, framework: "marathon", agentIp: `10.1.${s % 250}.${b + 1}`, taskIps: [`10.1.${s % 250}.${b + 1}`], state: "running", labels: { ...G, HAPROXY_0_VHOST: `svc${s}.example.com` }, ports: [{ name: "http", protocol: "tcp", hostPort: 20000 + s }] });
  const opts = { groups: ["external"], strict: false, httpPort: 80, httpsPort: 443, bindAddr: "*", reservedPorts: [9090], certExists: () => true, check: { interMs: 2000, fall: 2, rise: 1 } };
  const dir = mkdtempSync(join(tmpdir(), "edge-bench-"));
  const ropts = { adminSocket: join(dir, "a.sock"), hardStopAfterMs: 30_000, maxReloads: 50, health: { addr: "127.0.0.1", port: 9090 }, healthUri: "/h", timeouts: { connectMs: 5000, clientMs: 60_000, serverMs: 60_000, tunnelMs: 3_600_000 }, cookieKey: "k" };
  const rendered: number[] = [];
  const validated: number[] = [];
  let bytes = 0;
  try {
    for (let r = 0; r < 3; r++) {
      const t0 = performance.now();
      const model = buildModel(tasks, [], opts);
      const p = plan(model, new Map(), 8);
      const out = render(model, p.slots, ropts);
      rendered.push(performance.now() - t0);
      if (model.backends.length !== 500 || model.rejected.length > 0) throw new Error(`model: ${model.backends.length} backends, ${model.rejected.length} rejected`);
      bytes = out.text.length;
      const file = join(dir, "h.cfg");
      writeFileSync(file, out.text);
      const t1 = performance.now();
      const problem = await validateConfig({ prefix: [], binary: "haproxy" }, file);
      validated.push(performance.now() - t1);
      if (problem) throw new Error(problem);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(`500 services × 10 backends (${(bytes / 1024).toFixed(0)} KiB of config): model + plan + render ${median(rendered).toFixed(0)} ms, haproxy -c ${median(validated).toFixed(0)} ms (medians of 3)`);
}

async function main(): Promise<void> {
  await renderScale();
  const e = await startEdgeLab({ edge: { minReloadIntervalMs: 300 } });
  try {
    for (let i = 1; i <= 3; i++) await e.backend(31000 + i, `shop${i}`);
    await changes(e);
    await throughput(e);
  } finally {
    await e.close();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
