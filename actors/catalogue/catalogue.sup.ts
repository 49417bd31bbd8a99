// The catalogue subtree, one_for_one (a source's crash touches no other source): the task sources
// that write into the replicated store, then the view derived from it. Starts after the gossip store
// (the node tree orders it so). A disabled Mesos source is absent from the tree, not a flag checked
// inside it. Three restarts in 10 s here before the node root is told.
import type { Logger } from "pino";
import type { Registry } from "prom-client";
import type { Config } from "../../config/index.js";
import { supervisor, worker, type ActorRef, type ChildSpec, type SupervisorSpec } from "../../supervisors/index.js";
import type { StoreMsg } from "../gossip/index.js";
import { pollerBehaviour } from "./mesos/poller.actor.js";
import { listenerBehaviour } from "./mesos/listener.actor.js";
import { marathonBehaviour } from "./marathon/source.actor.js";
import { registrationsBehaviour } from "./registrations.actor.js";
import { vipsBehaviour } from "./vips.actor.js";

export const CATALOGUE = "catalogue";

export interface CatalogueDeps {
  readonly nodeId: string;
  readonly mesos: Config["mesos"];
  readonly metrics: Registry;
  readonly child: (sub: string) => Logger;
  readonly store: () => ActorRef<StoreMsg> | undefined;
  /** dcnet-cni's lease folder when the overlay runs on this node: registered tasks may name their container. */
  readonly attachmentsDir?: string;
}

export function catalogueTreeSpec(deps: CatalogueDeps): SupervisorSpec {
  const { nodeId, mesos, metrics, store } = deps;
  const log = deps.child;
  const listener: ChildSpec[] = mesos.masters.length === 0 ? [] : [worker("operator-listener", listenerBehaviour({ nodeId, config: mesos, logger: log("operator-listener"), metrics, store }), { shutdownMs: 2000 })];
  const poller: ChildSpec[] = mesos.agent === undefined ? [] : [worker("agent-poller", pollerBehaviour({ nodeId, agent: mesos.agent, config: mesos, logger: log("agent-poller"), metrics, store }), { shutdownMs: 2000 })];
  const marathon: ChildSpec[] = mesos.marathon.servers.length === 0 ? [] : [worker("marathon", marathonBehaviour({ nodeId, config: mesos.marathon, logger: log("marathon"), metrics, store }), { shutdownMs: 2000 })];
  return supervisor(
    CATALOGUE,
    "one_for_one",
    [
      worker("registrations", registrationsBehaviour({ nodeId, logger: log("registrations"), store, metrics, ...(deps.attachmentsDir !== undefined ? { attachmentsDir: deps.attachmentsDir } : {}) }), { shutdownMs: 2000 }),
      // Sources before the view: the VIP table follows what they write.
      ...listener,
      ...poller,
      ...marathon,
      worker("vips", vipsBehaviour({ logger: log("vips"), metrics, store }), { shutdownMs: 1000 }),
    ],
    { intensity: 3, periodMs: 10_000 },
  );
}
