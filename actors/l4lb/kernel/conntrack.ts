// The conntrack edge: deletes the entries of removed backends with the `conntrack` CLI (Debian
// package conntrack), a few processes at a time. One call per (VIP, backend): the entries it
// matches are exactly the flows DNATed from that VIP to that backend.
import type { CtFlush } from "../render/conntrack-plan.js";
import { firstLines } from "../errors.js";
import { execFailed, isSpawnFailure, runCommand, type RunResult } from "../../../host/run.js";
import type { PersistentShell } from "../../../host/shell.js";

export interface ConntrackOptions {
  /** argv prefix; default ["conntrack"]. Tests: ["ip", "netns", "exec", ns, "conntrack"]. */
  readonly command?: readonly string[];
  /** Processes at once; default 4 (one call takes 20–60 ms, dataplane.md §4). */
  readonly concurrency?: number;
  /** Per call; default 5 s. */
  readonly timeoutMs?: number;
  /**
   * Long-lived shells to run the calls in (kernel/shell.ts): the node then starts no process per
   * call. One call in flight per shell, so their number is the concurrency. Default: a process each.
   */
  readonly shells?: readonly PersistentShell[];
}

export interface ConntrackResult {
  /** Entries deleted. */
  readonly deleted: number;
  /** Calls that failed (not "0 entries": nothing to delete is fine). */
  readonly failed: number;
  /** The first few distinct failure messages, for the log. */
  readonly errors: readonly string[];
}

/** `conntrack -D -f ipv4 -p udp --orig-dst VIP --dport VPORT --reply-src BACKEND --reply-port-src PORT`. */
export function conntrackArgs(f: CtFlush): string[] {
  return [
    "-D", "-f", f.family === "ip" ? "ipv4" : "ipv6", "-p", f.protocol,
    "--orig-dst", f.vip, "--dport", String(f.vport),
    "--reply-src", f.backend.ip, "--reply-port-src", String(f.backend.port),
  ];
}

const DELETED = /(\d+) flow entries have been deleted/;

export async function conntrackFlush(flushes: readonly CtFlush[], opts: ConntrackOptions = {}): Promise<ConntrackResult> {
  const command = opts.command ?? ["conntrack"];
  let deleted = 0;
  let failed = 0;
  const errors = new Set<string>();
  const fail = (message: string): void => {
    failed++;
    if (errors.size < 5) errors.add(message);
  };
  const timeoutMs = opts.timeoutMs ?? 5_000;
  const exec = async (argv: readonly string[], worker: number): Promise<RunResult> => {
    const shell = opts.shells?.[worker];
    if (!shell) return runCommand(argv, { timeoutMs });
    const r = await shell.run(argv, timeoutMs);
    // sh answers 127 for a command it cannot find or run: the same as a failed exec.
    return { code: r.code, stdout: "", stderr: r.code === 127 ? `exec of "${argv[0] ?? ""}" failed: No such file or directory` : r.output, timedOut: r.timedOut };
  };
  const one = async (f: CtFlush, worker: number): Promise<void> => {
    try {
      const r = await exec([...command, ...conntrackArgs(f)], worker);
      const n = Number(DELETED.exec(r.stderr)?.[1] ?? NaN);
      // conntrack exits 1 when it deleted nothing: the flow had already ended, not a failure.
      if ((r.code === 0 || r.code === 1) && Number.isFinite(n)) deleted += n;
      else if (r.timedOut) fail(`conntrack did not finish within ${opts.timeoutMs ?? 5_000} ms`);
      else if (execFailed(r.stderr)) fail(`${command.join(" ")} cannot be run: install conntrack (Debian: apt-get install conntrack)`);
      else fail(`conntrack exited ${r.code ?? "on a signal"}: ${firstLines(r.stderr, 2)}`);
    } catch (e) {
      fail(isSpawnFailure(e) ? `${command[0] ?? "conntrack"} cannot be run: install conntrack (Debian: apt-get install conntrack)` : String(e));
    }
  };
  let next = 0;
  const worker = async (id: number): Promise<void> => {
    while (next < flushes.length) {
      const f = flushes[next++];
      if (f) await one(f, id);
    }
  };
  const width = Math.max(1, Math.min(opts.shells?.length ?? opts.concurrency ?? 4, flushes.length));
  await Promise.all(Array.from({ length: width }, (_, i) => worker(i)));
  return { deleted, failed, errors: [...errors] };
}
