// The gossip subtree. rest_for_one in data-flow order: the store consumes membership events, so a
// membership restart also restarts the store, which re-subscribes and re-syncs from its peers.
// Three restarts in 10 s here before the node root is told; the root's own limit then applies.
import type { Tracer } from "@opentelemetry/api";
import type { Logger } from "pino";
import type { Registry } from "prom-client";
import { supervisor, worker, type ActorRef, type SupervisorSpec } from "../../supervisors/index.js";
import type { Transport } from "../../transport/index.js";
import type { Config } from "../../config/index.js";
import { membershipBehaviour, type MembershipMsg } from "./membership/index.js";
import { storeBehaviour, membershipSource } from "./store/index.js";

export const GOSSIP = "gossip";
/** Where the node mounts the store (the root is "node"); admin ops and benches reach it here. */
export const STORE_PATH = `/node/${GOSSIP}/store`;
export const MEMBERSHIP_PATH = `/node/${GOSSIP}/membership`;

export interface GossipDeps {
  readonly config: Config;
  readonly transport: Transport;
  readonly metrics: Registry;
  readonly incarnation: number;
  readonly child: (sub: string) => Logger;
  /** Late-bound lookup into the node's tree (the store reaches membership through it). */
  readonly lookup: <M>(path: string) => ActorRef<M> | undefined;
  /** The path this subtree gets, e.g. "/node/gossip". */
  readonly path: string;
  readonly tracer?: Tracer;
}

export function gossipTreeSpec(deps: GossipDeps): SupervisorSpec {
  const common = { transport: deps.transport, metrics: deps.metrics, config: deps.config.gossip, nodeId: deps.config.id, incarnation: deps.incarnation, ...(deps.tracer ? { tracer: deps.tracer } : {}) };
  const membership = membershipSource(() => deps.lookup<MembershipMsg>(`${deps.path}/membership`));
  return supervisor(
    GOSSIP,
    "rest_for_one",
    [
      worker("membership", membershipBehaviour({ ...common, logger: deps.child("membership") }), { shutdownMs: 1000 }),
      worker("store", storeBehaviour({ ...common, logger: deps.child("store"), membership }), { shutdownMs: 2000 }),
    ],
    { intensity: 3, periodMs: 10_000 },
  );
}
