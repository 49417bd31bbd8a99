// Prometheus metrics of the store, on the node's registry. Created once per behaviour (a restarted
// actor keeps counting into the same series); an existing metric of the same name is reused so two
// stores in one process can share a registry in tests. Refusals are counted by ../rejects.ts.
import { Counter, Gauge, type Registry } from "prom-client";
import { getOrCreate } from "../../../observability/metrics.js";

const STORE_METRICS = {
  deltas: "dcnet_gossip_deltas_total",
  bytes: "dcnet_gossip_bytes_total",
  keys: "dcnet_gossip_keys",
  keysRepaired: "dcnet_gossip_keys_repaired_total",
  syncSeconds: "dcnet_gossip_sync_seconds",
} as const;

export interface StoreMetrics {
  readonly deltas: Counter<"direction">;
  readonly bytes: Counter<"direction">;
  readonly keys: Gauge;
  readonly keysRepaired: Counter;
  readonly syncSeconds: Gauge;
}

const getOr = getOrCreate;

/** `liveKeys` is read at scrape time, so the gauge never lags the store. */
export function storeMetrics(registry: Registry, liveKeys: () => number): StoreMetrics {
  const registers = [registry];
  return {
    deltas: getOr(registry, STORE_METRICS.deltas, () => new Counter({ name: STORE_METRICS.deltas, help: "CRDT key deltas sent and received (one per key per batch)", labelNames: ["direction"], registers })),
    bytes: getOr(registry, STORE_METRICS.bytes, () => new Counter({ name: STORE_METRICS.bytes, help: "Bytes of delta batches sent and received", labelNames: ["direction"], registers })),
    keys: getOr(registry, STORE_METRICS.keys, () => new Gauge({ name: STORE_METRICS.keys, help: "Keys with live entries in the replicated store", registers, collect() { this.set(liveKeys()); } })),
    keysRepaired: getOr(registry, STORE_METRICS.keysRepaired, () => new Counter({ name: STORE_METRICS.keysRepaired, help: "Keys changed by anti-entropy pulls (including the initial sync)", registers })),
    syncSeconds: getOr(registry, STORE_METRICS.syncSeconds, () => new Gauge({ name: STORE_METRICS.syncSeconds, help: "Duration of the last initial sync, seconds", registers })),
  };
}
