// Public door of /node/gossip/store (README.md).
export { storeBehaviour } from "./store.actor.js";
export type { StoreDeps, UpdateResult } from "./state.js";
export { membershipSource } from "./messages.js";
export type { MembershipSource, StoreActorMsg } from "./messages.js";
export { STORE_METRICS } from "./metrics.js";
export type { StoreRejectReason } from "./metrics.js";
export { keySchema, MAX_KEY_CHARS } from "./wire.js";
export type { StoreMsg, StoreCounters, TraceCarrier, UpdateOp, WatchEvent } from "./types.js";
