// What every gossip actor is given at spawn: one node's handles and identity (no module globals,
// so many nodes can share a process — tests and bench/propagation do).
import type { Tracer } from "@opentelemetry/api";
import type { Logger } from "pino";
import type { Registry } from "prom-client";
import type { Config } from "../../config/index.js";
import type { Transport } from "../../transport/index.js";

export interface GossipActorDeps {
  readonly transport: Transport;
  readonly logger: Logger;
  readonly metrics: Registry;
  readonly config: Config["gossip"];
  readonly nodeId: string;
  /** The node process's start time (ms): with nodeId, this node's replica id. */
  readonly incarnation: number;
  /** Set when the node traces: the store's per-change publish and arrival spans (store/tracing.ts). */
  readonly tracer?: Tracer;
}
