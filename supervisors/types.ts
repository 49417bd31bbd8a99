// Public contract of the supervision layer: OTP supervisor semantics on top of nact.
// Everything that builds a tree (node root, subsystem *.sup.ts files) speaks these types only.
import type { Tracer } from "@opentelemetry/api";

export type Strategy = "one_for_one" | "one_for_all" | "rest_for_one";

/** OTP restart types: permanent always restarts, transient only after a crash, temporary never. */
export type RestartType = "permanent" | "transient" | "temporary";

/** Why an actor stopped: a normal stop, a supervisor shutdown, or a crash with its error. */
export type ExitReason =
  | { readonly kind: "normal" }
  | { readonly kind: "shutdown" }
  | { readonly kind: "crash"; readonly error: Error };

/** A one-shot reply channel carried inside a message; the actor calls it once. */
export type ReplyTo<R> = (result: R) => void;

export interface ActorRef<M> {
  /** Absolute path, e.g. "/node/admin". Stable across restarts (like a registered name). */
  readonly path: string;
  /** Fire and forget. Delivered to the current incarnation; dropped (and counted) if stopped. */
  tell(msg: M): void;
  /** Request/response inside the process. Rejects with an AskTimeoutError after timeoutMs (ActorStoppedError if stopped). */
  ask<R>(build: (reply: ReplyTo<R>) => M, timeoutMs: number): Promise<R>;
}

export interface ActorContext<M> {
  readonly path: string;
  readonly name: string;
  readonly self: ActorRef<M>;
  /** Ends this actor normally: a transient child is then not restarted. */
  stopNormal(): void;
  /** Crash this actor from outside a handler (timer, subscription callback, stream). */
  fail(error: unknown): void;
}

export interface Behaviour<S, M> {
  /** Runs before the supervisor starts the next sibling (ordered start). Throwing = failed start. */
  init(ctx: ActorContext<M>): S | Promise<S>;
  /** Returns the next state. A throw, a rejection or exceeding the deadline is a crash. */
  handle(state: S, msg: M, ctx: ActorContext<M>): S | Promise<S>;
  /** Cleanup on stop or before a restart; bounded by the child spec's shutdownMs. */
  terminate?(state: S, reason: ExitReason, ctx: ActorContext<M>): void | Promise<void>;
  /** Per-message deadline; default comes from TreeOptions.handlerDeadlineMs. */
  handlerDeadlineMs?: number;
  /** Name of a message for spans/logs; defaults to msg.type when present. */
  messageName?(msg: M): string;
  /**
   * True for a message of background work: a timer's tick, a heartbeat, a digest, a retry. Its turn's
   * span is marked background, so it starts no trace unless tracing.backgroundRatio says so, and a
   * change it makes (a message to another actor that is not background) starts a trace of its own.
   * Default: no message is background. See observability/README.md § Sampling.
   */
  background?(msg: M): boolean;
}

export interface WorkerSpec<S = unknown, M = unknown> {
  readonly kind: "worker";
  readonly name: string;
  readonly restart: RestartType;
  /** Time allowed for terminate() before the actor is stopped regardless. Default 5000. */
  readonly shutdownMs?: number;
  readonly behaviour: Behaviour<S, M>;
}

export interface SupervisorSpec {
  readonly kind: "supervisor";
  readonly name: string;
  readonly restart: RestartType;
  readonly strategy: Strategy;
  /** At most `intensity` restarts within `periodMs`, else the supervisor gives up. Defaults 3 / 5000. */
  readonly intensity?: number;
  readonly periodMs?: number;
  readonly shutdownMs?: number;
  readonly children: readonly ChildSpec[];
}

// Specs are heterogeneous in S and M; the tree only needs them erased.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type ChildSpec = WorkerSpec<any, any> | SupervisorSpec;

export interface ActorStats {
  readonly path: string;
  readonly kind: "worker" | "supervisor";
  readonly status: "starting" | "running" | "restarting" | "stopped";
  readonly restarts: number;
  readonly lastError?: { readonly message: string; readonly at: number };
  /** Milliseconds since the current incarnation started (0 when stopped). */
  readonly uptimeMs: number;
  readonly mailbox: number;
  /** Added: messages sent while the actor was stopped for good, or still queued when it was stopped. */
  readonly dropped: number;
}

export interface TreeOptions {
  /** Default per-message deadline (ms). Default 30000. */
  readonly handlerDeadlineMs?: number;
  /** When set, message handling is traced (parent-based sampling applies). Unset = no tracing work. */
  readonly tracer?: Tracer;
  /** Called once when the root supervisor exceeds its intensity; `path` names the crash-looping actor. */
  readonly onGiveUp?: (info: { readonly path: string; readonly error: Error }) => void;
  /**
   * Called with the tree before any child starts (added: refs exist from then on, so actors whose
   * init needs a sibling — the store asks membership — can look it up during the ordered start).
   */
  readonly onCreated?: (tree: Tree) => void;
  /** Structured events (start, crash, restart, give-up) for the node logger. */
  readonly onEvent?: (event: TreeEvent) => void;
}

export type TreeEvent =
  | { readonly type: "started"; readonly path: string }
  | { readonly type: "crashed"; readonly path: string; readonly error: Error }
  | { readonly type: "restarted"; readonly path: string; readonly restarts: number }
  | { readonly type: "stopped"; readonly path: string; readonly reason: ExitReason["kind"] }
  // `origin` (added): the crash-looping actor behind the give-up; `path` is the supervisor.
  | { readonly type: "gave-up"; readonly path: string; readonly error: Error; readonly origin: string }
  // Added: the node log must say when a terminate (or the handler it waited for) was abandoned.
  | { readonly type: "terminate-timeout"; readonly path: string; readonly shutdownMs: number };

export interface Tree {
  /** Stats for every actor in the tree, in start order (depth first). */
  stats(): ActorStats[];
  /** Reference to a worker by absolute path, if it exists. */
  lookup<M>(path: string): ActorRef<M> | undefined;
  /** Fault injection: the actor at `path` crashes as if its handler threw. False if no such actor or not running. */
  crash(path: string, reason?: string): boolean;
  /** Ordered shutdown: children in reverse start order, each bounded by its shutdownMs. */
  shutdown(): Promise<void>;
  /** Resolves when the tree has stopped (shutdown or root gave up). */
  readonly done: Promise<{ readonly reason: "shutdown" | "gave-up"; readonly path?: string }>;
}
