// Public door of gossip (README.md): the subtree, and the messages and types other subsystems use
// to read and write replicated state. Nothing else in gossip/ may be imported from outside it.
export { gossipTreeSpec, GOSSIP, STORE_PATH } from "./gossip.sup.js";
export { GossipError, StoreUnavailableError } from "./errors.js";
export type { GossipDeps } from "./gossip.sup.js";
export type { StoreMsg, StoreCounters, TraceCarrier, UpdateOp, WatchEvent } from "./store/index.js";
export type { Member, MemberEvent, MemberState, MembershipMsg } from "./membership/index.js";
export type { KeyView, FieldView, Value } from "./crdt/index.js";
