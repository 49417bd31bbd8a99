// The nft edge: runs one transaction (`nft -f -`) or reads one table back (`nft -j list table`).
// Verbs only, no policy: what to apply and when is the applier's and the reconciler's business.
// Two backends answer alike: libnftables in this process (libnft.ts: no process per change) and the
// nft binary (a child process, which a command prefix can wrap in `ip netns exec`); nftPlan picks.
import type { Family } from "../model.js";
import { NftMissingError, NftOutputError, NftRejectedError, NftTimeoutError } from "../errors.js";
import { LIBNFTABLES, sharedLibNft } from "./libnft.js";
import { execFailed, isSpawnFailure, runCommand, type RunResult } from "../../../host/run.js";

/**
 * `auto` (default): with the plain `nft` (or no command), transactions run in process through
 * libnftables and read-backs run the binary, each falling back to the other when it is missing.
 * `lib`: both in process, or NftMissingError. `cli`: both through the binary.
 */
export type NftBackend = "auto" | "lib" | "cli";

export interface NftOptions {
  /**
   * argv prefix; default ["nft"]. Tests: ["ip", "netns", "exec", ns, "nft"]. A command of more than
   * one word always runs the binary, whatever `backend` says: the prefix moves nft into another
   * namespace, which the library cannot follow (it runs on a thread pool of this process).
   */
  readonly command?: readonly string[];
  /** Default 10 s. A 10,000-VIP full load takes ~1 s. */
  readonly timeoutMs?: number;
  /** Default "auto". */
  readonly backend?: NftBackend;
}

const DEFAULT_TIMEOUT_MS = 10_000;

/** What nft was asked: `nft -f -` of a transaction, or `nft -j list table`. */
type NftRequest = { readonly kind: "apply"; readonly text: string } | { readonly kind: "list"; readonly family: Family; readonly table: string };

/**
 * The backends to try for one request, in order; the first one present answers. Why `auto` reads
 * back through the binary: at 10,000 VIPs a listing takes ~0.6 s either way (mostly JSON, printed
 * and parsed), and in process it would hold the one libnftables context (libnft.ts), and so every
 * change queued behind it, for that long — the reconciler reads back every 30 s. A process runs
 * beside the context instead. A transaction is where the process start costs: ~20 ms of a change
 * that takes ~1 ms in process.
 */
export function nftPlan(kind: NftRequest["kind"], opts: NftOptions): readonly ("lib" | "cli")[] {
  const backend = opts.backend ?? "auto";
  if (backend === "cli" || (opts.command !== undefined && opts.command.length > 1)) return ["cli"];
  if (backend === "lib") return ["lib"];
  // A binary other than the plain `nft` (a path, a wrapper) was chosen on purpose: auto honours it.
  if (opts.command !== undefined && opts.command[0] !== "nft") return ["cli"];
  return kind === "apply" ? ["lib", "cli"] : ["cli", "lib"];
}

export interface NftBackendsInUse {
  readonly apply: "lib" | "cli";
  readonly list: "lib" | "cli";
  /** Why libnftables is not used where the plan would have it (it did not load). */
  readonly libUnavailable?: string;
}

/**
 * Which backend answers each verb for these options, loading libnftables if the plan has it: one
 * line for a log at start (an `auto` that fell back to the binary is slower, not broken). Whether
 * the binary is present is not checked here: its first run says so.
 */
export async function nftBackendsInUse(opts: NftOptions): Promise<NftBackendsInUse> {
  const plans = { apply: nftPlan("apply", opts), list: nftPlan("list", opts) };
  if (!plans.apply.includes("lib") && !plans.list.includes("lib")) return { apply: "cli", list: "cli" };
  const lib = await sharedLibNft();
  const pick = (plan: readonly ("lib" | "cli")[]) => plan.find((b) => b === "cli" || lib.ok) ?? "lib";
  return { apply: pick(plans.apply), list: pick(plans.list), ...(lib.ok ? {} : { libUnavailable: lib.error.message }) };
}

async function run(req: NftRequest, opts: NftOptions): Promise<RunResult> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  let missing: NftMissingError | undefined;
  for (const backend of nftPlan(req.kind, opts)) {
    let r: RunResult;
    if (backend === "lib") {
      const lib = await sharedLibNft();
      if (!lib.ok) {
        missing ??= new NftMissingError(LIBNFTABLES, { cause: lib.error });
        continue;
      }
      r = req.kind === "apply" ? await lib.nft.apply(req.text, timeoutMs) : await lib.nft.command(`list table ${req.family} ${req.table}`, { json: true, timeoutMs });
    } else {
      try {
        r = await runCli(req, opts.command ?? ["nft"], timeoutMs);
      } catch (e) {
        if (!(e instanceof NftMissingError)) throw e;
        // The binary's own words say more than the library's when neither is there.
        missing = e;
        continue;
      }
    }
    if (r.timedOut) throw new NftTimeoutError(timeoutMs);
    return r;
  }
  throw missing ?? new NftMissingError("nft");
}

async function runCli(req: NftRequest, command: readonly string[], timeoutMs: number): Promise<RunResult> {
  const binary = command[command.length - 1] ?? "nft";
  const args = req.kind === "apply" ? ["-f", "-"] : ["-j", "list", "table", req.family, req.table];
  let r: RunResult;
  try {
    r = await runCommand([...command, ...args], { timeoutMs, ...(req.kind === "apply" ? { input: req.text } : {}) });
  } catch (e) {
    if (isSpawnFailure(e)) throw new NftMissingError(binary, { cause: e });
    throw e;
  }
  if (!r.timedOut && r.code !== 0 && execFailed(r.stderr)) throw new NftMissingError(binary);
  return r;
}

/** Applies one nft transaction (all of it or nothing). Throws NftRejectedError with nft's message. */
export async function nftApply(text: string, opts: NftOptions = {}): Promise<void> {
  const r = await run({ kind: "apply", text }, opts);
  if (r.code !== 0) throw new NftRejectedError(r.code ?? -1, r.stderr);
}

/** `nft -j list table <family> <table>` parsed; undefined when the table does not exist. */
export async function nftListTable(family: Family, table: string, opts: NftOptions = {}): Promise<unknown> {
  const r = await run({ kind: "list", family, table }, opts);
  if (r.code !== 0) {
    if (/No such file or directory/.test(r.stderr)) return undefined;
    throw new NftRejectedError(r.code ?? -1, r.stderr);
  }
  try {
    return JSON.parse(r.stdout) as unknown;
  } catch (e) {
    throw new NftOutputError(`a listing of ${family} ${table} (${r.stdout.length} bytes)`, { cause: e });
  }
}
