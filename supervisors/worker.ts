// A worker: one nact actor for the worker's supervised life, one incarnation per (re)start.
// The nact actor (and so its mailbox) survives restarts: while the worker is down, the message
// nact hands us waits on a gate, which keeps the actor busy and the rest of the queue intact.
// Only a final release stops the nact actor; its queued messages are then counted as dropped.
import type { Span } from "@opentelemetry/api";
import { HandlerDeadlineError, InjectedCrashError, toError } from "./errors.js";
import { dispatchTo, spawnActor, type NactRef } from "./nact.js";
import type { ChildNode, Parent, Runtime, StartResult } from "./node.js";
import { WorkerRef } from "./ref.js";
import { settleWithin } from "./timeouts.js";
import { Traced, capture, defaultMessageName, recordCrash, tracedTurn } from "./tracing.js";
import { DEFAULTS } from "./defaults.js";
import type { ActorContext, ActorStats, Behaviour, ExitReason, WorkerSpec } from "./types.js";
import { Lifecycle } from "./lifecycle.js";

type Phase = "idle" | "starting" | "running" | "exiting" | "down" | "stopped";

const STATUS: Record<Phase, ActorStats["status"]> = {
  idle: "stopped",
  starting: "starting",
  running: "running",
  exiting: "restarting",
  down: "restarting",
  stopped: "stopped",
};

export class WorkerNode<S, M> extends Lifecycle implements ChildNode {
  readonly kind = "worker";
  readonly ref: WorkerRef<M>;
  readonly deadlineMs: number;
  private readonly shutdownMs: number;
  private readonly behaviour: Behaviour<S, M>;
  private phase: Phase = "idle";
  private actor: NactRef | undefined;
  private state: S | undefined;
  private ctx: ActorContext<M> | undefined;
  private mailbox = 0;
  private dropped = 0;
  private gate: Promise<void> | undefined;
  private openGateFn: (() => void) | undefined;
  // The in-flight handler turn. Only one exists at a time: nact awaits each turn.
  private inTurn = false;
  private turnToken = 0;
  private turnStartedAt = 0;
  private turnDone: Promise<void> | undefined;
  private endTurn: (() => void) | undefined;
  private span: Span | undefined;
  /** An exit requested while a turn or init runs; taken when it ends. */
  private pendingExit: ExitReason | undefined;
  private exiting: Promise<void> | undefined;
  /** Aborted on release: ends this incarnation's bounded waits (init, terminate) at once. */
  private waits = new AbortController();

  constructor(
    spec: WorkerSpec<S, M>,
    path: string,
    private readonly parent: Parent,
    private readonly rt: Runtime,
  ) {
    super(path, spec.name, spec.restart, rt);
    this.behaviour = spec.behaviour;
    this.deadlineMs = spec.behaviour.handlerDeadlineMs ?? rt.defaultDeadlineMs;
    this.shutdownMs = spec.shutdownMs ?? DEFAULTS.workerShutdownMs;
    this.ref = new WorkerRef<M>(path, this);
  }

  // ---- message path (hot: no timers; a sync handler allocates nothing here; no tracing work without a tracer) ----

  tell(msg: unknown): void {
    const actor = this.actor;
    if (actor === undefined) {
      this.dropped++;
      return;
    }
    this.mailbox++;
    dispatchTo(actor, this.rt.tracer === undefined ? msg : capture(msg));
  }

  isReleased(): boolean {
    return this.actor === undefined;
  }

  private readonly onMessage = (env: unknown): void | Promise<void> => {
    this.mailbox--;
    return this.phase === "running" ? this.deliver(env) : this.holdOrDrop(env);
  };

  private deliver(env: unknown): void | Promise<void> {
    if (this.rt.tracer === undefined || !(env instanceof Traced)) return this.runTurn(env);
    const name = `${this.path} ${this.behaviour.messageName?.(env.msg as M) ?? defaultMessageName(env.msg)}`;
    return tracedTurn(this.rt.tracer, name, env.parent, this.behaviour.background?.(env.msg as M) === true, (span) => {
      this.span = span;
      const pending = this.runTurn(env.msg);
      if (pending === undefined) this.span = undefined;
      return pending;
    });
  }

  private runTurn(msg: unknown): void | Promise<void> {
    const startedAt = Date.now();
    let next: S | Promise<S>;
    this.inTurn = true;
    try {
      next = this.behaviour.handle(this.state as S, msg as M, this.ctx as ActorContext<M>);
    } catch (err) {
      this.inTurn = false;
      this.exit({ kind: "crash", error: toError(err) });
      return undefined;
    }
    if (next instanceof Promise) return this.awaitTurn(next, startedAt);
    this.inTurn = false;
    // A synchronous handler cannot be pre-empted; past its deadline its result is discarded.
    if (Date.now() - startedAt > this.deadlineMs) this.exit({ kind: "crash", error: this.deadlineError("handler") });
    else this.endOfTurn(next);
    return undefined;
  }

