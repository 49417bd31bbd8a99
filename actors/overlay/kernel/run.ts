// One child process with input on stdin, bounded output and a deadline: how the overlay runs
// `ip` and `bridge`. The argv may start with a prefix (`ip netns exec <ns>`), so tests and labs
// run the same code inside a namespace. (The L4LB has the same helper in l4lb/kernel/run.ts,
// behind its door; a shared lower-layer copy would serve both.)
import { spawn } from "node:child_process";

export interface RunResult {
  /** Exit code; null when killed by a signal. */
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly timedOut: boolean;
}

const MAX_STDOUT = 64 * 1024 * 1024;
const MAX_STDERR = 64 * 1024;

/** Resolves with how the process ended; rejects only when it cannot be started (ENOENT, EACCES). */
export function runCommand(argv: readonly string[], opts: { readonly timeoutMs: number; readonly input?: string }): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const [file, ...args] = argv;
    if (file === undefined) return reject(new Error("empty command"));
    // Its own process group, so a deadline kills a wrapper's children too.
    const child = spawn(file, args, { stdio: ["pipe", "pipe", "pipe"], detached: true });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let outSize = 0;
    let errSize = 0;
    let timedOut = false;
    let done = false;
    const finish = (code: number | null): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      child.stdout.destroy();
      child.stderr.destroy();
      resolve({ code, stdout: Buffer.concat(out).toString("utf8"), stderr: Buffer.concat(err).toString("utf8"), timedOut });
    };
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        if (child.pid !== undefined) process.kill(-child.pid, "SIGKILL");
      } catch {
        // already gone
      }
      // A grandchild outside the group could hold the pipes open: do not wait for them.
      if (child.exitCode !== null || child.signalCode !== null) finish(null);
      else child.once("exit", () => finish(null));
    }, opts.timeoutMs);
    child.stdout.on("data", (b: Buffer) => {
      if (outSize < MAX_STDOUT) out.push(b);
      outSize += b.length;
    });
    child.stderr.on("data", (b: Buffer) => {
      if (errSize < MAX_STDERR) err.push(b);
      errSize += b.length;
    });
    // A tool that exits before reading all its input must not crash us with EPIPE.
    child.stdin.on("error", () => undefined);
    child.once("error", (e) => {
      clearTimeout(timer);
      done = true;
      reject(e);
    });
    child.once("close", (code) => finish(code));
    child.stdin.end(opts.input ?? "");
  });
}

export function isSpawnFailure(e: unknown): boolean {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  return code === "ENOENT" || code === "EACCES" || code === "ENOTDIR";
}

/** `ip netns exec` reports a tool it cannot start itself instead of failing to spawn. */
export function execFailed(stderr: string): boolean {
  return /exec of "[^"]*" failed: (No such file or directory|Permission denied)/.test(stderr);
}
