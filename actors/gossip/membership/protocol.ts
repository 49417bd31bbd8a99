// The membership wire message. The sender's id travels only in the envelope's `from` (checked
// against the node id pattern by the transport); the body says which life of the node is beating.
import { z } from "zod";
import { defineKind } from "../../../transport/index.js";

/** Upper bound on a sender's advertised interval: a peer cannot buy itself minutes of silence. */
const MAX_HEARTBEAT_INTERVAL_MS = 10_000;

export const heartbeatKind = defineKind(
  "gossip.heartbeat",
  z.strictObject({
    /** The node process's start time in ms: grows on every restart. */
    incarnation: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
    /** Counts heartbeats of this incarnation, from 0 (for tracing gaps in captures). */
    seq: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
    intervalMs: z.number().int().positive().max(MAX_HEARTBEAT_INTERVAL_MS),
  }),
  // n² messages a second that change nothing: not traced unless tracing.backgroundRatio says so.
  { background: true },
);

export type HeartbeatBody = z.infer<typeof heartbeatKind.schema>;
