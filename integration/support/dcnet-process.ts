// Runs the real `dcnet` executable as child processes for integration tests, the way a user
// does (bin/dcnet.js), and reads its JSON log lines. Every child is tracked and killed by PID.
import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";

export const DCNET_BIN = fileURLToPath(new URL("../../bin/dcnet.js", import.meta.url));

export interface LogLine {
  readonly level?: string;
  readonly msg?: string;
  readonly [key: string]: unknown;
}

export interface DcnetProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  /** Parsed JSON lines from stdout so far (non-JSON lines are kept as {msg: line}). */
  lines(): LogLine[];
  stderr(): string;
  waitForLine(pred: (l: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGTERM, then SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const live = new Set<ChildProcess>();
process.once("exit", () => {
  for (const c of live) c.kill("SIGKILL");
});

/**
 * `opts.prefix` runs the node under a launcher that execs it (e.g. `ip netns exec <ns>`), so the
 * child's PID is still the node's and signals reach it directly.
 */
export function spawnDcnet(args: readonly string[], env: NodeJS.ProcessEnv = {}, opts: { readonly prefix?: readonly string[] } = {}): DcnetProcess {
  // DCNET_TEST_EXEC_ARGV passes node flags NODE_OPTIONS refuses (e.g. --cpu-prof) when profiling a run.
  const argv = [process.execPath, ...(process.env.DCNET_TEST_EXEC_ARGV ?? "").split(" ").filter(Boolean), DCNET_BIN, ...args];
  const [file, ...rest] = [...(opts.prefix ?? []), ...argv] as [string, ...string[]];
  const child = spawn(file, rest, {
    // The tests start open nats-servers: a node there needs nats.insecure (a test of the secure default
    // passes DCNET_NATS_INSECURE: "" to turn it off; integration/secure-up.test.ts does).
    env: { ...process.env, NODE_OPTIONS: "", DCNET_NATS_INSECURE: "1", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  live.add(child);
  const lines: LogLine[] = [];
  let err = "";
  let partial = "";
  const waiters = new Set<() => void>();
  child.stdout?.on("data", (b: Buffer) => {
    partial += b.toString();
    const parts = partial.split("\n");
    partial = parts.pop() ?? "";
    for (const p of parts.filter(Boolean)) lines.push(parse(p));
    for (const w of waiters) w();
  });
  child.stderr?.on("data", (b: Buffer) => (err += b.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once("exit", (code, signal) => {
      live.delete(child);
      for (const w of waiters) w();
      resolve({ code, signal });
    }),
  );
  return {
    child,
    pid: child.pid ?? -1,
    lines: () => [...lines],
    stderr: () => err,
    exited,
    waitForLine(pred, timeoutMs = 15_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const hit = lines.find(pred);
          if (hit) return done(() => resolve(hit));
          if (child.exitCode !== null || child.signalCode !== null) {
            return done(() => reject(new Error(`dcnet ${args.join(" ")} exited (${child.exitCode ?? child.signalCode}) before the expected log line; stderr: ${err.slice(-500)}`)));
          }
        };
        const timer = setTimeout(() => done(() => reject(new Error(`no matching log line within ${timeoutMs} ms; last lines: ${lines.slice(-5).map((l) => JSON.stringify(l)).join("\n")}; stderr: ${err.slice(-500)}`))), timeoutMs);
        const done = (f: () => void) => {
          clearTimeout(timer);
          waiters.delete(check);
          f();
        };
        waiters.add(check);
        check();
      });
    },
    async stop(graceMs = 5000) {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGTERM");
        const t = setTimeout(() => child.kill("SIGKILL"), graceMs);
        const r = await exited;
        clearTimeout(t);
        return r;
      }
      return exited;
    },
  };
}

function parse(line: string): LogLine {
  try {
    const v: unknown = JSON.parse(line);
    return typeof v === "object" && v !== null ? (v as LogLine) : { msg: line };
  } catch {
    return { msg: line };
  }
}

/** Runs `dcnet <args>` to completion (bounded) and returns its exit code and output. */
export async function runDcnet(args: readonly string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 20_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const p = spawnDcnet(args, env);
  let out = "";
  p.child.stdout?.on("data", (b: Buffer) => (out += b.toString()));
  const timer = setTimeout(() => p.child.kill("SIGKILL"), timeoutMs);
  const { code } = await p.exited;
  clearTimeout(timer);
  return { code, stdout: out, stderr: p.stderr() };
}

export const isReady = (l: LogLine): boolean => l.msg === "dcnet node ready";
