import { startNatsServer } from "../integration/harness/nats-local.js";
import { startStoreNode, write, setOp, counters, waitUntil } from "../actors/gossip/store/testkit.js";
const server = await startNatsServer();
try {
  const nodes = await Promise.all(["a", "b", "c"].map((id) => startStoreNode(server.url, "bench", id)));
  await waitUntil("synced", async () => (await Promise.all(nodes.map(counters))).every((c) => c.synced), 5000);
  const [a, b, c] = nodes;
  const N = Number(process.env.N ?? 10000);
  const t0 = performance.now();
  const acks = await Promise.all(Array.from({ length: N }, (_, i) => write(a!, `burst/${i}`, [setOp("v", i), setOp("w", `value-${i}`)], 60000)));
  const t1 = performance.now();
  await waitUntil("conv", async () => (await counters(b!)).keys === N && (await counters(c!)).keys === N, 30000, 10);
  const t2 = performance.now();
  console.log("acked", (t1 - t0).toFixed(0), "converged", (t2 - t0).toFixed(0), acks.every((x) => x.ok));
  await Promise.all(nodes.map((n) => n.stop()));
} finally {
  await server.stop();
}
