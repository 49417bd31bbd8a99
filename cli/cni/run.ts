// Runs the kernel tools (`ip`, `nsenter`, `nft`) synchronously: a CNI call is one short sequence of
// dependent steps, so there is nothing to overlap, and spawnSync costs less than an event-loop round
// trip per step. Every call is bounded in time.
import { spawnSync } from "node:child_process";

export interface RunResult {
  /** Exit code; -1 when the program could not be started or was killed at the deadline. */
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export type Run = (file: string, args: readonly string[], input?: string) => RunResult;

/**
 * Runtimes start plugins with their own PATH, which may lack the sbin directories `ip` and `nft`
 * live in on some systems; they are appended, never put first.
 */
const SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

export function systemRun(timeoutMs = 10_000): Run {
  const env = { ...process.env, PATH: process.env.PATH ? `${process.env.PATH}:${SYSTEM_PATH}` : SYSTEM_PATH, LC_ALL: "C" };
  return (file, args, input) => {
    const r = spawnSync(file, args, { input: input ?? "", encoding: "utf8", timeout: timeoutMs, env, killSignal: "SIGKILL" });
    if (r.error) return { code: -1, stdout: r.stdout ?? "", stderr: `${file}: ${r.error.message}` };
    return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
  };
}

/** The first lines of a tool's stderr, for an error's details. */
export function firstLines(s: string, n = 4): string {
  return s.trim().split("\n").slice(0, n).join("; ");
}
