// Active upstream health, CoreDNS `forward` style: an upstream that fails a real query
// (timeout / network error) is marked unhealthy at once and then probed with `. IN NS` every
// probeIntervalMs until it answers anything (any rcode: the point is that it is reachable and
// serving, not what it thinks of the root), at which point it is healthy again. dcos-net only
// ranks upstreams by past failures (passive); probing adds a fast way back: a recovered upstream
// is used again within one interval instead of waiting for its failure count to decay.
//
// Probes run one at a time per upstream (the next is scheduled after the previous settles), so a
// probe timeout longer than the interval cannot pile probes up. Timers are unref'd so a
// forwarder never keeps a process alive on its own.
import type { Upstream } from "./upstream.js";

interface HealthOptions {
  /** Pause between probes of an unhealthy upstream. Default 500 ms (CoreDNS health_check). */
  probeIntervalMs?: number;
  /** Resolves when the upstream answered; rejects otherwise. Must honour the signal. */
  probe: (upstream: Upstream, signal: AbortSignal) => Promise<unknown>;
  onChange?: (upstream: Upstream, healthy: boolean) => void;
}

interface Down {
  readonly upstream: Upstream;
  timer: NodeJS.Timeout | undefined;
}

export const DEFAULT_PROBE_INTERVAL_MS = 500;

export class HealthChecker {
  private readonly down = new Map<string, Down>();
  private readonly intervalMs: number;
  private readonly stopping = new AbortController();

  constructor(private readonly options: HealthOptions) {
    this.intervalMs = options.probeIntervalMs ?? DEFAULT_PROBE_INTERVAL_MS;
  }

  isHealthy(key: string): boolean {
    return !this.down.has(key);
  }

  /** Keys of the upstreams currently marked unhealthy. */
  unhealthy(): string[] {
    return [...this.down.keys()];
  }

  /** A real query to `upstream` failed: mark it unhealthy and start probing (no-op if already). */
  markFailed(upstream: Upstream): void {
    if (this.stopping.signal.aborted || this.down.has(upstream.key)) return;
    const state: Down = { upstream, timer: undefined };
    this.down.set(upstream.key, state);
    this.notify(upstream, false);
    this.schedule(state);
  }

  /** `upstream` answered something (a real query or a probe): healthy again. */
  markAlive(upstream: Upstream): void {
    const state = this.down.get(upstream.key);
    if (state === undefined) return;
    if (state.timer !== undefined) clearTimeout(state.timer);
    this.down.delete(upstream.key);
    if (!this.stopping.signal.aborted) this.notify(upstream, true);
  }

  /** Stops every probe loop; in-flight probes are aborted and their results ignored. */
  stop(): void {
    if (this.stopping.signal.aborted) return;
    this.stopping.abort();
    for (const state of this.down.values()) if (state.timer !== undefined) clearTimeout(state.timer);
  }

  private schedule(state: Down): void {
    if (this.stopping.signal.aborted || this.down.get(state.upstream.key) !== state) return;
    state.timer = setTimeout(() => {
      state.timer = undefined;
      let probing: Promise<unknown>;
      try {
        probing = this.options.probe(state.upstream, this.stopping.signal);
      } catch (e) {
        probing = Promise.reject(e);
      }
      probing.then(
        () => {
          // A newer failure may have replaced this loop; only the current one decides.
          if (this.down.get(state.upstream.key) === state) this.markAlive(state.upstream);
        },
        () => this.schedule(state),
      );
    }, this.intervalMs);
    state.timer.unref();
  }

  private notify(upstream: Upstream, healthy: boolean): void {
    try {
      this.options.onChange?.(upstream, healthy);
    } catch {
      // An observer's bug must not stop health tracking.
    }
  }
}
