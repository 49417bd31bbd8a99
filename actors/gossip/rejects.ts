// Peer messages refused by gossip's own rules — identity (the transport has already checked the
// schema and the sender token) and bounded clocks. Every refusal is counted; the log gets at most one
// line per reason per interval, so a peer that floods forged messages cannot flood the log too.
import type { Logger } from "pino";
import { Counter, type Registry } from "prom-client";
import { getOrCreate } from "../../observability/metrics.js";

export const GOSSIP_REJECTED_METRIC = "dcnet_gossip_rejected_messages_total";

/**
 * Why a well-formed message was refused: its body names another node's replica (`replica-mismatch`),
 * it carries an entry of another node (`foreign-entry`), a bucket reply came from a node not asked
 * (`wrong-responder`), or a stamp or incarnation is further ahead than gossip.maxClockSkewMs (`clock-skew`).
 */
export type GossipRejectReason = "replica-mismatch" | "foreign-entry" | "wrong-responder" | "clock-skew";

const DEFAULT_LOG_INTERVAL_MS = 10_000;

function gossipRejectedCounter(registry: Registry): Counter<"reason"> {
  return getOrCreate(
    registry,
    GOSSIP_REJECTED_METRIC,
    () => new Counter({ name: GOSSIP_REJECTED_METRIC, help: "Gossip messages refused by the identity rules or the clock-skew bound", labelNames: ["reason"], registers: [registry] }),
  );
}

/** One per actor behaviour: outlives restarts, like the counter it feeds. */
export class GossipRejects {
  readonly #counter: Counter<"reason">;
  readonly #lastLog = new Map<GossipRejectReason, { at: number; suppressed: number }>();

  constructor(
    registry: Registry,
    private readonly logger: Logger,
    private readonly intervalMs = DEFAULT_LOG_INTERVAL_MS,
    private readonly now: () => number = Date.now,
  ) {
    this.#counter = gossipRejectedCounter(registry);
  }

  record(reason: GossipRejectReason, from: string, detail: string): void {
    this.#counter.inc({ reason });
    const at = this.now();
    const last = this.#lastLog.get(reason);
    if (last !== undefined && at - last.at < this.intervalMs) {
      last.suppressed++;
      return;
    }
    this.logger.warn({ reason, from, detail, suppressed: last?.suppressed ?? 0 }, "gossip message refused");
    this.#lastLog.set(reason, { at, suppressed: 0 });
  }
}