  private awaitTurn(work: Promise<S>, startedAt: number): Promise<void> {
    const token = ++this.turnToken;
    this.turnStartedAt = startedAt;
    const done = new Promise<void>((resolve) => (this.endTurn = resolve));
    this.turnDone = done;
    work.then(
      (next) => this.settleTurn(token, next),
      (err: unknown) => this.failTurn(token, err),
    );
    return done;
  }

  private settleTurn(token: number, next: S): void {
    if (token !== this.turnToken) return; // abandoned turn: an old incarnation's result
    this.finishTurn();
    this.endOfTurn(next);
  }

  private failTurn(token: number, err: unknown): void {
    if (token !== this.turnToken) return;
    const error = toError(err);
    if (this.phase === "running") return this.exit({ kind: "crash", error });
    // Failed while being shut down: not a crash any more, but worth seeing in stats.
    this.noteError(error);
    this.finishTurn();
  }

  private endOfTurn(next: S): void {
    this.state = next;
    const pending = this.pendingExit;
    if (pending !== undefined && this.phase === "running") {
      this.pendingExit = undefined;
      this.exit(pending);
    }
  }

  private finishTurn(): void {
    const end = this.endTurn;
    this.inTurn = false;
    this.turnStartedAt = 0;
    this.turnDone = undefined;
    this.endTurn = undefined;
    this.span = undefined;
    end?.();
  }

  /** Ends the in-flight turn now so nact moves on; its eventual result is ignored. */
  private abandonTurn(): void {
    if (this.endTurn === undefined) return;
    this.turnToken++;
    this.finishTurn();
  }

  /** Called by the tree's watchdog: one interval per tree instead of a timer per message. */
  checkDeadline(now: number): void {
    if (this.turnStartedAt > 0 && this.phase === "running" && now - this.turnStartedAt > this.deadlineMs) {
      this.exit({ kind: "crash", error: this.deadlineError("handler") });
    }
  }

  private holdOrDrop(env: unknown): void | Promise<void> {
    if (this.phase === "stopped" || this.phase === "idle") {
      this.dropped++;
      return undefined;
    }
    this.gate ??= new Promise<void>((resolve) => (this.openGateFn = resolve));
    return this.gate.then(() => (this.phase === "running" ? this.deliver(env) : this.holdOrDrop(env)));
  }

  private openGate(): void {
    const open = this.openGateFn;
    this.gate = undefined;
    this.openGateFn = undefined;
    open?.();
  }

  // ---- lifecycle (driven by the supervisor, one operation at a time) ----

  isIdle(): boolean {
    return this.phase === "idle" || this.phase === "stopped";
  }

  async start(): Promise<StartResult> {
    this.countStart();
    this.actor ??= spawnActor(this.parent.actorRef(), this.name, this.onMessage, (err) => this.onNactFault(err));
    const inc = this.bumpIncarnation();
    this.phase = "starting";
    this.pendingExit = undefined;
    const ctx = this.makeContext(inc);
    this.ctx = ctx;
    if (this.waits.signal.aborted) this.waits = new AbortController();
    const out = await settleWithin(() => this.behaviour.init(ctx), this.deadlineMs, this.waits.signal);
    if (inc !== this.incarnation) return this.staleStart();
    if (out.kind !== "ok") {
      const error = out.kind === "timeout" ? this.deadlineError("init") : toError(out.error);
      this.phase = "down";
      this.noteCrash(error);
      return { ok: false, error, origin: this.path, originError: error };
    }
    this.state = out.value;
    this.phase = "running";
    this.markRunning();
    this.openGate();
    const pending = this.pendingExit;
    this.pendingExit = undefined;
    if (pending !== undefined) this.exit(pending);
    return { ok: true };
  }

  async stop(): Promise<void> {
    if (this.phase === "exiting") await this.exiting;
    if (this.phase !== "running") return;
    const inc = this.incarnation;
    this.phase = "exiting";
    this.exiting = this.shutdownNow(inc);
    await this.exiting;
  }

