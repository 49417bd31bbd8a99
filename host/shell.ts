// A long-lived `sh` that runs one command line at a time and reports each one's output and exit
// status. Why: starting a process from the node costs the node itself — fork() copies the page
// tables of a large heap, and the event loop stands still meanwhile (6.4 ms per conntrack call at
// 10,000 VIPs, measured). The shell was started once, while the heap was small; it forks the tool
// instead. No library does this (node's child_process has no "exec in an existing shell").
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";

export interface ShellResult {
  /** Exit status of the command line (the shell's `$?`); null when the shell died or the deadline passed. */
  readonly code: number | null;
  /** stdout and stderr of the command, interleaved (the line redirects 2>&1), bounded. */
  readonly output: string;
  readonly timedOut: boolean;
}

const MARK = "@@dcnet-shell-done";
const MAX_OUTPUT = 64 * 1024;

/** Quotes one argv word for sh: single quotes, with `'` as `'\''`. */
export function shellQuote(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}

interface Pending {
  readonly line: string;
  readonly timeoutMs: number;
  readonly resolve: (r: ShellResult) => void;
}

export class PersistentShell {
  #child: ChildProcessWithoutNullStreams | undefined;
  #queue: Pending[] = [];
  #current: { readonly p: Pending; readonly timer: NodeJS.Timeout; out: string } | undefined;
  #buffer = "";
  #closed = false;

  /** `prefix` runs the shell (e.g. `["ip","netns","exec",ns]`: the commands then run in that namespace). */
  constructor(private readonly prefix: readonly string[] = []) {}

  /** Runs `argv` (quoted for sh) in the shell; never rejects: a dead shell or a deadline is a result. */
  run(argv: readonly string[], timeoutMs: number): Promise<ShellResult> {
    if (this.#closed) return Promise.resolve({ code: null, output: "shell closed", timedOut: false });
    return new Promise((resolve) => {
      this.#queue.push({ line: `${argv.map(shellQuote).join(" ")} 2>&1 </dev/null; echo "${MARK} $?"\n`, timeoutMs, resolve });
      this.#pump();
    });
  }

  /** Starts the shell now (while the heap is small), rather than at the first command. */
  start(): void {
    if (!this.#child && !this.#closed) this.#start();
  }

  close(): void {
    this.#closed = true;
    this.#kill();
    for (const p of this.#queue.splice(0)) p.resolve({ code: null, output: "shell closed", timedOut: false });
  }

  #start(): ChildProcessWithoutNullStreams {
    const [file, ...args] = [...this.prefix, "sh"];
    // Its own process group: a deadline kills the shell and whatever it is running.
    const child = spawn(file as string, [...args], { stdio: ["pipe", "pipe", "pipe"], detached: true });
    child.stdin.on("error", () => undefined);
    child.stdout.on("data", (b: Buffer) => this.#onData(b.toString()));
    child.stderr.on("data", () => undefined);
    child.once("error", () => this.#died(child));
    child.once("exit", () => this.#died(child));
    child.unref();
    this.#child = child;
    return child;
  }

  #pump(): void {
    if (this.#current || this.#closed) return;
    const p = this.#queue.shift();
    if (!p) return;
    const child = this.#child ?? this.#start();
    const timer = setTimeout(() => {
      // A hung tool: end the shell (and the tool), answer, and start afresh for the next command.
      this.#finish({ code: null, output: this.#current?.out ?? "", timedOut: true });
      this.#kill();
    }, p.timeoutMs);
    this.#current = { p, timer, out: "" };
    this.#buffer = "";
    child.stdin.write(p.line);
  }

  #onData(text: string): void {
    const cur = this.#current;
    if (!cur) return;
    this.#buffer += text;
    const at = this.#buffer.indexOf(MARK);
    if (at < 0) {
      // Keep a tail that could be the start of the mark; bound the rest.
      if (this.#buffer.length > MAX_OUTPUT + MARK.length) this.#buffer = this.#buffer.slice(0, MAX_OUTPUT) + this.#buffer.slice(-MARK.length);
      return;
    }
    const end = this.#buffer.indexOf("\n", at);
    if (end < 0) return;
    const code = Number(this.#buffer.slice(at + MARK.length, end).trim());
    this.#finish({ code: Number.isInteger(code) ? code : null, output: this.#buffer.slice(0, at).slice(0, MAX_OUTPUT), timedOut: false });
  }

  #finish(r: ShellResult): void {
    const cur = this.#current;
    if (!cur) return;
    clearTimeout(cur.timer);
    this.#current = undefined;
    this.#buffer = "";
    cur.p.resolve(r);
    this.#pump();
  }

  #died(child: ChildProcessWithoutNullStreams): void {
    if (this.#child !== child) return;
    this.#child = undefined;
    this.#finish({ code: null, output: "the shell ended", timedOut: false });
  }

  #kill(): void {
    const child = this.#child;
    this.#child = undefined;
    if (child?.pid === undefined) return;
    try {
      process.kill(-child.pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
}
