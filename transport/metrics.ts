// Transport metrics, registered on the node's own registry (never the prom-client default one).
import { Counter, Gauge, type Registry } from "prom-client";

export const METRIC_NAMES = {
  rejected: "dcnet_transport_rejected_messages_total",
  reconnects: "dcnet_transport_reconnects_total",
  connected: "dcnet_transport_connected",
} as const;

export interface TransportMetrics {
  readonly rejected: Counter<"kind" | "reason">;
  readonly reconnects: Counter;
  readonly connected: Gauge;
}

// A registry can outlive a Transport (a node that reconnects from scratch): reuse metrics already registered.
function counter<L extends string>(registry: Registry, name: string, help: string, labelNames: readonly L[]): Counter<L> {
  const existing = registry.getSingleMetric(name);
  if (existing instanceof Counter) return existing as Counter<L>;
  return new Counter({ name, help, labelNames, registers: [registry] });
}

function gauge(registry: Registry, name: string, help: string): Gauge {
  const existing = registry.getSingleMetric(name);
  if (existing instanceof Gauge) return existing as Gauge;
  return new Gauge({ name, help, registers: [registry] });
}

export function transportMetrics(registry: Registry): TransportMetrics {
  return {
    rejected: counter(registry, METRIC_NAMES.rejected, "Messages rejected at the transport border, by kind and reason.", ["kind", "reason"] as const),
    reconnects: counter(registry, METRIC_NAMES.reconnects, "Reconnections to a NATS server after a disconnect.", [] as const),
    connected: gauge(registry, METRIC_NAMES.connected, "1 while connected to a NATS server, else 0."),
  };
}
