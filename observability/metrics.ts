// One prom-client Registry per node (never the global default registry), so several nodes can
// live in one process (tests, benchmarks) without their counters mixing.
import { Counter, Gauge, Registry } from "prom-client";

export function createRegistry(labels: { node: string; cluster: string }): Registry {
  const registry = new Registry();
  registry.setDefaultLabels(labels);
  return registry;
}

/** Sum of a counter's values per label set, for admin `status` (no HTTP scrape needed). */
export async function counterValues(registry: Registry, name: string): Promise<Array<{ labels: Record<string, string | number>; value: number }>> {
  const metric = registry.getSingleMetric(name);
  if (!metric) return [];
  const data = await metric.get();
  return data.values.map((v) => ({ labels: v.labels as Record<string, string | number>, value: v.value }));
}

/**
 * The metric already registered under `name`, else a new one. Actors restart and transports
 * reconnect while the node's registry lives on, so every metric is declared through this.
 */
export function getOrCreate<T>(registry: Registry, name: string, create: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? create();
}

export function counter<L extends string>(registry: Registry, name: string, help: string, labelNames: readonly L[] = []): Counter<L> {
  return getOrCreate(registry, name, () => new Counter<L>({ name, help, labelNames, registers: [registry] }));
}

export function gauge<L extends string>(registry: Registry, name: string, help: string, labelNames: readonly L[] = []): Gauge<L> {
  return getOrCreate(registry, name, () => new Gauge<L>({ name, help, labelNames, registers: [registry] }));
}
