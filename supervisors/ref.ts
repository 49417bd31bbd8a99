// The ActorRef handed to users: a stable name (path) in front of whichever incarnation runs now.
import { ActorStoppedError, AskTimeoutError } from "./errors.js";
import type { ActorRef, ReplyTo } from "./types.js";

/** What a ref needs from its worker. */
interface Mailbox {
  tell(msg: unknown): void;
  /** True when the worker is stopped for good (a tell would be dropped). */
  isReleased(): boolean;
}

export class WorkerRef<M> implements ActorRef<M> {
  readonly #target: Mailbox;

  constructor(
    readonly path: string,
    target: Mailbox,
  ) {
    this.#target = target;
  }

  tell(msg: M): void {
    this.#target.tell(msg);
  }

  ask<R>(build: (reply: ReplyTo<R>) => M, timeoutMs: number): Promise<R> {
    if (this.#target.isReleased()) return Promise.reject(new ActorStoppedError(this.path));
    return new Promise<R>((resolve, reject) => {
      let settled = false;
      let timer: NodeJS.Timeout | undefined = undefined;
      // A reply after the timeout, or a second reply, is ignored: the caller has moved on.
      const reply: ReplyTo<R> = (result) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(result);
      };
      const msg = build(reply);
      timer = setTimeout(() => {
        if (settled) return;
        settled = true;
        reject(new AskTimeoutError(this.path, timeoutMs));
      }, timeoutMs);
      this.#target.tell(msg);
    });
  }
}
