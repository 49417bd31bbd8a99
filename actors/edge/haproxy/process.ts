// The HAProxy master process: `haproxy -W -S <master.sock> -f <cfg>` (master-worker, the master CLI
// on a unix socket), started under a command prefix when the edge runs in another network namespace.
// Validation (`haproxy -c`) runs every new config before it is used.
import { spawn, type ChildProcess } from "node:child_process";
import { runCommand } from "../../../host/run.js";
import { masterCommand, parseShowProc, type ProcInfo } from "./runtime.js";

export interface HaproxyCommand {
  /** argv prefix (e.g. `ip netns exec lb`), then the haproxy binary. */
  readonly prefix: readonly string[];
  readonly binary: string;
}

/** `haproxy -c`: undefined when valid, else HAProxy's complaint. */
export async function validateConfig(cmd: HaproxyCommand, file: string, timeoutMs = 20_000): Promise<string | undefined> {
  let r;
  try {
    r = await runCommand([...cmd.prefix, cmd.binary, "-c", "-f", file], { timeoutMs });
  } catch (err) {
    return `cannot run ${cmd.binary}: ${(err as Error).message}`;
  }
  if (r.timedOut) return `haproxy -c did not finish within ${timeoutMs} ms`;
  if (r.code === 0) return undefined;
  // HAProxy's own words, without its "[ALERT]    (pid) : " prefixes and the closing summary.
  const lines = r.stderr
    .split("\n")
    .filter((l) => /ALERT/.test(l) && !/Error\(s\) found in configuration file|Fatal errors found/.test(l))
    .map((l) => l.replace(/^\[ALERT\]\s+\(\d+\)\s*:\s*/, ""));
  return lines.slice(0, 3).join(" | ").trim() || `haproxy -c exited ${r.code}: ${r.stderr.trim().split("\n").slice(-2).join(" | ")}`;
}

export interface Running {
  readonly child: ChildProcess;
  readonly pid: number;
}

/** Starts the master; resolves once the master CLI answers with a worker, rejects if it exits first or does not come up in time. */
export async function startHaproxy(cmd: HaproxyCommand, file: string, masterSock: string, onLine: (line: string) => void, timeoutMs = 10_000): Promise<Running> {
  const child = spawn(cmd.prefix[0] ?? cmd.binary, [...cmd.prefix.slice(1), ...(cmd.prefix.length > 0 ? [cmd.binary] : []), "-W", "-S", `${masterSock},mode,600`, "-f", file], { stdio: ["ignore", "ignore", "pipe"] });
  let tail = "";
  child.stderr?.on("data", (d: Buffer) => {
    tail += d.toString("utf8");
    const lines = tail.split("\n");
    tail = lines.pop() ?? "";
    for (const l of lines) if (l.trim()) onLine(l);
  });
  const exited = new Promise<never>((_, reject) => {
    child.once("error", (err) => reject(new Error(`cannot start haproxy: ${err.message}`)));
    child.once("exit", (code, signal) => reject(new Error(`haproxy exited during start (${signal ?? `code ${code}`})`)));
  });
  exited.catch(() => undefined);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const info = await Promise.race([procInfo(masterSock, 500).catch(() => undefined), exited]);
    if (info && info.workers.length > 0) return { child, pid: child.pid as number };
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`haproxy did not come up within ${timeoutMs} ms`);
    }
    await Promise.race([new Promise((r) => setTimeout(r, 20)), exited]);
  }
}

/** `show proc`. The master re-executes itself on every reload and opens its CLI again: a refused connection is retried for up to `timeoutMs`. */
export async function procInfo(masterSock: string, timeoutMs = 2000): Promise<ProcInfo | undefined> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    try {
      return parseShowProc(await masterCommand(masterSock, "show proc", Math.max(100, end - Date.now())));
    } catch (err) {
      if (Date.now() >= end) throw err;
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

/** Master CLI `reload`, then waits for the reload counter to move; resolves with the new info (`failedReloads` says if it failed). */
export async function reloadHaproxy(masterSock: string, timeoutMs = 10_000): Promise<ProcInfo> {
  const before = await procInfo(masterSock);
  if (!before) throw new Error("master CLI: no show proc answer");
  await masterCommand(masterSock, "reload", timeoutMs).catch(() => "");
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    await new Promise((r) => setTimeout(r, 20));
    const now = await procInfo(masterSock, 1000).catch(() => undefined);
    if (now && (now.reloads > before.reloads || now.failedReloads > before.failedReloads) && (now.failedReloads > before.failedReloads || now.workers.length > 0)) return now;
    if (Date.now() > deadline) throw new Error(`reload not confirmed within ${timeoutMs} ms`);
  }
}
