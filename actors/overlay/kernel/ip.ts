// The overlay's kernel edge: runs a batch (`ip -force -batch -`, `bridge -force -batch -`) or reads
// the state back (`ip -j …`, `bridge -j fdb show`). Verbs only, no policy: what to apply and when is
// the applier's business. Why -force and which refusals count as success: render/ops.ts.
import { CNI_BRIDGE, DIRECT_ROUTE_PROTO, DOCKER_BRIDGE, VTEP_DEVICE } from "../model.js";
import { IpBatchError, IpListingError, IpTimeoutError, IpToolMissingError, type BatchFailure } from "../errors.js";
import { parseOverlay, type ObservedOverlay } from "../render/readback.js";
import { execFailed, isSpawnFailure, runCommand, type RunResult } from "../../../host/run.js";

export interface IpOptions {
  /** argv prefix before `ip`/`bridge`; default none. Tests: ["ip", "netns", "exec", ns]. */
  readonly command?: readonly string[];
  /** Default 10 s per process. */
  readonly timeoutMs?: number;
}

export interface BatchResult {
  /** Lines sent. */
  readonly lines: number;
  /** Lines the kernel refused because their goal already held (add of an existing link, delete of a gone entry). */
  readonly already: readonly BatchFailure[];
}

const DEFAULT_TIMEOUT_MS = 10_000;

async function run(tool: "ip" | "bridge", args: readonly string[], opts: IpOptions, input?: string): Promise<RunResult> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  let r: RunResult;
  try {
    r = await runCommand([...(opts.command ?? []), tool, ...args], { timeoutMs, ...(input !== undefined ? { input } : {}) });
  } catch (e) {
    if (isSpawnFailure(e)) throw new IpToolMissingError(opts.command?.[0] ?? tool, { cause: e });
    throw e;
  }
  if (r.timedOut) throw new IpTimeoutError(tool, timeoutMs);
  if (r.code !== 0 && execFailed(r.stderr)) throw new IpToolMissingError(tool);
  return r;
}

/** Runs `ip -force -batch -`. Throws IpBatchError when a line was refused for a reason other than "already so". */
export function ipBatch(text: string, opts: IpOptions = {}): Promise<BatchResult> {
  return batch("ip", text, opts);
}

/** Runs `bridge -force -batch -` (FDB lines). Run it after the ip batch of the same change. */
export function bridgeBatch(text: string, opts: IpOptions = {}): Promise<BatchResult> {
  return batch("bridge", text, opts);
}

async function batch(tool: "ip" | "bridge", text: string, opts: IpOptions): Promise<BatchResult> {
  const lines = text.split("\n").filter((l) => l.trim() !== "");
  if (lines.length === 0) return { lines: 0, already: [] };
  const r = await run(tool, ["-force", "-batch", "-"], opts, `${lines.join("\n")}\n`);
  const outcome = batchOutcome(lines, r.code ?? -1, r.stderr);
  if (outcome.failures.length > 0 || outcome.aborted !== undefined) throw new IpBatchError(tool, outcome.failures, outcome.aborted, r.code ?? -1);
  return { lines: lines.length, already: outcome.already };
}

/**
 * What a `-force -batch` run's stderr says, line by line: iproute2 prints a line's messages, then
 * `Command failed -:N`. Messages after the last marker of a run that failed mean it stopped there
 * (`ip neigh` exits on an error even with -force).
 */
export function batchOutcome(lines: readonly string[], code: number, stderr: string): { failures: BatchFailure[]; already: BatchFailure[]; aborted: string | undefined } {
  const failures: BatchFailure[] = [];
  const already: BatchFailure[] = [];
  let pending: string[] = [];
  for (const raw of stderr.split("\n")) {
    const l = raw.trim();
    if (l === "") continue;
    const m = /^Command failed -:(\d+)$/.exec(l);
    if (!m) {
      pending.push(l);
      continue;
    }
    const line = Number(m[1]);
    const f: BatchFailure = { line, command: lines[line - 1] ?? "?", message: pending.join(" / ") || "(no message)" };
    (alreadySo(f.command, f.message) ? already : failures).push(f);
    pending = [];
  }
  const aborted = code !== 0 && pending.length > 0 ? pending.join(" / ") : code !== 0 && failures.length === 0 && already.length === 0 ? `exit code ${code}, no message` : undefined;
  return { failures, already, aborted };
}

