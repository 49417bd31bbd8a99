// The edge subtree: one actor (the HAProxy driver) under a one_for_one supervisor. A crash of the
// actor stops its HAProxy (terminate) and the restarted actor starts a fresh one from the store.
// Starts after the catalogue (the node tree orders it so); absent when edge.enabled is false.
import type { Logger } from "pino";
import type { Registry } from "prom-client";
import type { Config } from "../../config/index.js";
import { supervisor, worker, type ActorRef, type SupervisorSpec } from "../../supervisors/index.js";
import type { StoreMsg } from "../gossip/index.js";
import type { NamesBoard } from "../l4lb/index.js";
import { edgeBehaviour } from "./edge.actor.js";

export const EDGE = "edge";
export const EDGE_PATH = `/node/${EDGE}/haproxy`;

export interface EdgeDeps {
  readonly config: Config;
  readonly metrics: Registry;
  readonly child: (sub: string) => Logger;
  readonly store: () => ActorRef<StoreMsg> | undefined;
  /** The L4LB's names board: pool endpoints may name a VIP (`<name>.<framework>.l4lb.thisdcos.directory`). */
  readonly board?: NamesBoard;
}

export function edgeTreeSpec(deps: EdgeDeps): SupervisorSpec {
  return supervisor(EDGE, "one_for_one", [worker("haproxy", edgeBehaviour({ config: deps.config.edge, logger: deps.child("edge"), metrics: deps.metrics, store: deps.store, ...(deps.board ? { board: deps.board } : {}) }), { shutdownMs: 5000 })], { intensity: 5, periodMs: 30_000 });
}
