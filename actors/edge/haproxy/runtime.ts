// HAProxy's two command sockets: the worker's stats socket at admin level (the Runtime API: `set
// server`, `show stat`) and the master CLI (`reload`, `show proc`). One connection per batch:
// interactive mode (`prompt`) so each command's answer is cut at the prompt that follows it, then
// `quit`; a deadline per call. Answers are text: an error is recognised by HAProxy's wording.
import { createConnection } from "node:net";

export class RuntimeError extends Error {
  readonly code = "DCNET_E_EDGE_RUNTIME";
}

function exchange(path: string, input: string, timeoutMs: number, halfClose: boolean): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = createConnection({ path });
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new RuntimeError(`${path}: no answer within ${timeoutMs} ms`));
    }, timeoutMs);
    sock.on("connect", () => {
      sock.write(input);
      // The master CLI answers a non-interactive command when our side is closed.
      if (halfClose) sock.end();
    });
    sock.on("data", (d) => chunks.push(d));
    sock.on("error", (err) => {
      clearTimeout(timer);
      reject(new RuntimeError(`${path}: ${err.message}`));
    });
    sock.on("close", () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks).toString("utf8"));
    });
  });
}

const ERROR = /^(No such|Unknown command|Invalid|Require|Permission denied|Can't|Cannot|Failed|Missing|unknown|'set server)/m;

/** Runs commands in order over one connection; resolves with each command's answer. Rejects if any answer is an error, naming it. */
export async function runtimeCommands(path: string, cmds: readonly string[], timeoutMs = 5000): Promise<string[]> {
  if (cmds.length === 0) return [];
  for (const c of cmds) if (/[\n;]/.test(c)) throw new RuntimeError(`refusing a command with a newline or ';': ${JSON.stringify(c)}`);
  const out = await exchange(path, `prompt\n${cmds.join("\n")}\nquit\n`, timeoutMs, false);
  // "\n> " follows every command's answer: [prompt's, cmd1's, ..., cmdN's, quit's].
  const parts = out.split("\n> ").slice(1, cmds.length + 1);
  if (parts.length < cmds.length) throw new RuntimeError(`${path}: ${cmds.length - parts.length} of ${cmds.length} commands unanswered`);
  const bad = parts.findIndex((p) => ERROR.test(p.trim()));
  if (bad >= 0) throw new RuntimeError(`${cmds[bad] ?? "?"}: ${(parts[bad] ?? "").trim()}`);
  return parts;
}

/** One command on the master CLI. */
export function masterCommand(path: string, cmd: string, timeoutMs = 5000): Promise<string> {
  return exchange(path, `${cmd}\n`, timeoutMs, true);
}

export interface ProcInfo {
  readonly masterPid: number;
  /** Reloads the master did since it started (`show proc`). */
  readonly reloads: number;
  readonly failedReloads: number;
  readonly workers: readonly number[];
  readonly oldWorkers: readonly number[];
}

/** Parses the master CLI's `show proc` (HAProxy 2.6 layout). */
export function parseShowProc(text: string): ProcInfo | undefined {
  let section: "head" | "workers" | "old" | "programs" = "head";
  let master: { pid: number; reloads: number; failed: number } | undefined;
  const workers: number[] = [];
  const old: number[] = [];
  for (const line of text.split("\n")) {
    if (line.startsWith("# workers")) section = "workers";
    else if (line.startsWith("# old workers")) section = "old";
    else if (line.startsWith("# programs")) section = "programs";
    else if (/^\d+\s/.test(line)) {
      const cols = line.trim().split(/\s+/);
      const pid = Number(cols[0]);
      if (cols[1] === "master") {
        const failed = /\[failed: (\d+)\]/.exec(line);
        master = { pid, reloads: Number(cols[2]), failed: failed ? Number(failed[1]) : 0 };
      } else if (section === "workers") workers.push(pid);
      else if (section === "old") old.push(pid);
    }
  }
  return master ? { masterPid: master.pid, reloads: master.reloads, failedReloads: master.failed, workers, oldWorkers: old } : undefined;
}

export interface StatRow {
  readonly proxy: string;
  readonly server: string;
  readonly status: string;
  readonly scur: number;
  readonly stot: number;
  readonly bin: number;
  readonly bout: number;
  readonly ereq: number;
  readonly econ: number;
  readonly eresp: number;
  readonly hrsp: Readonly<Record<"1xx" | "2xx" | "3xx" | "4xx" | "5xx", number>>;
}

/** Parses `show stat` CSV. */
export function parseStat(csv: string): StatRow[] {
  const lines = csv.split("\n").filter((l) => l.length > 0);
  const header = (lines[0] ?? "").replace(/^# /, "").split(",");
  const col = (name: string) => header.indexOf(name);
  const idx = { px: col("pxname"), sv: col("svname"), status: col("status"), scur: col("scur"), stot: col("stot"), bin: col("bin"), bout: col("bout"), ereq: col("ereq"), econ: col("econ"), eresp: col("eresp"), h1: col("hrsp_1xx"), h2: col("hrsp_2xx"), h3: col("hrsp_3xx"), h4: col("hrsp_4xx"), h5: col("hrsp_5xx") };
  return lines.slice(1).map((l) => {
    const c = l.split(",");
    const n = (i: number) => (i >= 0 ? Number(c[i] ?? "") || 0 : 0);
    return {
      proxy: c[idx.px] ?? "",
      server: c[idx.sv] ?? "",
      status: c[idx.status] ?? "",
      scur: n(idx.scur),
      stot: n(idx.stot),
      bin: n(idx.bin),
      bout: n(idx.bout),
      ereq: n(idx.ereq),
      econ: n(idx.econ),
      eresp: n(idx.eresp),
      hrsp: { "1xx": n(idx.h1), "2xx": n(idx.h2), "3xx": n(idx.h3), "4xx": n(idx.h4), "5xx": n(idx.h5) },
    };
  });
}
