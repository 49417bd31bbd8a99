// A supervisor: strategy, restart intensity and ordered start/stop. Its operations (start, stop,
// a child's exit, an injected crash) run one at a time in its own nact mailbox, like an OTP
// supervisor's message loop: a child that crashes while a restart is in progress is handled after it.
import { InjectedCrashError, RestartIntensityError, toError } from "./errors.js";
import { recordRestart, type IntensityLimit } from "./intensity.js";
import { Lifecycle } from "./lifecycle.js";
import { dispatchTo, spawnActor, type NactRef } from "./nact.js";
import type { ChildExit, ChildNode, Parent, Runtime, StartResult } from "./node.js";
import { restartGroup, shouldRestart } from "./strategy.js";
import { settleWithin } from "./timeouts.js";
import { DEFAULTS } from "./defaults.js";
import type { ActorStats, ExitReason, Strategy, SupervisorSpec } from "./types.js";

type SupOp =
  | { readonly op: "start"; readonly reply: (result: StartResult) => void }
  | { readonly op: "stop"; readonly reply: () => void }
  | { readonly op: "exit"; readonly child: ChildNode; readonly token: number; readonly exit: ChildExit }
  | { readonly op: "crash"; readonly error: Error };

type Phase = "idle" | "starting" | "running" | "stopping" | "down" | "stopped";

/** The deepest actor behind a failure, carried up for onGiveUp. */
type Cause = { readonly origin: string; readonly originError: Error };

type Recovery =
  | { readonly kind: "restarted" | "dropped" | "stale" }
  | ({ readonly kind: "gave-up"; readonly error: Error } & Cause);

type GroupRestart = "done" | "stale" | { readonly index: number; readonly cause: Cause };

const STATUS: Record<Phase, ActorStats["status"]> = {
  idle: "stopped",
  starting: "starting",
  running: "running",
  stopping: "restarting",
  down: "restarting",
  stopped: "stopped",
};

export class SupervisorNode extends Lifecycle implements ChildNode, Parent {
  readonly kind = "supervisor";
  readonly children: ChildNode[] = [];
  private readonly limit: IntensityLimit;
  private readonly strategy: Strategy;
  private readonly shutdownMs: number;
  private phase: Phase = "idle";
  private actor: NactRef | undefined;
  private history: readonly number[] = [];
  /** Temporary children that ended in this incarnation: never started again until the next one. */
  private readonly removed = new Set<ChildNode>();
  private readonly pending = new Set<SupOp>();
  private mailbox = 0;

  constructor(
    spec: SupervisorSpec,
    path: string,
    private readonly parent: Parent,
    private readonly rt: Runtime,
  ) {
    super(path, spec.name, spec.restart, rt);
    this.strategy = spec.strategy;
    this.limit = { intensity: spec.intensity ?? DEFAULTS.intensity, periodMs: spec.periodMs ?? DEFAULTS.periodMs };
    this.shutdownMs = spec.shutdownMs ?? DEFAULTS.supervisorShutdownMs;
  }

  // ---- ChildNode: called by the parent's operations ----

  isIdle(): boolean {
    return this.phase === "idle" || this.phase === "stopped";
  }

  start(): Promise<StartResult> {
    return new Promise((reply) => this.enqueue({ op: "start", reply }));
  }

  async stop(): Promise<void> {
    if (this.actor === undefined) return;
    const stopped = () => new Promise<void>((reply) => this.enqueue({ op: "stop", reply }));
    const out = await settleWithin(stopped, this.shutdownMs);
    if (out.kind !== "timeout") return;
    this.noteTerminateTimeout(this.shutdownMs);
    this.kill();
  }

  release(reason: ExitReason["kind"]): void {
    if (this.actor === undefined) return;
    // Deepest first: nact's stop does not reach children (stack.md §1.2).
    for (let i = this.children.length - 1; i >= 0; i--) this.children[i]?.release("shutdown");
    this.bumpIncarnation(); // any operation still running sees it is stale and stops touching children
    this.phase = "stopped";
    const actor = this.actor;
    this.actor = undefined;
    this.stopNactActor(actor);
    for (const op of this.pending) this.abort(op);
    this.pending.clear();
    this.markStopped(reason);
  }

  kill(): void {
    this.release("shutdown");
  }

  injectCrash(reason: string): boolean {
    if (this.phase !== "running") return false;
    this.enqueue({ op: "crash", error: new InjectedCrashError(this.path, reason) });
    return true;
  }

  collectStats(now: number, out: ActorStats[]): void {
    out.push(this.snapshot(now, STATUS[this.phase], this.mailbox, 0));
    for (const child of this.children) child.collectStats(now, out);
  }

  // ---- Parent: called by the children ----

  actorRef(): NactRef {
    if (this.actor === undefined) throw new Error(`${this.path}: child started while the supervisor is stopped`);
    return this.actor;
  }

  childExited(child: ChildNode, token: number, exit: ChildExit): void {
    this.enqueue({ op: "exit", child, token, exit });
  }

  // ---- the operation loop ----

  private enqueue(op: SupOp): void {
    if (this.actor === undefined) {
      if (op.op !== "start") return this.abort(op);
      this.actor = spawnActor(this.parent.actorRef(), this.name, this.onOp, (err) => this.onFault(err));
    }
    this.pending.add(op);
    this.mailbox++;
    dispatchTo(this.actor, op);
  }

  private abort(op: SupOp): void {
    if (op.op === "start") op.reply(this.failure(new Error(`${this.path} was stopped`)));
    else if (op.op === "stop") op.reply();
  }

