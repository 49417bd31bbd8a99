// Public door of gossip (README.md): the subtree, and the messages, types and errors other
// subsystems use to read and write replicated state. Nothing else in gossip/ may be imported from
// outside it (admin operations: ops.ts).
export { gossipTreeSpec, GOSSIP, STORE_PATH, MEMBERSHIP_PATH } from "./gossip.sup.js";
export type { GossipDeps } from "./gossip.sup.js";
export { GossipError, StoreUnavailableError, UpdateRefusedError } from "./errors.js";
export type { StoreMsg, StoreCounters, TraceCarrier, UpdateOp, UpdateResult, WatchEvent } from "./store/index.js";
export type { Member, MemberEvent, MembershipMsg } from "./membership/index.js";
export type { KeyView, Value } from "./crdt/index.js";
