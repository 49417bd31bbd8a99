// Public door of /node/gossip/membership.
export { membershipBehaviour, tickMsFor } from "./membership.actor.js";
export type { MembershipDeps, MembershipActorMsg, MembershipInternalMsg } from "./membership.actor.js";
export { FailureDetector, DEFAULT_FORGET_DEAD_AFTER_MS, MIN_SUSPECT_BEATS, MIN_DEAD_BEATS } from "./detector.js";
export type { DetectorConfig, Heartbeat, HeardOutcome, Instant, TickResult } from "./detector.js";
export { heartbeatKind, MAX_HEARTBEAT_INTERVAL_MS } from "./protocol.js";
export type { HeartbeatBody } from "./protocol.js";
export type { Member, MemberEvent, MemberState, MembershipMsg } from "./types.js";
