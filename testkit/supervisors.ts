// Helpers for this folder's tests: behaviours that record what happened, and polling waits.
// Kept out of index.ts on purpose.
import type { Behaviour, ExitReason, TreeEvent } from "../supervisors/types.js";

export type Msg = { readonly type: "ping"; readonly reply: (n: number) => void } | { readonly type: "boom" } | { readonly type: "inc" };

export interface Journal {
  readonly lines: string[];
  readonly events: TreeEvent[];
  onEvent(event: TreeEvent): void;
  /** Lines recorded after the first `n` (what happened since a mark). */
  since(n: number): string[];
}

export function journal(): Journal {
  const lines: string[] = [];
  const events: TreeEvent[] = [];
  return { lines, events, onEvent: (e) => void events.push(e), since: (n) => lines.slice(n) };
}

/** A counter worker that logs `init:<name>` and `terminate:<name>:<reason>`; "boom" throws. */
export function recording(name: string, j: Journal, extra: Partial<Behaviour<number, Msg>> = {}): Behaviour<number, Msg> {
  return {
    init: () => {
      j.lines.push(`init:${name}`);
      return 0;
    },
    handle: (n, msg) => {
      if (msg.type === "boom") throw new Error(`boom in ${name}`);
      if (msg.type === "ping") msg.reply(n);
      return msg.type === "inc" ? n + 1 : n;
    },
    terminate: (_n: number, reason: ExitReason) => void j.lines.push(`terminate:${name}:${reason.kind}`),
    ...extra,
  };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `cond` every 5 ms; throws with `what` after `timeoutMs`. */
export async function waitFor(cond: () => boolean, what: string, timeoutMs = 3000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}
