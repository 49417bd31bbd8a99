// Counting and rate-limited logging of messages rejected at the border.
// A peer sending garbage in a loop must not flood the log, but every rejection is counted.
import type { Logger } from "pino";
import { METRIC_NAMES } from "./metric-names.js";
import type { TransportMetrics } from "./metrics.js";
import type { RejectReason } from "./types.js";

export const REJECTED_METRIC = METRIC_NAMES.rejected;

export interface Rejection {
  readonly kind: string;
  readonly reason: RejectReason;
  readonly message: string;
  /** Absent when the caller decoded bytes itself (e.g. a micro service endpoint). */
  readonly subject?: string;
}

export interface RejectCount {
  readonly kind: string;
  readonly reason: RejectReason;
  readonly count: number;
}

interface Slot {
  kind: string;
  reason: RejectReason;
  count: number;
  lastLogAt: number;
  suppressed: number;
}

export interface RejectCounterOptions {
  /** The node's transport metrics; a short-lived client (the CLI) passes none and counts nothing. */
  readonly metrics?: TransportMetrics;
  readonly logger: Logger;
  /** Log a given (kind, reason) at most once per interval. Default 10000. */
  readonly logIntervalMs?: number;
  readonly now?: () => number;
}

export class RejectCounter {
  readonly #counter: TransportMetrics["rejected"] | undefined;
  readonly #logger: Logger;
  readonly #intervalMs: number;
  readonly #now: () => number;
  // Keys are bounded: `kind` is an accepted kind or "unknown" (codec.ts), `reason` is a closed union.
  readonly #slots = new Map<string, Slot>();

  constructor(opts: RejectCounterOptions) {
    this.#counter = opts.metrics?.rejected;
    this.#logger = opts.logger;
    this.#intervalMs = opts.logIntervalMs ?? 10_000;
    this.#now = opts.now ?? Date.now;
  }

  record(r: Rejection): void {
    this.#counter?.inc({ kind: r.kind, reason: r.reason });
    const key = `${r.kind}\u0000${r.reason}`;
    const now = this.#now();
    let slot = this.#slots.get(key);
    if (slot === undefined) {
      slot = { kind: r.kind, reason: r.reason, count: 0, lastLogAt: -Infinity, suppressed: 0 };
      this.#slots.set(key, slot);
    }
    slot.count += 1;
    if (now - slot.lastLogAt < this.#intervalMs) {
      slot.suppressed += 1;
      return;
    }
    this.#logger.warn(
      { kind: r.kind, reason: r.reason, subject: r.subject, suppressed: slot.suppressed, total: slot.count },
      `rejected message: ${r.message}`,
    );
    slot.lastLogAt = now;
    slot.suppressed = 0;
  }

  /** Counts since this counter was created, for the admin status reply. Sorted for stable output. */
  snapshot(): RejectCount[] {
    return [...this.#slots.values()]
      .map(({ kind, reason, count }) => ({ kind, reason, count }))
      .sort((a, b) => a.kind.localeCompare(b.kind) || a.reason.localeCompare(b.reason));
  }
}
