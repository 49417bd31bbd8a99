// Kernel side of bench/l4lb-sync: nft inside one of the bench's namespaces (the reference's runs,
// clearing tables between rounds, reading a table back) and the check that a namespace holds
// exactly a desired state. Never the root namespace: every command goes through `ip netns exec`.
import { execFile } from "node:child_process";
import { networkInterfaces } from "node:os";
import type { DesiredState, Family } from "../../actors/l4lb/model.js";
import { L4LB_TABLE } from "../../actors/l4lb/model.js";
import { compareKernel, parseKernel, renderCleanup, type ObservedKernel, type RenderOptions } from "../../actors/l4lb/index.js";

export const now = (): number => Number(process.hrtime.bigint()) / 1e6;

export interface Exec {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** `ip netns exec <ns> <argv>`; optional stdin; never throws on a non-zero exit. */
export function inNs(ns: string, argv: readonly string[], opts: { input?: string; timeoutMs?: number } = {}): Promise<Exec> {
  return new Promise((resolve) => {
    const child = execFile("ip", ["netns", "exec", ns, ...argv], { timeout: opts.timeoutMs ?? 60_000, maxBuffer: 512 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === "number" ? err.code : 1) : 0;
      resolve({ code, stdout: String(stdout), stderr: err && !stderr ? err.message : String(stderr) });
    });
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
}

export async function mustInNs(ns: string, argv: readonly string[], opts: { input?: string; timeoutMs?: number } = {}): Promise<string> {
  const r = await inNs(ns, argv, opts);
  if (r.code !== 0) throw new Error(`[${ns}] ${argv.join(" ")} exited ${r.code}: ${r.stderr.trim().slice(0, 2000)}`);
  return r.stdout;
}

/** The reference: `nft -f <file>` alone, timed from spawn to exit. */
export async function nftFile(ns: string, file: string): Promise<number> {
  const t0 = now();
  await mustInNs(ns, ["nft", "-f", file]);
  return now() - t0;
}

/** Both L4LB tables gone (untimed set-up between rounds). */
export async function clearTables(ns: string, table = L4LB_TABLE): Promise<void> {
  await mustInNs(ns, ["nft", "-f", "-"], { input: renderCleanup({ table }) });
}

async function listTable(ns: string, family: Family, table: string): Promise<ObservedKernel | undefined> {
  const r = await inNs(ns, ["nft", "-j", "list", "table", family, table], { timeoutMs: 120_000 });
  if (r.code !== 0) {
    if (/No such file or directory/.test(r.stderr)) return undefined;
    throw new Error(`[${ns}] nft -j list table ${family} ${table} exited ${r.code}: ${r.stderr.trim()}`);
  }
  const parsed = parseKernel(JSON.parse(r.stdout) as unknown);
  if ("problem" in parsed) throw new Error(`[${ns}] ${family} ${table} read back but not understood: ${parsed.problem}`);
  return parsed;
}

export interface KernelCheck {
  /** compareKernel's drift against the desired state: 0 = the kernel holds exactly it. */
  readonly drift: number;
  readonly full: boolean;
  readonly reasons: readonly string[];
  /** Every element of both families as nft text, sorted: equal on both sides = same kernel state. */
  readonly elements: readonly string[];
}

/** Reads both families' tables back and compares them with `desired`. */
export async function checkKernel(ns: string, desired: DesiredState, opts: RenderOptions): Promise<KernelCheck> {
  const ip = await listTable(ns, "ip", opts.table);
  const ip6 = await listTable(ns, "ip6", opts.table);
  const cmp = compareKernel({ ...(ip ? { ip } : {}), ...(ip6 ? { ip6 } : {}) }, desired, opts);
  const elements = [ip, ip6].flatMap((k) => (k ? k.elements.map((e) => `${k.family} ${e.set} ${e.key}${e.value === undefined ? "" : ` : ${e.value}`}`) : [])).sort();
  return { drift: cmp.drift, full: cmp.full, reasons: cmp.reasons, elements };
}

/** Same sorted element lists. */
export function sameElements(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** The addresses desiredState calls local, as the applier computes them (it runs in this process). */
export function localIps(): Set<string> {
  const out = new Set<string>();
  for (const list of Object.values(networkInterfaces())) for (const a of list ?? []) out.add(a.address);
  return out;
}
