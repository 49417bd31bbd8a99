// What workers and supervisors share: identity, incarnations, restart count, last error, uptime,
// and the lifecycle events they emit.
import { stopActor, type NactRef } from "./nact.js";
import type { Runtime } from "./node.js";
import type { ActorStats, ExitReason, RestartType } from "./types.js";

export abstract class Lifecycle {
  abstract readonly kind: "worker" | "supervisor";
  incarnation = 0;
  private starts = 0;
  private restarts = 0;
  private startedAt = 0;
  private lastError: { readonly message: string; readonly at: number } | undefined;

  constructor(
    readonly path: string,
    readonly name: string,
    readonly restart: RestartType,
    private readonly events: Pick<Runtime, "emit">,
  ) {}

  /** Every start after the first is a restart, whatever caused it (own crash, sibling, parent). */
  protected countStart(): void {
    if (this.starts > 0) this.restarts++;
    this.starts++;
  }

  protected bumpIncarnation(): number {
    return ++this.incarnation;
  }

  protected markRunning(): void {
    this.startedAt = Date.now();
    if (this.restarts === 0) this.events.emit({ type: "started", path: this.path });
    else this.events.emit({ type: "restarted", path: this.path, restarts: this.restarts });
  }

  protected markStopped(reason: ExitReason["kind"]): void {
    this.startedAt = 0;
    this.events.emit({ type: "stopped", path: this.path, reason });
  }

  protected noteError(error: Error): void {
    this.lastError = { message: error.message, at: Date.now() };
  }

  protected noteTerminateTimeout(shutdownMs: number): void {
    this.events.emit({ type: "terminate-timeout", path: this.path, shutdownMs });
  }

  protected stopNactActor(actor: NactRef): void {
    stopActor(actor);
  }

  protected snapshot(now: number, status: ActorStats["status"], mailbox: number, dropped: number): ActorStats {
    return {
      path: this.path,
      kind: this.kind,
      status,
      restarts: this.restarts,
      ...(this.lastError === undefined ? {} : { lastError: this.lastError }),
      uptimeMs: status === "running" ? now - this.startedAt : 0,
      mailbox,
      dropped,
    };
  }
}
