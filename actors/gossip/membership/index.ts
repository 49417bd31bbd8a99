// Door of /node/gossip/membership inside gossip: what the subtree, the store and the admin ops use.
import type { Behaviour } from "../../../supervisors/index.js";
import { membershipBehaviour as heartbeatBehaviour, type MembershipDeps } from "./membership.actor.js";
import { swimBehaviour } from "./swim.actor.js";
import type { MembershipMsg } from "./types.js";

export type { MembershipDeps } from "./membership.actor.js";
export type { Member, MemberEvent, MemberState, MembershipMsg } from "./types.js";

/** The membership actor of `gossip.detector`: both keep one contract (MembershipMsg in, MemberEvents out). */
export function membershipBehaviour(deps: MembershipDeps): Behaviour<unknown, MembershipMsg> {
  const b = deps.config.detector === "swim" ? swimBehaviour(deps) : heartbeatBehaviour(deps);
  // Internal messages (timers, subscriptions) are sent by the actor to itself; outside it only MembershipMsg.
  return b as unknown as Behaviour<unknown, MembershipMsg>;
}
