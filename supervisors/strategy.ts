// Pure supervision decisions: which children a strategy restarts, and whether an exit restarts at all.
import type { ExitReason, RestartType, Strategy } from "./types.js";

/** Indices (in start order) of the children restarted when child `failed` of `count` exits. */
export function restartGroup(strategy: Strategy, failed: number, count: number): number[] {
  const from = strategy === "one_for_all" ? 0 : failed;
  const to = strategy === "one_for_one" ? failed + 1 : count;
  const group: number[] = [];
  for (let i = from; i < to; i++) group.push(i);
  return group;
}

/** OTP restart types: permanent always, transient only after a crash, temporary never. */
export function shouldRestart(restart: RestartType, reason: ExitReason["kind"]): boolean {
  if (restart === "permanent") return true;
  if (restart === "transient") return reason === "crash";
  return false;
}