  private readonly onOp = async (raw: unknown): Promise<void> => {
    const op = raw as SupOp;
    this.mailbox--;
    if (!this.pending.delete(op)) return; // aborted by a release
    try {
      await this.run(op);
    } catch (err) {
      this.onFault(err);
      this.abort(op); // a waiting parent must not hang on a bug here
    }
  };

  private async run(op: SupOp): Promise<void> {
    switch (op.op) {
      case "start":
        return op.reply(await this.doStart());
      case "stop":
        await this.doStop();
        return op.reply();
      case "exit":
        return this.onChildExit(op.child, op.token, op.exit);
      case "crash":
        return this.doCrash(op.error);
    }
  }

  private onFault(err: unknown): void {
    // Only a bug in this layer gets here; report it rather than let it reach nact's onCrash.
    this.rt.emit({ type: "crashed", path: this.path, error: toError(err) });
  }

  private async doStart(): Promise<StartResult> {
    this.countStart();
    const inc = this.bumpIncarnation();
    this.phase = "starting";
    this.history = [];
    this.removed.clear();
    for (const child of this.children) {
      // A group restart below may already have started the later children.
      if (!child.isIdle() || this.removed.has(child)) continue;
      const started = await child.start();
      if (inc !== this.incarnation) return this.failure(new Error(`${this.path} was stopped while starting`));
      if (started.ok) continue;
      const out = await this.recover(child, { kind: "crash", error: started.error }, started, inc);
      if (out.kind === "gave-up") return { ok: false, error: out.error, origin: out.origin, originError: out.originError };
      if (out.kind === "stale") return this.failure(new Error(`${this.path} was stopped while starting`));
    }
    this.phase = "running";
    this.markRunning();
    return { ok: true };
  }

  private async onChildExit(child: ChildNode, token: number, exit: ChildExit): Promise<void> {
    if (this.phase !== "running" || token !== child.incarnation) return; // stale report
    const inc = this.incarnation;
    const out = await this.recover(child, exit.reason, exit, inc);
    if (out.kind !== "gave-up" || inc !== this.incarnation) return;
    this.parent.childExited(this, inc, { reason: { kind: "crash", error: out.error }, origin: out.origin, originError: out.originError });
  }

  /** Decides on a child that is down: drop it, restart its group (within intensity), or give up. */
  private async recover(child: ChildNode, reason: ExitReason, cause: Cause, inc: number): Promise<Recovery> {
    if (!shouldRestart(child.restart, reason.kind)) {
      if (child.restart === "temporary") this.removed.add(child);
      child.release(reason.kind);
      return { kind: "dropped" };
    }
    let failed = { index: this.children.indexOf(child), cause };
    for (;;) {
      const verdict = recordRestart(this.history, Date.now(), this.limit);
      this.history = verdict.history;
      if (verdict.exceeded) return this.giveUp(failed.cause, inc);
      const next = await this.restartGroupFrom(failed.index, inc);
      if (next === "done") return { kind: "restarted" };
      if (next === "stale") return { kind: "stale" };
      failed = next; // a restarted child failed to start: counts as one more restart
    }
  }

  private async restartGroupFrom(failed: number, inc: number): Promise<GroupRestart> {
    const group = restartGroup(this.strategy, failed, this.children.length);
    for (let k = group.length - 1; k >= 0; k--) {
      const i = group[k] as number;
      const child = this.children[i] as ChildNode;
      await child.stop();
      if (inc !== this.incarnation) return "stale";
      // OTP: temporary siblings taken down by a group restart are not restarted.
      if (i !== failed && child.restart === "temporary" && !child.isIdle()) {
        this.removed.add(child);
        child.release("shutdown");
      }
    }
    for (const i of group) {
      const child = this.children[i] as ChildNode;
      if (this.removed.has(child)) continue;
      const started = await child.start();
      if (inc !== this.incarnation) return "stale";
      if (!started.ok) return { index: i, cause: started };
    }
    return "done";
  }

  private async giveUp(cause: Cause, inc: number): Promise<Recovery> {
    const { intensity, periodMs } = this.limit;
    const error = new RestartIntensityError(this.path, cause.origin, intensity, periodMs, { cause: cause.originError });
    this.noteError(error);
    this.rt.emit({ type: "gave-up", path: this.path, error, origin: cause.origin });
    this.phase = "stopping";
    await this.stopChildren(inc);
    if (inc !== this.incarnation) return { kind: "stale" };
    this.phase = "down";
    return { kind: "gave-up", error, ...cause };
  }

  private async doStop(): Promise<void> {
    if (this.phase === "idle" || this.phase === "stopped") return;
    const inc = this.incarnation;
    this.phase = "stopping";
    await this.stopChildren(inc);
    if (inc === this.incarnation) this.phase = "down";
  }

  private async doCrash(error: Error): Promise<void> {
    if (this.phase !== "running") return;
    const inc = this.incarnation;
    this.noteError(error);
    this.rt.emit({ type: "crashed", path: this.path, error });
    this.phase = "stopping";
    await this.stopChildren(inc);
    if (inc !== this.incarnation) return;
    this.phase = "down";
    this.parent.childExited(this, inc, { reason: { kind: "crash", error }, origin: this.path, originError: error });
  }

  /** Reverse start order, each bounded by its own shutdownMs, each stopped for good. */
  private async stopChildren(inc: number): Promise<void> {
    for (let i = this.children.length - 1; i >= 0; i--) {
      const child = this.children[i] as ChildNode;
      await child.stop();
      if (inc !== this.incarnation) return;
      child.release("shutdown");
    }
  }

  private failure(error: Error): StartResult {
    return { ok: false, error, origin: this.path, originError: error };
  }
}
