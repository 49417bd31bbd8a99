// bench/http-api: the HTTP API next to DNS on one node, in the same run.
//  1. GET /v1/hosts/{host} against the same lookup over DNS (UDP, the node's listener): requests/s
//     and p99 with the same number of clients in a closed loop, the two alternating round by round
//     (order reversed every round), medians of the rounds; the answers of both must be the same set.
//  2. GET /v1/records with 10,000 tasks registered, then again with 30,000: time to the last byte and
//     the node's resident memory growth during the request (VmHWM after resetting it,
//     /proc/<pid>/clear_refs), next to the size of the body: a buffered response would grow by at
//     least the body, a response holding one zone at a time by the largest zone; a paged one stays
//     flat while the body triples. The reference is the same records through the admin op
//     `dns-records` (one message holding them all).
//   npx tsx bench/http-api.ts [--tasks 10000,30000] [--seconds 5] [--runs 3] [--clients 16]
import { createSocket } from "node:dgram";
import { readFileSync, writeFileSync } from "node:fs";
import dnsPacket from "dns-packet";
import { startNatsServer } from "../integration/harness/nats-local.js";
import { spawnDcnet, isReady } from "../integration/support/dcnet-process.js";
import { connectAdmin } from "../integration/support/admin.js";
import { freePort } from "../integration/support/ports.js";
import { arg, percentile } from "./stats.js";

/** Task counts for part 2, ascending; part 1 runs at the first. */
const SIZES = (() => {
  const i = process.argv.indexOf("--tasks");
  const list = (i >= 0 ? (process.argv[i + 1] ?? "") : "10000,30000").split(",").map(Number).filter((n) => Number.isInteger(n) && n > 0);
  if (list.length === 0) throw new Error("--tasks: a comma-separated list of task counts, e.g. 10000,30000");
  return [...new Set(list)].sort((a, b) => a - b);
})();
const SECONDS = arg("--seconds", 5);
const RUNS = Math.max(3, arg("--runs", 3));
const CLIENTS = arg("--clients", 16);
const NAME = "app-1.marathon.agentip.dcos.thisdcos.directory";
const median = (xs: readonly number[]) => percentile(xs, 50);

interface Load {
  readonly rps: number;
  readonly p99: number;
}

async function closedLoop(one: () => Promise<void>, seconds: number): Promise<Load> {
  const lat: number[] = [];
  const end = performance.now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: CLIENTS }, async () => {
      while (performance.now() < end) {
        const t0 = performance.now();
        await one();
        lat.push(performance.now() - t0);
      }
    }),
  );
  return { rps: lat.length / seconds, p99: percentile(lat, 99) };
}

function dnsClient(port: number) {
  const sock = createSocket("udp4");
  const waiting = new Map<number, (ips: string[]) => void>();
  let id = 0;
  sock.on("message", (m) => {
    const p = dnsPacket.decode(m);
    const w = p.id === undefined ? undefined : waiting.get(p.id);
    if (!w || p.id === undefined) return;
    waiting.delete(p.id);
    w((p.answers ?? []).flatMap((a) => (a.type === "A" ? [a.data] : [])).sort());
  });
  return {
    ask: (name: string) =>
      new Promise<string[]>((resolve, reject) => {
        id = (id + 1) & 0xffff;
        const q = id;
        const timer = setTimeout(() => (waiting.delete(q), reject(new Error("DNS timeout"))), 3000);
        waiting.set(q, (ips) => (clearTimeout(timer), resolve(ips)));
        sock.send(dnsPacket.encode({ type: "query", id: q, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type: "A", class: "IN", name }] }), port, "127.0.0.1");
      }),
    close: () => sock.close(),
  };
}

const taskOf = (n: number) => ({ id: `app-${n}`, name: `app-${n}`, framework: "marathon", runtime: "native", agentIp: `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`, taskIps: [`11.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`], state: "running" as const, ports: [{ name: "http", protocol: "tcp" as const, port: 8080, vips: [] as string[] }] });

const rssKb = (pid: number, field: "VmRSS" | "VmHWM") => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0);