const GONE = /No such file or directory|No such process|Cannot find device|Cannot assign requested address/;

/** The kernel refused a line whose goal already holds: an add of a link that exists, a delete of something gone. */
export function alreadySo(command: string, message: string): boolean {
  if (/^link add /.test(command)) return /File exists/.test(message);
  if (/^(link|addr|route|fdb|neigh) (del|flush) /.test(command)) return GONE.test(message);
  return false;
}

export interface ReadOptions extends IpOptions {
  /** Default vtep1024. */
  readonly vtep?: string;
  /** Default m-dcos, d-dcos. */
  readonly bridges?: readonly string[];
  /** The underlay device, whose routes of DIRECT_ROUTE_PROTO are the overlay's (direct routing); not listed when absent. */
  readonly underlay?: string;
}

/**
 * The overlay's kernel state: the VTEP and the bridges (`ip -j -d addr show dev …`), the VTEP's
 * neighbours (both families), FDB and routes (both families), and with `underlay` that device's
 * overlay routes (both families); up to nine small processes at once.
 * A device that does not exist is read as absent (and its entries as none), not as an error.
 */
export async function readOverlay(opts: ReadOptions = {}): Promise<ObservedOverlay> {
  const vtep = opts.vtep ?? VTEP_DEVICE;
  const devices = [vtep, ...(opts.bridges ?? [CNI_BRIDGE, DOCKER_BRIDGE])];
  const under = opts.underlay;
  const proto = String(DIRECT_ROUTE_PROTO);
  const [links, neigh, fdb, routes, routes6, uRoutes, uRoutes6] = await Promise.all([
    Promise.all(devices.map((d) => listing("ip", ["-j", "-d", "addr", "show", "dev", d], opts))),
    listing("ip", ["-j", "neigh", "show", "dev", vtep], opts),
    listing("bridge", ["-j", "fdb", "show", "dev", vtep], opts),
    listing("ip", ["-j", "route", "show", "dev", vtep], opts),
    listing("ip", ["-j", "-6", "route", "show", "dev", vtep], opts),
    under ? listing("ip", ["-j", "route", "show", "dev", under, "proto", proto], opts) : undefined,
    under ? listing("ip", ["-j", "-6", "route", "show", "dev", under, "proto", proto], opts) : undefined,
  ]);
  const none = (v: unknown): unknown => (v === undefined ? [] : v);
  return parseOverlay({
    links: new Map(devices.map((d, i) => [d, links[i]])),
    vtep,
    neigh: none(neigh),
    fdb: none(fdb),
    routes: none(routes),
    routes6: none(routes6),
    ...(under ? { underlay: { dev: under, routes: none(uRoutes), routes6: none(uRoutes6) } } : {}),
  });
}

/** One listing parsed; undefined when its device does not exist. */
async function listing(tool: "ip" | "bridge", args: readonly string[], opts: IpOptions): Promise<unknown> {
  const r = await run(tool, args, opts);
  const what = `${tool} ${args.join(" ")}`;
  if (r.code !== 0) {
    if (/does not exist|Cannot find device/.test(r.stderr)) return undefined;
    throw new IpListingError(what, `exited ${r.code ?? "on a signal"}: ${r.stderr.trim().slice(0, 300) || "(no message)"}`);
  }
  // iproute2 prints nothing at all for some empty listings.
  if (r.stdout.trim() === "") return [];
  try {
    return JSON.parse(r.stdout) as unknown;
  } catch (e) {
    throw new IpListingError(what, `printed ${r.stdout.length} bytes that are not JSON`, { cause: e });
  }
}
