// One child process with input on stdin, bounded output and a deadline: how the node runs the host's
// tools (the L4LB's nft and conntrack, the overlay's ip and bridge). The command is an argv prefix,
// so tests and labs can wrap the tool (`ip netns exec <ns> nft`).
import { spawn } from "node:child_process";

export interface RunResult {
  /** Exit code; null when killed by a signal. */
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly timedOut: boolean;
}

export interface RunOptions {
  readonly timeoutMs: number;
  readonly input?: string;
  /** Bytes of stdout kept (a 10,000-VIP JSON listing is ~15 MB); stderr keeps 64 KiB. */
  readonly maxStdout?: number;
}

/** Resolves with how the process ended; rejects only when it cannot be started (ENOENT, EACCES). */
export function runCommand(argv: readonly string[], opts: RunOptions): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const [file, ...args] = argv;
    if (file === undefined) return reject(new Error("empty command"));
    // Its own process group, so a deadline kills whatever it started too (a wrapper's children).
    const child = spawn(file, args, { stdio: ["pipe", "pipe", "pipe"], detached: true });
    const out = collector(opts.maxStdout ?? 512 * 1024 * 1024);
    const err = collector(64 * 1024);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup(child.pid);
      // A grandchild outside the group could hold the pipes open: do not wait for them.
      if (child.exitCode !== null || child.signalCode !== null) finish(null);
      else child.once("exit", () => finish(null));
    }, opts.timeoutMs);
    let done = false;
    const finish = (code: number | null): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      child.stdout.destroy();
      child.stderr.destroy();
      resolve({ code, stdout: out.text(), stderr: err.text(), timedOut });
    };
    child.stdout.on("data", out.add);
    child.stderr.on("data", err.add);
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

function killGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, "SIGKILL");
  } catch {
    // already gone
  }
}

function collector(max: number): { add: (b: Buffer) => void; text: () => string } {
  const chunks: Buffer[] = [];
  let size = 0;
  return {
    add: (b) => {
      if (size >= max) return;
      chunks.push(b.subarray(0, max - size));
      size += b.length;
    },
    text: () => Buffer.concat(chunks).toString("utf8"),
  };
}

/** `ip netns exec` reports a missing tool itself (exit 255) instead of failing to spawn. */
export function execFailed(stderr: string): boolean {
  return /exec of "[^"]*" failed: (No such file or directory|Permission denied)/.test(stderr);
}

export function isSpawnFailure(e: unknown): boolean {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  return code === "ENOENT" || code === "EACCES" || code === "ENOTDIR";
}
