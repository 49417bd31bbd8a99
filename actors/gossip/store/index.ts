// Door of /node/gossip/store inside gossip (README.md): what the subtree and the admin ops use.
export { storeBehaviour } from "./store.actor.js";
export type { StoreDeps } from "./state.js";
export { membershipSource } from "./messages.js";
export type { MembershipSource } from "./messages.js";
export type { StoreMsg, StoreCounters, TraceCarrier, UpdateOp, UpdateResult, WatchEvent } from "./types.js";
