// Hybrid logical clock (Kulkarni et al., "Logical Physical Clocks", 2014): a stamp never goes
// backwards, stays close to the wall clock, and orders LWW writes even when clocks are skewed —
// a node that has seen a stamp from the future writes after it. "From the future" is bounded: a
// stamp further ahead of the local wall clock than the configured skew (gossip.maxClockSkewMs) is
// refused, so one forged `t` cannot drag every clock of the cluster forward for good.
import type { Hlc, KeyState, ReplicaId } from "./types.js";

/** A wall reading that is not a finite number is ignored, so a broken clock cannot poison stamps. */
function wall(ms: number): number {
  return Number.isFinite(ms) ? ms : Number.NEGATIVE_INFINITY;
}

/** Stamp for a local event: t = max(wall, last.t); c counts events within the same t. */
export function hlcNow(last: Hlc | undefined, replica: ReplicaId, wallMs: number): Hlc {
  const w = wall(wallMs);
  if (last === undefined) return { t: Number.isFinite(w) ? w : 0, c: 0, r: replica };
  if (w > last.t) return { t: w, c: 0, r: replica };
  return { t: last.t, c: last.c + 1, r: replica };
}

/** Stamp for receiving `remote`: after both the local clock and the remote stamp. */
export function hlcObserve(last: Hlc | undefined, remote: Hlc, replica: ReplicaId, wallMs: number): Hlc {
  const lt = last?.t ?? Number.NEGATIVE_INFINITY;
  const t = Math.max(wall(wallMs), lt, remote.t);
  let c = 0;
  if (t === lt && t === remote.t) c = Math.max(last?.c ?? 0, remote.c) + 1;
  else if (t === lt) c = (last?.c ?? 0) + 1;
  else if (t === remote.t) c = remote.c + 1;
  return { t: Number.isFinite(t) ? t : 0, c, r: replica };
}

/** Total order: time, then counter, then replica id (UTF-16 code units). */
export function hlcCompare(a: Hlc, b: Hlc): number {
  if (a.t !== b.t) return a.t < b.t ? -1 : 1;
  if (a.c !== b.c) return a.c < b.c ? -1 : 1;
  if (a.r !== b.r) return a.r < b.r ? -1 : 1;
  return 0;
}

/**
 * True when `t` (a remote HLC time, or an incarnation: both are wall-clock ms) is more than
 * `maxSkewMs` ahead of the local wall clock. A wall reading that is not a number accepts nothing.
 */
export function tooFarAhead(t: number, wallMs: number, maxSkewMs: number): boolean {
  return !(t <= wall(wallMs) + maxSkewMs);
}

export type Observed = { readonly ok: true; readonly hlc: Hlc } | { readonly ok: false; readonly aheadMs: number };

/**
 * hlcObserve within the skew bound: a remote stamp more than `maxSkewMs` ahead of the wall clock is
 * refused (`aheadMs` says by how much) and the local clock is left as it was.
 */
export function hlcObserveBounded(last: Hlc | undefined, remote: Hlc, replica: ReplicaId, wallMs: number, maxSkewMs: number): Observed {
  if (tooFarAhead(remote.t, wallMs, maxSkewMs)) return { ok: false, aheadMs: remote.t - wallMs };
  return { ok: true, hlc: hlcObserve(last, remote, replica, wallMs) };
}

/** The highest register stamp time in a state (or delta); -Infinity when it has no register. */
export function latestStamp(s: KeyState): number {
  let t = Number.NEGATIVE_INFINITY;
  for (const [, e] of s.entries) if (e.k === "lww" && e.ts.t > t) t = e.ts.t;
  return t;
}
