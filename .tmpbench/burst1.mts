import { startNatsServer } from "../integration/harness/nats-local.js";
import { startStoreNode, write, setOp, counters, waitUntil } from "../actors/gossip/store/testkit.js";
const server = await startNatsServer();
try {
  const n = Number(process.env.NODES ?? 1);
  const nodes = await Promise.all(["a", "b", "c"].slice(0, n).map((id) => startStoreNode(server.url, "bench", id, { gossip: { syncTimeoutMs: 100 } })));
  await waitUntil("synced", async () => (await Promise.all(nodes.map(counters))).every((c) => c.synced), 5000);
  const a = nodes[0]!;
  const N = Number(process.env.N ?? 10000);
  for (let round = 0; round < 3; round++) {
    const t0 = performance.now();
    let first = 0;
    const acks = await Promise.all(Array.from({ length: N }, (_, i) => write(a, `burst/${round}/${i}`, [setOp("v", i), setOp("w", `value-${i}`)], 60000).then((r) => { if (!first) first = performance.now() - t0; return r; })));
    const t1 = performance.now();
    await waitUntil("conv", async () => (await Promise.all(nodes.map(counters))).every((c) => c.keys === N * (round + 1)), 30000, 5);
    const t2 = performance.now();
    console.log(`nodes=${n} round ${round}: first ack ${first.toFixed(0)} all acked ${(t1 - t0).toFixed(0)} converged ${(t2 - t0).toFixed(0)}`, acks.every((x) => x.ok));
  }
  await Promise.all(nodes.map((n) => n.stop()));
} finally {
  await server.stop();
}
