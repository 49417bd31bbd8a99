// The nft edge: runs one transaction (`nft -f -`) or reads one table back (`nft -j list table`).
// Verbs only, no policy: what to apply and when is the applier's and the reconciler's business.
import type { Family } from "../model.js";
import { NftMissingError, NftOutputError, NftRejectedError, NftTimeoutError } from "../errors.js";
import { execFailed, isSpawnFailure, runCommand, type RunResult } from "./run.js";

export interface NftOptions {
  /** argv prefix; default ["nft"]. Tests: ["ip", "netns", "exec", ns, "nft"]. */
  readonly command?: readonly string[];
  /** Default 10 s. A 10,000-VIP full load takes ~1 s. */
  readonly timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 10_000;

async function run(args: readonly string[], opts: NftOptions, input?: string): Promise<RunResult> {
  const command = opts.command ?? ["nft"];
  const binary = command[command.length - 1] ?? "nft";
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  let r: RunResult;
  try {
    r = await runCommand([...command, ...args], { timeoutMs, ...(input === undefined ? {} : { input }) });
  } catch (e) {
    if (isSpawnFailure(e)) throw new NftMissingError(binary, { cause: e });
    throw e;
  }
  if (r.timedOut) throw new NftTimeoutError(timeoutMs);
  if (r.code !== 0 && execFailed(r.stderr)) throw new NftMissingError(binary);
  return r;
}

/** Applies one nft transaction (all of it or nothing). Throws NftRejectedError with nft's message. */
export async function nftApply(text: string, opts: NftOptions = {}): Promise<void> {
  const r = await run(["-f", "-"], opts, text);
  if (r.code !== 0) throw new NftRejectedError(r.code ?? -1, r.stderr);
}

/** `nft -j list table <family> <table>` parsed; undefined when the table does not exist. */
export async function nftListTable(family: Family, table: string, opts: NftOptions = {}): Promise<unknown> {
  const r = await run(["-j", "list", "table", family, table], opts);
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
