// Internal contract between a supervisor and its children (workers or supervisors), and the
// runtime every node of one tree shares. Not exported from index.ts.
import type { Tracer } from "@opentelemetry/api";
import type { NactRef } from "./nact.js";
import type { ActorStats, ExitReason, RestartType, TreeEvent } from "./types.js";

export type StartResult =
  | { readonly ok: true }
  | { readonly ok: false; readonly error: Error; readonly origin: string; readonly originError: Error };

/**
 * How a child ended, as reported to its supervisor. `origin`/`originError` name the deepest actor
 * whose crash caused it, carried up through every supervisor that gives up (for onGiveUp).
 */
export interface ChildExit {
  readonly reason: ExitReason;
  readonly origin: string;
  readonly originError: Error;
}

export interface ChildNode {
  readonly kind: "worker" | "supervisor";
  readonly path: string;
  readonly restart: RestartType;
  /** Bumped on every start and release; exit reports carry it so stale ones are ignored. */
  readonly incarnation: number;
  /** True when never started since creation or the last release (nothing to stop). */
  isIdle(): boolean;
  start(): Promise<StartResult>;
  /** Orderly stop, bounded by the child's shutdownMs. The child stays restartable. */
  stop(): Promise<void>;
  /** Stops for good: the nact actor is stopped, queued and later messages are dropped. */
  release(reason: ExitReason["kind"]): void;
  /** Release without waiting for anything (shutdown timeout of an enclosing supervisor). */
  kill(): void;
  /** Fault injection; false when the actor is not running. */
  injectCrash(reason: string): boolean;
  collectStats(now: number, out: ActorStats[]): void;
}

export interface Parent {
  /** The nact actor children are spawned under. */
  actorRef(): NactRef;
  childExited(child: ChildNode, token: number, exit: ChildExit): void;
}

/** What every node of one tree shares; built once by startTree. */
export interface Runtime {
  /** Undefined = no tracing work at all on the message path. */
  readonly tracer: Tracer | undefined;
  readonly defaultDeadlineMs: number;
  emit(event: TreeEvent): void;
}
