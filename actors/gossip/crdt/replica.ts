// Replica ids: `<nodeId>@<incarnation>`. The incarnation (the process start time in ms) makes a
// restarted node a new writer, so dot counters never need to survive a restart.
import type { ReplicaId } from "./types.js";

const REPLICA = /^([A-Za-z0-9_-]{1,64})@(0|[1-9][0-9]{0,15})$/;

export function replicaOf(nodeId: string, incarnation: number): ReplicaId {
  return `${nodeId}@${incarnation}`;
}

/**
 * Inverse of replicaOf for well-formed ids; undefined otherwise (bad node id, leading zeros, an
 * incarnation that is not a safe integer), so that replicaOf(parseReplica(r)) === r always holds.
 */
export function parseReplica(r: ReplicaId): { node: string; incarnation: number } | undefined {
  const m = REPLICA.exec(r);
  if (m === null) return undefined;
  const incarnation = Number(m[2]);
  if (!Number.isSafeInteger(incarnation)) return undefined;
  return { node: m[1] as string, incarnation };
}
