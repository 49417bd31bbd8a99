// The conntrack edge: deletes the entries of removed backends with the `conntrack` CLI (Debian
// package conntrack), a few processes at a time. One call per (VIP, backend): the entries it
// matches are exactly the flows DNATed from that VIP to that backend.
import type { CtFlush } from "../render/conntrack-plan.js";
import { firstLines } from "../errors.js";
import { execFailed, isSpawnFailure, runCommand } from "./run.js";

export interface ConntrackOptions {
  /** argv prefix; default ["conntrack"]. Tests: ["ip", "netns", "exec", ns, "conntrack"]. */
  readonly command?: readonly string[];
  /** Processes at once; default 4 (one call takes 20–60 ms, dataplane.md §4). */
  readonly concurrency?: number;
  /** Per call; default 5 s. */
  readonly timeoutMs?: number;
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
  const one = async (f: CtFlush): Promise<void> => {
    try {
      const r = await runCommand([...command, ...conntrackArgs(f)], { timeoutMs: opts.timeoutMs ?? 5_000 });
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
  const worker = async (): Promise<void> => {
    while (next < flushes.length) {
      const f = flushes[next++];
      if (f) await one(f);
    }
  };
  const width = Math.max(1, Math.min(opts.concurrency ?? 4, flushes.length));
  await Promise.all(Array.from({ length: width }, worker));
  return { deleted, failed, errors: [...errors] };
}
