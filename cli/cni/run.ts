// Runs the kernel tools (`ip`, `nft`) for a plugin call. A call is one short sequence of dependent
// steps, each a process, and a process (fork, exec, loading its libraries) costs more than all the
// rest of a call: on the bench machine under load, an `ip` started from Node took 31 ms at p50 while
// the rest of an ADD (parsing, lease files) took under 10. So the node's CNI socket keeps the `ip` of
// the next call started ahead (warmRun), and the steps are asynchronous, so that a process started
// earlier can be handed its input. Every run is bounded in time.
import { spawn } from "node:child_process";

export interface RunResult {
  /** Exit code; -1 when the program could not be started or was killed at the deadline. */
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `file` with `input` as its stdin, to its exit or deadline. */
export type Run = (file: string, args: readonly string[], input?: string) => Promise<RunResult>;

/**
 * Runtimes start plugins with their own PATH, which may lack the sbin directories `ip` and `nft`
 * live in on some systems; they are appended, never put first.
 */
const SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

function toolEnv(): NodeJS.ProcessEnv {
  return { ...process.env, PATH: process.env.PATH ? `${process.env.PATH}:${SYSTEM_PATH}` : SYSTEM_PATH, LC_ALL: "C" };
}

/** A started tool waiting for its stdin; `feed` arms the deadline, writes stdin and closes it. */
interface Started {
  /** True once the process has exited (or could not start). */
  ended(): boolean;
  feed(input: string, timeoutMs: number): Promise<RunResult>;
}

function start(file: string, args: readonly string[], env: NodeJS.ProcessEnv): Started {
  const child = spawn(file, args, { env, stdio: ["pipe", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  let ended = false;
  let timer: NodeJS.Timeout | undefined;
  let killed = false;
  child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
  child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
  // A tool that exits without reading all of stdin: its exit code and stderr tell what happened.
  child.stdin.on("error", () => undefined);
  const result = new Promise<RunResult>((resolve) => {
    child.on("error", (e) => {
      ended = true;
      clearTimeout(timer);
      resolve({ code: -1, stdout, stderr: `${file}: ${e.message}` });
    });
    child.on("close", (code) => {
      ended = true;
      clearTimeout(timer);
      resolve({ code: killed ? -1 : (code ?? -1), stdout, stderr: killed ? `${stderr}${file}: killed at its deadline` : stderr });
    });
  });
  return {
    ended: () => ended,
    feed(input, timeoutMs) {
      timer = setTimeout(() => {
        killed = true;
        child.kill("SIGKILL");
      }, timeoutMs);
      child.stdin.end(input);
      return result;
    },
  };
}

export function systemRun(timeoutMs = 10_000): Run {
  const env = toolEnv();
  return (file, args, input) => start(file, args, env).feed(input ?? "", timeoutMs);
}

export interface WarmRun {
  readonly run: Run;
  /** Starts the spare if none is waiting: called when the owner is idle, as starting one blocks its thread for the fork. */
  prepare(): void;
}

/**
 * For a long-lived caller (the node's CNI socket): keeps one process of `warm` (`ip -j -batch -`, the
 * host side of every ADD and DEL) started ahead, blocked reading its stdin. A step that runs exactly
 * that command takes the waiting process, so its fork and exec are not on the call's path. Any other
 * command, or no spare waiting (it exited, or was taken earlier in the call), starts a process as
 * systemRun does. A spare left when its owner goes reads end-of-file and exits having done nothing.
 */
export function warmRun(warm: readonly [string, ...string[]], timeoutMs = 10_000): WarmRun {
  const env = toolEnv();
  const [wfile, ...wargs] = warm;
  let spare: Started | undefined;
  const isWarm = (file: string, args: readonly string[]): boolean => file === wfile && args.length === wargs.length && args.every((a, i) => a === wargs[i]);
  return {
    run: (file, args, input) => {
      const waiting = spare;
      spare = undefined;
      const p = isWarm(file, args) && waiting && !waiting.ended() ? waiting : start(file, args, env);
      if (waiting && p !== waiting && !waiting.ended()) spare = waiting;
      return p.feed(input ?? "", timeoutMs);
    },
    prepare: () => {
      if (!spare || spare.ended()) spare = start(wfile, wargs, env);
    },
  };
}

/** The first lines of a tool's stderr, for an error's details. */
export function firstLines(s: string, n = 4): string {
  return s.trim().split("\n").slice(0, n).join("; ");
}
