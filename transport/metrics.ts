// Transport metrics, registered on the node's own registry (never the prom-client default one).
import type { Counter, Gauge, Registry } from "prom-client";
import { counter, gauge } from "../observability/metrics.js";

import { METRIC_NAMES } from "./metric-names.js";

export { METRIC_NAMES };

export interface TransportMetrics {
  readonly rejected: Counter<"kind" | "reason">;
  readonly reconnects: Counter;
  readonly connected: Gauge;
}


export function transportMetrics(registry: Registry): TransportMetrics {
  return {
    rejected: counter(registry, METRIC_NAMES.rejected, "Messages rejected at the transport border, by kind and reason.", ["kind", "reason"] as const),
    reconnects: counter(registry, METRIC_NAMES.reconnects, "Reconnections to a NATS server after a disconnect.", [] as const),
    connected: gauge(registry, METRIC_NAMES.connected, "1 while connected to a NATS server, else 0."),
  };
}
