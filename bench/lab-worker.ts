// A helper process inside a lab namespace that the bench talks to in JSON lines: one command per
// line on its stdin, one reply per line on its stdout, matched by `id` (id 0 is its ready line).
// Shared by bench/l4lb-sync (admin client, agent stand-in) and bench/overlay (store writer).
import type { ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";

export class JsonLineWorker<Reply extends { readonly id: number }> {
  readonly #pending = new Map<number, (r: Reply) => void>();
  #nextId = 1;
  #err = "";

  constructor(private readonly child: ChildProcess) {
    child.stderr?.on("data", (b: Buffer) => (this.#err = (this.#err + b.toString()).slice(-4000)));
    if (child.stdout) {
      createInterface({ input: child.stdout }).on("line", (line) => {
        let r: Reply;
        try {
          r = JSON.parse(line) as Reply;
        } catch {
          return;
        }
        this.#pending.get(r.id)?.(r);
        this.#pending.delete(r.id);
      });
    }
  }

  /** The last of its stderr, for error messages. */
  get stderr(): string {
    return this.#err.trim();
  }

  /** Its ready line (id 0); rejects when it exits or stays silent for `timeoutMs`. */
  ready(what: string, timeoutMs = 30_000): Promise<Reply> {
    const ready = new Promise<Reply>((resolve) => this.#pending.set(0, resolve));
    const exited = new Promise<never>((_, reject) => this.child.once("exit", (code) => reject(new Error(`${what} exited ${code}: ${this.stderr}`))));
    const silent = new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`${what} not ready within ${timeoutMs / 1000} s: ${this.stderr}`)), timeoutMs).unref());
    return Promise.race([ready, exited, silent]);
  }

  /** Sends `cmd` with a fresh id; the reply, or undefined when none came within `timeoutMs`. */
  request(cmd: object, timeoutMs: number): Promise<Reply | undefined> {
    const id = this.#nextId++;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        resolve(undefined);
      }, timeoutMs);
      this.#pending.set(id, (r) => {
        clearTimeout(timer);
        resolve(r);
      });
      this.child.stdin?.write(`${JSON.stringify({ ...cmd, id })}\n`);
    });
  }

  stop(): void {
    this.child.stdin?.end();
    if (this.child.exitCode === null && this.child.pid !== undefined) this.child.kill("SIGTERM");
  }
}
