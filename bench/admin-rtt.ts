// bench/admin-rtt: admin `ping` round trip (CLI client → NATS → micro service → admin actor →
// reply) next to a bare NATS request/reply echo on the same server, in the same run, alternating
// rounds so machine noise hits both alike. Prints p50/p99 of each and the ratio (target ≤ 1.5).
//   npx tsx bench/admin-rtt.ts [--rounds 5] [--per-round 400]
import { pino } from "pino";
import { startNatsServer } from "../integration/harness/nats-local.js";
import { startNode } from "../actors/node/index.js";
import { validateConfig } from "../actors/node/config.js";
import { createLogHub } from "../observability/logger.js";
import { createRegistry } from "../observability/metrics.js";
import { Transport } from "../transport/index.js";
import { AdminClient } from "../actors/admin/index.js";
import { percentile, arg } from "./stats.js";

const rounds = arg("--rounds", 5);
const perRound = arg("--per-round", 400);

const server = await startNatsServer({});
const node = await startNode(validateConfig({ id: "bench", nats: { servers: [server.url] }, log: { level: "warn" } }), {
  logs: createLogHub({ level: "warn", bindings: { node: "bench" } }),
});
const client = await Transport.connect({
  servers: [server.url],
  cluster: "dcnet",
  nodeId: "bench-client",
  logger: pino({ level: "warn" }),
  metrics: createRegistry({ node: "bench-client", cluster: "dcnet" }),
});
const admin = new AdminClient(client, 2000);

// The reference: the cheapest possible request/reply on the same connection pair.
const raw = node.transport.nc.subscribe("bench.raw.echo", { callback: (_err, m) => void m.respond(m.data) });
const payload = new Uint8Array(16);

async function timeAdmin(n: number, out: number[]): Promise<void> {
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await admin.request("bench", "ping", {});
    out.push(performance.now() - t);
  }
}
async function timeRaw(n: number, out: number[]): Promise<void> {
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await client.nc.request("bench.raw.echo", payload, { timeout: 2000 });
    out.push(performance.now() - t);
  }
}

try {
  await timeAdmin(100, []); // warm-up: JIT, connection buffers
  await timeRaw(100, []);
  const a: number[] = [];
  const r: number[] = [];
  for (let i = 0; i < rounds; i++) {
    await timeAdmin(perRound, a);
    await timeRaw(perRound, r);
  }
  const ap50 = percentile(a, 50), ap99 = percentile(a, 99), rp50 = percentile(r, 50), rp99 = percentile(r, 99);
  console.log(`admin ping : n=${a.length} p50=${ap50.toFixed(3)} ms p99=${ap99.toFixed(3)} ms`);
  console.log(`raw nats   : n=${r.length} p50=${rp50.toFixed(3)} ms p99=${rp99.toFixed(3)} ms`);
  console.log(`admin-rtt: ratio p50=${(ap50 / rp50).toFixed(2)} p99=${(ap99 / rp99).toFixed(2)} (target p50 ratio <= 1.5)`);
} finally {
  raw.unsubscribe();
  await client.close();
  await node.stop("bench done");
  await server.stop();
}
