// Public door of /node/gossip/store (README.md).
export { storeBehaviour } from "./store.actor.js";
export type { StoreDeps, UpdateResult } from "./state.js";
export { membershipSource } from "./messages.js";
export type { MembershipSource, StoreActorMsg, StoreInternalMsg } from "./messages.js";
export { STORE_METRICS } from "./metrics.js";
export type { StoreRejectReason } from "./metrics.js";
export { BUCKETS, bucketOf, fnv1a32, fnv1a64 } from "./buckets.js";
export { deltasKind, digestKind, digestRequestKind, bucketRequestKind, bucketReplyKind, keySchema, MAX_KEY_CHARS, MAX_PAYLOAD_BYTES } from "./wire.js";
export type { StoreMsg, StoreCounters, UpdateOp, WatchEvent } from "./types.js";
