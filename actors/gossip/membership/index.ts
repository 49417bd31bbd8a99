// Door of /node/gossip/membership inside gossip: what the subtree, the store and the admin ops use.
export { membershipBehaviour } from "./membership.actor.js";
export type { MembershipDeps } from "./membership.actor.js";
export type { Member, MemberEvent, MemberState, MembershipMsg } from "./types.js";
