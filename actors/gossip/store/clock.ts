// Bounded clocks on the receiving side (README "Bounded clocks"): a peer's message is refused whole
// when it carries a register stamp, or a replica incarnation, further ahead of our wall clock than
// gossip.maxClockSkewMs. Checked before anything is merged, so our HLC never moves toward it and the
// keys it touches stay as they were. Incarnations are process start times in ms, bounded the same way.
import { latestStamp, tooFarAhead } from "../crdt/index.js";
import type { KeyState, ReplicaId } from "../crdt/types.js";
import { parseCached } from "./owners.js";

/** What is too far ahead in a replica id, or undefined. */
export function futureReplica(replica: ReplicaId, now: number, maxSkewMs: number): string | undefined {
  const inc = parseCached(replica)?.incarnation;
  if (inc === undefined || !tooFarAhead(inc, now, maxSkewMs)) return undefined;
  return `replica ${replica}: incarnation ${inc} is ${inc - now} ms ahead of this node's clock (limit ${maxSkewMs} ms)`;
}

/** The first stamp or entry incarnation of `items` too far ahead of `now`, described; undefined when all are within bounds. */
export function futureStamp(items: Iterable<{ readonly key: string; readonly state: KeyState }>, now: number, maxSkewMs: number): string | undefined {
  for (const { key, state } of items) {
    const t = latestStamp(state);
    if (tooFarAhead(t, now, maxSkewMs)) return `${key}: stamp ${t} is ${t - now} ms ahead of this node's clock (limit ${maxSkewMs} ms)`;
    for (const [dot] of state.entries) {
      const why = futureReplica(dot.r, now, maxSkewMs);
      if (why !== undefined) return `${key}: entry of ${why}`;
    }
  }
  return undefined;
}