async function main(): Promise<void> {
  const nats = await startNatsServer({});
  const dnsPort = await freePort();
  const apiPort = await freePort();
  const node = spawnDcnet(["node", "--nats", nats.url, "--id", "bench-api", "--dns-listen", `127.0.0.1:${dnsPort}`, "--metrics-listen", ""], { DCNET_API_LISTEN: `127.0.0.1:${apiPort}` });
  const base = `http://127.0.0.1:${apiPort}`;
  const dns = dnsClient(dnsPort);
  try {
    await node.waitForLine(isReady, 30_000);
    const t = await connectAdmin([nats.url], 10_000);
    const pid = node.child.pid as number;
    let registered = 0;
    let retried = 0;
    // A request in flight when the node's NATS connection drops (a long event-loop stall while the
    // zones of tens of thousands of tasks are rebuilt on a loaded machine) is never answered: asked
    // again (task-add is an upsert), up to 3 times, and counted.
    const addTask = async (task: ReturnType<typeof taskOf>): Promise<unknown> => {
      for (let attempt = 1; ; attempt++) {
        try {
          return await t.admin.request("bench-api", "task-add", { task }, 30_000);
        } catch (err) {
          if (attempt >= 3 || (err as { code?: string }).code !== "DCNET_E_TIMEOUT") throw err;
          retried++;
        }
      }
    };
    const registerUpTo = async (tasks: number) => {
      if (tasks <= registered) return;
      console.log(`registering tasks ${registered}..${tasks - 1}…`);
      const t0 = performance.now();
      // 100 in flight: past 10,000 tasks each zone rebuild is long, and 200 at once waited past 30 s on a loaded machine.
      for (let i = registered; i < tasks; i += 100) {
        await Promise.all(
          Array.from({ length: Math.min(100, tasks - i) }, (_, k) => {
            const n = i + k;
            return addTask(taskOf(n));
          }),
        );
      }
      // Registered when the last task's name resolves (bounded: 600 tries, 2 minutes).
      for (let tries = 0; ; tries++) {
        if ((await dns.ask(`app-${tasks - 1}.marathon.agentip.dcos.thisdcos.directory`)).length > 0) break;
        if (tries >= 600) throw new Error(`app-${tasks - 1} never resolved`);
        await new Promise((r) => setTimeout(r, 200));
      }
      registered = tasks;
      console.log(`${tasks} registered and resolvable in ${((performance.now() - t0) / 1000).toFixed(1)} s${retried > 0 ? ` (${retried} task-add requests unanswered and asked again so far)` : ""}`);
    };
    await registerUpTo(SIZES[0] as number);

    // 1. /v1/hosts vs DNS
    const viaHttp = async () => ((await (await fetch(`${base}/v1/hosts/${NAME}`)).json()) as Array<{ ip: string }>).map((h) => h.ip).sort();
    const [h, d] = [await viaHttp(), await dns.ask(NAME)];
    if (JSON.stringify(h) !== JSON.stringify(d) || h.length === 0) throw new Error(`answers differ: http ${JSON.stringify(h)} dns ${JSON.stringify(d)}`);
    console.log(`same answer both ways: ${NAME} → ${h.join(",")}`);
    const http: Load[] = [];
    const udp: Load[] = [];
    for (let r = 0; r < RUNS; r++) {
      const order = r % 2 === 0 ? ["http", "dns"] : ["dns", "http"];
      for (const which of order) {
        if (which === "http") http.push(await closedLoop(async () => void (await viaHttp()), SECONDS));
        else udp.push(await closedLoop(async () => void (await dns.ask(NAME)), SECONDS));
      }
      console.log(`round ${r + 1}: http ${http[r]?.rps.toFixed(0)} req/s p99 ${http[r]?.p99.toFixed(2)} ms | dns ${udp[r]?.rps.toFixed(0)} q/s p99 ${udp[r]?.p99.toFixed(2)} ms`);
    }
    const [hr, dr, hp, dp] = [median(http.map((x) => x.rps)), median(udp.map((x) => x.rps)), median(http.map((x) => x.p99)), median(udp.map((x) => x.p99))];
    console.log(`\n/v1/hosts/{host}: ${hr.toFixed(0)} req/s, p99 ${hp.toFixed(2)} ms | DNS: ${dr.toFixed(0)} q/s, p99 ${dp.toFixed(2)} ms | ratio http/dns: throughput ×${(hr / dr).toFixed(2)}, p99 ×${(hp / dp).toFixed(2)} (${CLIENTS} clients, median of ${RUNS} rounds of ${SECONDS} s)`);

    // 2. /v1/records at each size, next to the admin op
    const summary: string[] = [];
    const growth: Array<{ tasks: number; mb: number; body: number }> = [];
    for (const tasks of SIZES) {
      await registerUpTo(tasks);
      const recs: Array<{ ms: number; bytes: number; records: number; growthKb: number }> = [];
      const admin: Array<{ ms: number; rows: number; growthKb: number; refused?: string }> = [];
      for (let r = 0; r < RUNS; r++) {
        const order = r % 2 === 0 ? ["http", "admin"] : ["admin", "http"];
        for (const which of order) {
          writeFileSync(`/proc/${pid}/clear_refs`, "5");
          const before = rssKb(pid, "VmRSS");
          const s = performance.now();
          if (which === "http") {
            const res = await fetch(`${base}/v1/records`);
            let bytes = 0;
            const chunks: Buffer[] = [];
            for await (const c of res.body as unknown as AsyncIterable<Uint8Array>) {
              bytes += c.length;
              chunks.push(Buffer.from(c));
            }
            const ms = performance.now() - s;
            const records = (JSON.parse(Buffer.concat(chunks).toString()) as unknown[]).length;
            recs.push({ ms, bytes, records, growthKb: rssKb(pid, "VmHWM") - before });
          } else {
            // One admin reply holds every record: past NATS's max_payload (1 MB) the node refuses it.
            const reply = await t.admin.request("bench-api", "dns-records", {}, 60_000).catch((err: Error) => ({ rows: [] as unknown[], refused: err.message }));
            admin.push({ ms: performance.now() - s, rows: reply.rows.length, growthKb: rssKb(pid, "VmHWM") - before, ...("refused" in reply ? { refused: reply.refused } : {}) });
          }
        }
        console.log(`round ${r + 1}: /v1/records ${recs[r]?.ms.toFixed(0)} ms, ${recs[r]?.records} records, ${((recs[r]?.bytes ?? 0) / 1e6).toFixed(1)} MB, node RSS +${((recs[r]?.growthKb ?? 0) / 1024).toFixed(1)} MB | admin dns-records ${admin[r]?.refused ? `refused: ${admin[r]?.refused}` : `${admin[r]?.ms.toFixed(0)} ms, ${admin[r]?.rows} rows`}, RSS +${((admin[r]?.growthKb ?? 0) / 1024).toFixed(1)} MB`);
      }
      const [rm, am] = [median(recs.map((x) => x.ms)), median(admin.map((x) => x.ms))];
      const [rg, ag] = [median(recs.map((x) => x.growthKb)) / 1024, median(admin.map((x) => x.growthKb)) / 1024];
      const body = (recs[0]?.bytes ?? 0) / 1e6;
      summary.push(`/v1/records at ${tasks} tasks: ${rm.toFixed(0)} ms for ${recs[0]?.records} records (${body.toFixed(1)} MB), node RSS growth ${rg.toFixed(1)} MB = ×${(rg / body).toFixed(2)} of the body | admin dns-records (all records in one reply): ${admin.some((a) => a.refused) ? "refused, over NATS max_payload" : `${am.toFixed(0)} ms, ratio http/admin time ×${(rm / am).toFixed(2)}`}, RSS growth ${ag.toFixed(1)} MB (median of ${RUNS})`);
      growth.push({ tasks, mb: rg, body });
      console.log(`\n${summary[summary.length - 1]}\n`);
    }
    const [lo, hi] = [growth[0], growth[growth.length - 1]];
    if (lo && hi && hi !== lo) summary.push(`from ${lo.tasks} to ${hi.tasks} tasks: body ×${(hi.body / lo.body).toFixed(2)} (${lo.body.toFixed(1)} → ${hi.body.toFixed(1)} MB), node RSS growth during the request ${lo.mb.toFixed(1)} → ${hi.mb.toFixed(1)} MB`);
    console.log(summary.join("\n"));
    await t.close();
  } catch (err) {
    // Say what the node said last: a bench that stops on a timeout otherwise hides why.
    const said = node.lines().filter((l) => ["warn", "error", "fatal"].includes(String(l.level))).slice(-10);
    console.error(`node warnings/errors (last ${said.length}):\n${said.map((l) => JSON.stringify(l)).join("\n")}\nnode stderr: ${node.stderr().slice(-1000)}`);
    throw err;
  } finally {
    dns.close();
    await node.stop();
    await nats.stop();
  }
}

await main();
