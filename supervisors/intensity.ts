// Restart intensity as a pure function: OTP's "at most MaxR restarts in MaxT", with the history
// passed in and returned, so the window logic is tested without clocks or actors.

export interface IntensityLimit {
  /** Restarts allowed inside the window; one more gives up. 0 = give up on the first crash. */
  readonly intensity: number;
  readonly periodMs: number;
}

export interface IntensityVerdict {
  /** Restart times still inside the window, including `now` (oldest first). */
  readonly history: readonly number[];
  readonly exceeded: boolean;
}

/** Adds a restart at `now`; restarts older than `periodMs` fall out of the window. */
export function recordRestart(history: readonly number[], now: number, limit: IntensityLimit): IntensityVerdict {
  const kept = history.filter((t) => now - t < limit.periodMs);
  kept.push(now);
  return { history: kept, exceeded: kept.length > limit.intensity };
}
