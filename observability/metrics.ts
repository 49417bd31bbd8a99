// One prom-client Registry per node (never the global default registry), so several nodes can
// live in one process (tests, benchmarks) without their counters mixing.
import { Counter, Gauge, Registry } from "prom-client";

export function createRegistry(labels: { node: string; cluster: string }): Registry {
  const registry = new Registry();
  registry.setDefaultLabels(labels);
  return registry;
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

/** One label value's series of a FastHistogram. */
export interface HistogramSeries {
  observe(value: number): void;
}

/**
 * A histogram for paths that run tens of thousands of times a second (the DNS query path): one
 * fixed label, series chosen up front, and observe() is a bucket scan over a typed array. prom-client's
 * Histogram hashes the label set on every observe, which cost more than answering the query.
 * Exposed through the registry in the standard text format like any other metric.
 */
export function fastHistogram<V extends string>(registry: Registry, name: string, help: string, label: string, values: readonly V[], buckets: readonly number[]): Record<V, HistogramSeries> {
  const existing = registry.getSingleMetric(name) as unknown as { series?: Record<V, HistogramSeries> } | undefined;
  if (existing?.series) return existing.series;
  const bounds = [...buckets].sort((a, b) => a - b);
  const state = new Map<V, { counts: Float64Array; sum: number; count: number }>();
  const series = {} as Record<V, HistogramSeries>;
  for (const v of values) {
    const s = { counts: new Float64Array(bounds.length), sum: 0, count: 0 };
    state.set(v, s);
    series[v] = {
      observe(value: number): void {
        s.sum += value;
        s.count++;
        for (let i = 0; i < bounds.length; i++) {
          if (value <= (bounds[i] as number)) {
            (s.counts[i] as number) += 1;
            return;
          }
        }
      },
    };
  }
  const metric = {
    name,
    help,
    type: "histogram",
    aggregator: "sum",
    series,
    get() {
      const out: Array<{ labels: Record<string, string | number>; value: number; metricName: string }> = [];
      for (const [v, s] of state) {
        let cumulative = 0;
        bounds.forEach((b, i) => {
          cumulative += s.counts[i] as number;
          out.push({ labels: { le: b, [label]: v }, value: cumulative, metricName: `${name}_bucket` });
        });
        out.push({ labels: { le: "+Inf", [label]: v }, value: s.count, metricName: `${name}_bucket` });
        out.push({ labels: { [label]: v }, value: s.sum, metricName: `${name}_sum` });
        out.push({ labels: { [label]: v }, value: s.count, metricName: `${name}_count` });
      }
      return Promise.resolve({ name, help, type: "histogram", values: out, aggregator: "sum" });
    },
    reset() {
      for (const s of state.values()) {
        s.counts.fill(0);
        s.sum = 0;
        s.count = 0;
      }
    },
  };
  registry.registerMetric(metric as unknown as Parameters<Registry["registerMetric"]>[0]);
  return series;
}
