// The catalogue subtree: the task sources that write into the replicated store. Starts after the
// gossip store (the node tree orders it so). Native registrations today; the Mesos Operator API
// listener and the agent poller join here.
import type { Logger } from "pino";
import type { ActorRef, SupervisorSpec } from "../../supervisors/index.js";
import type { StoreMsg } from "../gossip/store/types.js";
import { registrationsBehaviour } from "./registrations.actor.js";
import { vipsBehaviour } from "./vips.actor.js";

export const CATALOGUE = "catalogue";

export interface CatalogueDeps {
  readonly nodeId: string;
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
      { kind: "worker", name: "vips", restart: "permanent", shutdownMs: 1000, behaviour: vipsBehaviour({ logger: deps.child("vips"), store: deps.store }) },
    ],
  };
}
