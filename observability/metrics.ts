// One prom-client Registry per node (never the global default registry), so several nodes can
// live in one process (tests, benchmarks) without their counters mixing.
import { Registry } from "prom-client";

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
