// The catalogue subtree: the task sources that write into the replicated store. Starts after the
// gossip store (the node tree orders it so). Native registrations today; the Mesos Operator API
// listener joins here. The agent poller runs only where `mesos.agent` is set (a disabled source is
// absent from the tree, not a flag checked inside it).
import type { Logger } from "pino";
import type { Registry } from "prom-client";
import type { Config } from "../../config/index.js";
import { pollerBehaviour } from "./mesos/poller.actor.js";
import { listenerBehaviour } from "./mesos/listener.actor.js";
import type { ActorRef, SupervisorSpec } from "../../supervisors/index.js";
import type { StoreMsg } from "../gossip/index.js";
import { registrationsBehaviour } from "./registrations.actor.js";
import { vipsBehaviour } from "./vips.actor.js";

export const CATALOGUE = "catalogue";

export interface CatalogueDeps {
  readonly nodeId: string;
  readonly mesos: Config["mesos"];
  readonly metrics: Registry;
  readonly child: (sub: string) => Logger;
  readonly store: () => ActorRef<StoreMsg> | undefined;
}

export function catalogueTreeSpec(deps: CatalogueDeps): SupervisorSpec {
  return {
    kind: "supervisor",
    name: CATALOGUE,
    restart: "permanent",
    strategy: "one_for_one",
    intensity: 3,
    periodMs: 10_000,
    children: [
      {
        kind: "worker",
        name: "registrations",
        restart: "permanent",
        shutdownMs: 2000,
        behaviour: registrationsBehaviour({ nodeId: deps.nodeId, logger: deps.child("registrations"), store: deps.store }),
      },
      // Sources before the view: the VIP table follows what they write.
      ...(deps.mesos.masters.length > 0
        ? [
            {
              kind: "worker" as const,
              name: "operator-listener",
              restart: "permanent" as const,
              shutdownMs: 2000,
              behaviour: listenerBehaviour({ nodeId: deps.nodeId, config: deps.mesos, logger: deps.child("operator-listener"), metrics: deps.metrics, store: deps.store }),
            },
          ]
        : []),
      ...(deps.mesos.agent
        ? [
            {
              kind: "worker" as const,
              name: "agent-poller",
              restart: "permanent" as const,
              shutdownMs: 2000,
              behaviour: pollerBehaviour({ nodeId: deps.nodeId, agent: deps.mesos.agent, config: deps.mesos, logger: deps.child("agent-poller"), metrics: deps.metrics, store: deps.store }),
            },
          ]
        : []),
      { kind: "worker", name: "vips", restart: "permanent", shutdownMs: 1000, behaviour: vipsBehaviour({ logger: deps.child("vips"), store: deps.store }) },
    ],
  };
}
