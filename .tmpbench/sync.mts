import { pino } from "pino";
import { startNatsServer } from "../integration/harness/nats-local.js";
import { startStoreNode, write, setOp, counters, waitUntil, keys } from "../actors/gossip/store/testkit.js";
const server = await startNatsServer();
try {
  const nodes = await Promise.all(["a", "b"].map((id) => startStoreNode(server.url, "bench", id)));
  await waitUntil("synced", async () => (await Promise.all(nodes.map(counters))).every((c) => c.synced), 5000);
  const a = nodes[0]!;
  const acks = await Promise.all(Array.from({ length: 1000 }, (_, i) => write(a, `svc/${i}`, [setOp("port", i), { op: "add", field: "tags", elem: `t${i % 10}` }])));
  await waitUntil("b", async () => (await keys(nodes[1]!, "svc/")).length === 1000, 5000);
  for (let r = 0; r < 3; r++) {
    const t0 = performance.now();
    const c = await startStoreNode(server.url, "bench", `c${r}`, { logger: pino({ level: "debug" }) } as never);
    const t1 = performance.now();
    await write(c, "x", [setOp("a", 1)]);
    const t2 = performance.now();
    const secs = (await c.registry.getSingleMetric("dcnet_gossip_sync_seconds")?.get())?.values[0]?.value;
    console.log(`start ${(t1 - t0).toFixed(0)} first ack ${(t2 - t0).toFixed(0)} sync ${secs}`);
    await c.stop();
  }
  await Promise.all(nodes.map((n) => n.stop()));
} finally {
  await server.stop();
}