  private async shutdownNow(inc: number): Promise<void> {
    const deadline = Date.now() + this.shutdownMs;
    const turn = this.turnDone;
    // OTP semantics: the shutdown request waits behind the message being handled, within the bound.
    const waited = turn === undefined ? "ok" : (await settleWithin(() => turn, this.shutdownMs, this.waits.signal)).kind;
    if (inc !== this.incarnation) return; // released (killed) meanwhile
    if (waited === "timeout") {
      this.abandonTurn();
      this.noteTerminateTimeout(this.shutdownMs);
    } else await this.terminate({ kind: "shutdown" }, deadline - Date.now());
    if (inc === this.incarnation) {
      this.phase = "down";
      this.exiting = undefined;
    }
  }

  release(reason: ExitReason["kind"]): void {
    if (this.phase === "idle" || this.phase === "stopped") return;
    this.bumpIncarnation(); // invalidates the incarnation's ctx, timers and in-flight results
    this.abandonTurn();
    this.waits.abort();
    this.phase = "stopped";
    this.state = undefined;
    this.ctx = undefined;
    this.exiting = undefined;
    const actor = this.actor;
    this.actor = undefined;
    if (actor !== undefined) this.stopNactActor(actor);
    this.dropped += this.mailbox;
    this.mailbox = 0;
    this.openGate(); // a held message now sees "stopped" and is counted as dropped
    this.markStopped(reason);
  }

  kill(): void {
    this.release("shutdown");
  }

  injectCrash(reason: string): boolean {
    return this.requestExit(this.incarnation, { kind: "crash", error: new InjectedCrashError(this.path, reason) });
  }

  // ---- exits the worker causes itself: crash, ctx.fail, ctx.stopNormal, deadline ----

  private requestExit(inc: number, reason: ExitReason): boolean {
    if (inc !== this.incarnation) return false; // a timer of an older incarnation
    const defer = this.phase === "starting" || (this.phase === "running" && this.inTurn && reason.kind === "normal");
    if (defer) {
      if (this.pendingExit === undefined || reason.kind === "crash") this.pendingExit = reason;
      return true;
    }
    if (this.phase !== "running") return false;
    this.exit(reason);
    return true;
  }

  private exit(reason: ExitReason): void {
    if (this.phase !== "running") return;
    const inc = this.incarnation;
    this.phase = "exiting";
    this.pendingExit = undefined;
    if (reason.kind === "crash") this.noteCrash(reason.error);
    this.abandonTurn();
    this.exiting = this.terminate(reason, this.shutdownMs).then(() => {
      if (inc !== this.incarnation) return; // released meanwhile
      this.phase = "down";
      this.exiting = undefined;
      const error = reason.kind === "crash" ? reason.error : new Error(`${this.path} exited normally`);
      this.parent.childExited(this, inc, { reason, origin: this.path, originError: error });
    });
    // Nothing may reject unobserved here: an unhandled rejection would kill the process.
    this.exiting.catch((err: unknown) => this.rt.emit({ type: "crashed", path: this.path, error: toError(err) }));
  }

  /** Runs terminate() bounded by `ms`; a throw or a timeout does not stop the stop. */
  private async terminate(reason: ExitReason, ms: number): Promise<void> {
    const ctx = this.ctx;
    if (this.behaviour.terminate === undefined || ctx === undefined) return;
    const state = this.state as S;
    const signal = this.waits.signal;
    const out = await settleWithin(() => this.behaviour.terminate?.(state, reason, ctx), ms, signal);
    if (out.kind === "timeout" && !signal.aborted) this.noteTerminateTimeout(this.shutdownMs);
  }

  private noteCrash(error: Error): void {
    if (this.span !== undefined) recordCrash(this.span, error);
    this.noteError(error);
    this.rt.emit({ type: "crashed", path: this.path, error });
  }

  private onNactFault(err: unknown): void {
    // Only reachable through a bug in this file: our handler never throws. Treat it as a crash.
    this.exit({ kind: "crash", error: toError(err) });
  }

  private deadlineError(what: string): HandlerDeadlineError {
    return new HandlerDeadlineError(this.path, what, this.deadlineMs);
  }

  private makeContext(inc: number): ActorContext<M> {
    return {
      path: this.path,
      name: this.name,
      self: this.ref,
      stopNormal: () => void this.requestExit(inc, { kind: "normal" }),
      fail: (error: unknown) => void this.requestExit(inc, { kind: "crash", error: toError(error) }),
    };
  }

  private staleStart(): StartResult {
    const error = new Error(`${this.path} was stopped while starting`);
    return { ok: false, error, origin: this.path, originError: error };
  }

  collectStats(now: number, out: ActorStats[]): void {
    out.push(this.snapshot(now, STATUS[this.phase], this.mailbox, this.dropped));
  }
}
