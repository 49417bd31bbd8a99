// The L4LB lab (issue 12): 3 "hosts" in network namespaces on one underlay bridge, each with a
// container bridge `dcbr` and K "containers" (namespaces with a veth into it), plain routes between
// hosts for every container subnet (dataplane.md §3 without the VXLAN overlay: the L4LB only needs
// the backends to be reachable), v4 and v6, a nats-server with JetStream in the underlay's bridge
// namespace, and helpers to run the real `dcnet node` / `dcnet ctl` inside the hosts, echo backends
// that say who they are, and client loops that count which backend answered.
//
// Address plan (only inside the lab's namespaces; nothing is attached to the root namespace):
//   underlay  10.78.0.N/24, fd00:78::N/64 on host hN; the bridge namespace holds .254 / ::fe, where
//             nats-server listens and the hosts' default routes point (it does not forward, so a
//             packet to an unprogrammed VIP is dropped there, but OUTPUT has a route for 11/8)
//   dcbr      9.0.N.1/24, fd09:0:N::1/64 on host hN; container hNcK is 9.0.N.(K+1), fd09:0:N::(K+1)
//   routes    on hN, 9.0.M.0/24 via 10.78.0.M and fd09:0:M::/64 via fd00:78::M for every M ≠ N
import { execFile, type ChildProcess } from "node:child_process";
import { isIP } from "node:net";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Task, TaskState } from "../../actors/catalogue/model.js";
import { createNetnsLab, type NetnsLab } from "../harness/netns.js";
import { natsServerBinary } from "../harness/nats-local.js";
import { mustRun, waitFor, WaitAborted, type RunResult } from "../harness/shell.js";
import { DCNET_BIN, isReady, spawnDcnet, type DcnetProcess } from "./dcnet-process.js";
import { parseDig, type DigResult } from "./dig.js";

const ECHO = fileURLToPath(new URL("../harness/l4lb-echo.mjs", import.meta.url));
const CLIENT = fileURLToPath(new URL("../harness/l4lb-client.mjs", import.meta.url));

/** Underlay: host N is `${UNDERLAY_V4}.N` and `${UNDERLAY_V6}N`. */
export const UNDERLAY_V4 = "10.78.0";
export const UNDERLAY_V6 = "fd00:78::";
/** The bridge namespace's addresses: nats-server, and the hosts' (non-forwarding) default gateway. */
export const GATEWAY_V4 = `${UNDERLAY_V4}.254`;
export const GATEWAY_V6 = `${UNDERLAY_V6}fe`;
export const NATS_PORT = 4222;
/** The container bridge on every host (dcos-net's is m-dcos; any name does for the L4LB). */
export const CONTAINER_BRIDGE = "dcbr";

/** Where something runs: a host's own namespace ("h2", host network) or a container ("h2c1"). */
export type Place = string;
export type Family = 4 | 6;

/** A free-form config tree merged into a node's config: objects merge key by key, anything else replaces, `null` deletes the key. */
export interface ConfigTree {
  readonly [key: string]: unknown;
}

export interface L4lbLabOptions {
  /** Hosts h1..hN, 1–9; default 3. */
  readonly hosts?: number;
  /** Containers per host, 0–20; default 2. */
  readonly containersPerHost?: number;
  /** dcnet cluster name; default "dcnet". */
  readonly cluster?: string;
  /** Port of every node's DNS server (on the host's underlay IP and 127.0.0.1); default 53. */
  readonly dnsPort?: number;
  /** Merged into every node's config (after the lab's defaults, before startNode's overrides). */
  readonly nodeConfig?: ConfigTree;
}

export interface BackendOptions {
  /** What the backend answers; also the default task id and name. */
  readonly name: string;
  readonly tcpPort?: number;
  readonly udpPort?: number;
  /** HTTP "NAME <peer>" (for ab / wrk / curl). */
  readonly httpPort?: number;
}

export interface TaskOptions {
  /** VIP labels per port of the backend, e.g. { tcp: ["/web:80"], udp: ["11.1.1.1:53"] }. */
  readonly tcp?: readonly string[];
  readonly udp?: readonly string[];
  readonly http?: readonly string[];
  /** Default: the backend's name. */
  readonly id?: string;
  /** Task name (DNS autoip names); default: the backend's name. */
  readonly name?: string;
  /** Default "marathon". */
  readonly framework?: string;
  /** Default "running". */
  readonly state?: TaskState;
  readonly healthy?: boolean;
}

export interface LabBackend {
  readonly name: string;
  readonly place: Place;
  readonly host: string;
  readonly ip4: string;
  readonly ip6: string;
  readonly tcpPort?: number;
  readonly udpPort?: number;
  readonly httpPort?: number;
  readonly pid: number;
  /**
   * The task model of this backend, as a native registration: on a container, taskIps are its v4
   * and v6 address and each port is a container port; on the host network, taskIps is the host's
   * address and each port a host port (dcos-net's backend rules, actors/catalogue/convert/vips.ts).
   */
  task(opts?: TaskOptions): Task;
  /** SIGTERM, and wait until it exited. */
  stop(): Promise<void>;
  /** SIGKILL (the kernel closes its sockets), and wait until it exited. */
  kill(): Promise<void>;
}

/** Where a client connects: an address, or a name resolved through a node's DNS (the client's own host's by default). */
export interface Target {
  readonly addr: string;
  readonly port: number;
  /** DNS server `ip:port` for a name; default: the node on the client's host. */
  readonly dns?: string;
  /** Record type for a name: 4 → A (default), 6 → AAAA. */
  readonly family?: Family;
}

export interface CountOptions {
  /** Connections (TCP) or exchanges (UDP); default 100, at most 1,000,000. */
  readonly n?: number;
  /** At once; default 16. */
  readonly concurrency?: number;
  /** Per connection or datagram; default 2000 ms. */
  readonly timeoutMs?: number;
  /** Whole run; default 60,000 ms. */
  readonly maxMs?: number;
  /** UDP only: every exchange from one socket (one source port: one conntrack flow). */
  readonly samePort?: boolean;
}

export interface CountResult {
  readonly addr: string;
  readonly ok: number;
  readonly failed: number;
  /** Every one of the n was tried (false: maxMs cut the run short). */
  readonly complete: boolean;
  /** Answers per backend name. */
  readonly counts: Readonly<Record<string, number>>;
  /** Failures per error code (ECONNREFUSED, ETIMEDOUT, ECONNRESET, EMPTY, ...). */
  readonly errors: Readonly<Record<string, number>>;
  readonly ms: number;
  /** udp-count --same-port: the one source port. */
  readonly sourcePort?: number;
  /** Set when the target name did not resolve. */
  readonly error?: string;
}

export interface ClientEvent {
  readonly event: "connected" | "broken" | "moved" | "failed" | "started";
  /** ms since the client started; `at` is epoch ms. */
  readonly t: number;
  readonly at: number;
  readonly backend?: string | null;
  readonly error?: string;
  readonly from?: string;
  readonly to?: string;
  readonly ms?: number;
  readonly exchanges?: number;
}

export interface HoldResult {
  readonly addr: string;
  /** The backend last heard from. */
  readonly backend: string | null;
  /** Answered pings after the first answer. */
  readonly exchanges: number;
  readonly moves: readonly ClientEvent[];
  readonly broken: { readonly t: number; readonly at: number; readonly error: string; readonly exchanges: number } | null;
  readonly ms: number;
}

export interface HoldHandle {
  /** The backend the connection reached. */
  readonly backend: string;
  events(): readonly ClientEvent[];
  /** Resolves with the first event of that kind (rejects after timeoutMs). */
  waitForEvent(kind: "broken" | "moved", timeoutMs?: number): Promise<ClientEvent>;
  /** Ends the client (if still running) and returns its summary. */
  stop(): Promise<HoldResult>;
}

export interface HoldOptions {
  /** Between pings on the connection; default 100 ms. */
  readonly intervalMs?: number;
  /** No answer within this long breaks the hold; default 2000 ms. */
  readonly timeoutMs?: number;
  /** Bound of the whole run; default 120,000 ms. */
  readonly maxMs?: number;
}

export interface LoopOptions {
  /** Workers opening connections one after another; default 1. */
  readonly concurrency?: number;
  /** Pause after each connection, per worker; default 0. */
  readonly intervalMs?: number;
  readonly timeoutMs?: number;
  /** Bounds: default 100,000 connections and 120,000 ms. */
  readonly n?: number;
  readonly maxMs?: number;
}

export interface LoopResult {
  readonly addr: string;
  readonly ok: number;
  readonly failed: number;
  readonly counts: Readonly<Record<string, number>>;
  readonly errors: Readonly<Record<string, number>>;
  /** Each failure with its time (first 1,000). */
  readonly failures: readonly ClientEvent[];
  /** Successful connections in each second since the start: a gap shows an outage without failures. */
  readonly okPerSecond: readonly number[];
  readonly startedAt: number;
  readonly ms: number;
}

export interface LoopHandle {
  /** Failures so far (printed by the client as they happen). */
  failures(): readonly ClientEvent[];
  /** SIGTERM: no new connection, the ones in flight finish (bounded by timeoutMs); the summary. */
  stop(): Promise<LoopResult>;
}

export interface L4lbLab {
  readonly net: NetnsLab;
  /** Every namespace of the lab starts with it (containers included). */
  readonly prefix: string;
  readonly hosts: readonly string[];
  readonly cluster: string;
  /** `nats://10.78.0.254:4222`, reachable from every host and container. */
  readonly natsUrl: string;
  readonly dnsPort: number;
  /** Temp folder of the lab (configs, JetStream store); removed by cleanup(). */
  readonly dir: string;
  /** Container places of a host: ["h1c1", "h1c2", ...]. */
  containers(host: string): readonly Place[];
  /** The host a place is on ("h2c1" → "h2"). */
  hostOf(place: Place): string;
  /** A host's underlay address or a container's own address. */
  ip(place: Place, family?: Family): string;
  /** Namespace name of a place (or "bridge"). */
  ns(place: Place | "bridge"): string;
  exec(place: Place, cmd: string, args?: readonly string[], opts?: { timeoutMs?: number; input?: string }): Promise<RunResult>;
  /** Long-running process in a place; killed by cleanup(). */
  run(place: Place, cmd: string, args?: readonly string[]): ChildProcess;
  /** An echo backend (integration/harness/l4lb-echo.mjs) on a host's network or in its container `where` (1-based); resolves once it listens. */
  backend(host: string, where: number | "host", opts: BackendOptions): Promise<LabBackend>;
  /** The config a host's node starts with (lab defaults, options.nodeConfig, then `overrides`). */
  nodeConfig(host: string, overrides?: ConfigTree): ConfigTree;
  /** `dcnet node` (bin/dcnet.js) inside the host; resolves at its ready line. Node id = host name. */
  startNode(host: string, overrides?: ConfigTree): Promise<DcnetProcess>;
  /** startNode on every host (or the given ones) at once, then waitForMembers. */
  startNodes(hosts?: readonly string[], overrides?: ConfigTree): Promise<void>;
  /** Until every running node sees every running node alive. */
  waitForMembers(timeoutMs?: number): Promise<void>;
  /** SIGTERM (SIGKILL after 5 s), then start again with the same config (overrides replace it if given). */
  restartNode(host: string, overrides?: ConfigTree): Promise<DcnetProcess>;
  /** SIGTERM, wait for the exit. */
  stopNode(host: string): Promise<void>;
  /** SIGKILL (a crash), wait for the exit. */
  killNode(host: string): Promise<void>;
  node(host: string): DcnetProcess | undefined;
  /** `dcnet ctl --nats <lab> --cluster <lab> --insecure <args>` inside the host; stdout, throws on a non-zero exit. */
  ctl(host: string, args: readonly string[], opts?: { input?: string; timeoutMs?: number }): Promise<string>;
  /** ctl with --json, parsed. */
  ctlJson<T>(host: string, args: readonly string[]): Promise<T>;
  /** `ctl --node <host> task add -` with the task as JSON: the host's node registers (and owns) it. */
  registerTask(host: string, task: Task, opts?: { ttlMs?: number }): Promise<void>;
  removeTask(host: string, id: string): Promise<void>;
  tcpCount(from: Place, target: Target, opts?: CountOptions): Promise<CountResult>;
  udpCount(from: Place, target: Target, opts?: CountOptions): Promise<CountResult>;
  /** One held connection; resolves once it reached a backend (rejects if it could not). */
  tcpHold(from: Place, target: Target, opts?: HoldOptions): Promise<HoldHandle>;
  /** Connections in a loop until stop(); resolves once the loop runs. */
  tcpLoop(from: Place, target: Target, opts?: LoopOptions): Promise<LoopHandle>;
  /** `dig` inside `from` against the node on from's host (or opts.server); one try, short timeouts. */
  dig(from: Place, name: string, type?: string, opts?: { server?: string; port?: number; tcp?: boolean }): Promise<DigResult>;
  /** `nft <args>` inside the host (with `input`: `nft -f -`); stdout, throws on a non-zero exit. */
  nft(host: string, args: readonly string[], opts?: { input?: string }): Promise<string>;
  /** Stops the nodes, kills every process of the lab by PID, deletes every namespace and the temp folder. Safe twice. */
  cleanup(): Promise<void>;
}

const PLACE_RE = /^h([1-9])(?:c([1-9][0-9]?))?$/;

function parsePlace(place: Place): { readonly host: number; readonly ctr?: number } {
  const m = PLACE_RE.exec(place);
  if (!m?.[1]) throw new Error(`bad place ${JSON.stringify(place)}: a host "hN" or a container "hNcK"`);
  return m[2] === undefined ? { host: Number(m[1]) } : { host: Number(m[1]), ctr: Number(m[2]) };
}

export function placeIp(place: Place, family: Family = 4): string {
  const p = parsePlace(place);
  if (p.ctr === undefined) return family === 4 ? `${UNDERLAY_V4}.${p.host}` : `${UNDERLAY_V6}${p.host}`;
  return family === 4 ? `9.0.${p.host}.${p.ctr + 1}` : `fd09:0:${p.host}::${(p.ctr + 1).toString(16)}`;
}

export function mergeConfig(base: ConfigTree, over: ConfigTree): ConfigTree {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) {
    if (v === undefined) continue;
    if (v === null) delete out[k];
    else if (isTree(v) && isTree(out[k])) out[k] = mergeConfig(out[k], v);
    else out[k] = v;
  }
  return out;
}

function isTree(v: unknown): v is ConfigTree {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Runs a program inside a namespace with NODE_OPTIONS cleared (jest's flags are not the child's business). */
function execIn(ns: string, file: string, args: readonly string[], opts: { timeoutMs?: number; input?: string } = {}): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = execFile("ip", ["netns", "exec", ns, file, ...args], { timeout: opts.timeoutMs ?? 30_000, maxBuffer: 64 * 1024 * 1024, env: { ...process.env, NODE_OPTIONS: "" } }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === "number" ? err.code : 1) : 0;
      resolve({ code, stdout: String(stdout), stderr: err && !stderr ? err.message : String(stderr) });
    });
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
}

async function must(ns: string, file: string, args: readonly string[], opts: { timeoutMs?: number; input?: string } = {}): Promise<string> {
  const r = await execIn(ns, file, args, opts);
  if (r.code !== 0) throw new Error(`[${ns}] ${file} ${args.join(" ")} exited ${r.code}: ${r.stderr.trim()}`);
  return r.stdout;
}

/** Collects a child's stdout as JSON lines (non-JSON lines are dropped) and wakes waiters. */
function jsonLines(child: ChildProcess): { readonly lines: Array<Record<string, unknown>>; readonly stderr: () => string; onLine(f: () => void): () => void } {
  const lines: Array<Record<string, unknown>> = [];
  const waiters = new Set<() => void>();
  let partial = "";
  let err = "";
  child.stdout?.on("data", (b: Buffer) => {
    partial += b.toString("utf8");
    const parts = partial.split("\n");
    partial = parts.pop() ?? "";
    for (const p of parts) {
      try {
        const v: unknown = JSON.parse(p);
        if (isTree(v)) lines.push(v as Record<string, unknown>);
      } catch {
        // not ours
      }
    }
    for (const w of waiters) w();
  });
  child.stderr?.on("data", (b: Buffer) => (err = (err + b.toString("utf8")).slice(-4000)));
  child.on("exit", () => {
    for (const w of waiters) w();
  });
  return {
    lines,
    stderr: () => err,
    onLine(f) {
      waiters.add(f);
      return () => waiters.delete(f);
    },
  };
}

const exitedOf = (c: ChildProcess): Promise<void> =>
  c.exitCode !== null || c.signalCode !== null ? Promise.resolve() : new Promise((r) => c.once("exit", () => r()));

function signal(c: ChildProcess, sig: NodeJS.Signals): void {
  if (c.exitCode === null && c.signalCode === null && c.pid !== undefined) {
    try {
      process.kill(c.pid, sig);
    } catch {
      // already gone
    }
  }
}

const gone = (c: ChildProcess): boolean => c.exitCode !== null || c.signalCode !== null;

export async function startL4lbLab(opts: L4lbLabOptions = {}): Promise<L4lbLab> {
  const nHosts = opts.hosts ?? 3;
  const nCtrs = opts.containersPerHost ?? 2;
  if (!Number.isInteger(nHosts) || nHosts < 1 || nHosts > 9) throw new RangeError(`hosts ${nHosts}: 1..9`);
  if (!Number.isInteger(nCtrs) || nCtrs < 0 || nCtrs > 20) throw new RangeError(`containersPerHost ${nCtrs}: 0..20`);
  const cluster = opts.cluster ?? "dcnet";
  const dnsPort = opts.dnsPort ?? 53;
  const hosts = Array.from({ length: nHosts }, (_, i) => `h${i + 1}`);
  reapDeadDirs();
  const dir = mkdtempSync(join(tmpdir(), `${DIR_PREFIX}${process.pid}-`));
  const removeDir = (): void => rmSync(dir, { recursive: true, force: true });
  process.once("exit", removeDir);
  const nodes = new Map<string, DcnetProcess>();
  const configs = new Map<string, ConfigTree>();
  let net: NetnsLab | undefined;
  let cleaned = false;

  const cleanup = async (): Promise<void> => {
    if (cleaned) return;
    cleaned = true;
    await Promise.all([...nodes.values()].map((p) => p.stop(2000).catch(() => undefined)));
    await net?.cleanup();
    removeDir();
    process.removeListener("exit", removeDir);
  };

  try {
    net = await createNetnsLab({ hosts: Object.fromEntries(hosts.map((h) => [h, `${placeIp(h)}/24`])), bridgeAddress: `${GATEWAY_V4}/24` });
    await build(net, hosts, nCtrs);
    await startNats(net, dir);
  } catch (e) {
    await cleanup();
    throw e;
  }
  const lab0 = net;
  const natsUrl = `nats://${GATEWAY_V4}:${NATS_PORT}`;
  const ns = (place: Place | "bridge"): string => (place === "bridge" ? lab0.ns("bridge") : (parsePlace(place), lab0.ns(place)));
  const hostOf = (place: Place): string => `h${parsePlace(place).host}`;
  const checkHost = (host: string): string => {
    if (!hosts.includes(host)) throw new Error(`no host ${JSON.stringify(host)} in this lab (${hosts.join(", ")})`);
    return host;
  };
  const checkPlace = (place: Place): Place => {
    const p = parsePlace(place);
    checkHost(`h${p.host}`);
    if (p.ctr !== undefined && p.ctr > nCtrs) throw new Error(`no container ${place}: ${nCtrs} per host`);
    return place;
  };

  const nodeConfig = (host: string, overrides: ConfigTree = {}): ConfigTree => {
    const ip = placeIp(checkHost(host));
    const defaults: ConfigTree = {
      id: host,
      cluster,
      nats: { servers: [natsUrl], insecure: true, reconnectWaitMs: 100 },
      log: { level: "info" },
      dns: { listen: [`${ip}:${dnsPort}`, `127.0.0.1:${dnsPort}`], thisnode: { ip } },
      metrics: { listen: "" },
      // As dns-cluster.test.ts: a dead node's facts go within the test, well above deadAfterMs.
      gossip: { deadGraceMs: 2000 },
      l4lb: { enabled: true, reconcileMs: 1000 },
    };
    return mergeConfig(mergeConfig(defaults, opts.nodeConfig ?? {}), overrides);
  };

  const startNode = async (host: string, overrides?: ConfigTree): Promise<DcnetProcess> => {
    checkHost(host);
    const running = nodes.get(host);
    if (running && !gone(running.child)) throw new Error(`a node already runs on ${host} (pid ${running.pid})`);
    const config = overrides === undefined ? (configs.get(host) ?? nodeConfig(host)) : nodeConfig(host, overrides);
    configs.set(host, config);
    const file = join(dir, `node-${host}.json`);
    writeFileSync(file, JSON.stringify(config, null, 2));
    const p = spawnDcnet(["node", "--config", file], {}, { prefix: ["ip", "netns", "exec", ns(host)] });
    nodes.set(host, p);
    await p.waitForLine(isReady, 30_000);
    return p;
  };

  const ctl = async (host: string, args: readonly string[], o: { input?: string; timeoutMs?: number } = {}): Promise<string> => {
    const r = await execIn(ns(checkHost(host)), process.execPath, [DCNET_BIN, "ctl", "--nats", natsUrl, "--cluster", cluster, "--insecure", ...args], { timeoutMs: o.timeoutMs ?? 20_000, ...(o.input === undefined ? {} : { input: o.input }) });
    if (r.code !== 0) throw new Error(`dcnet ctl ${args.join(" ")} (in ${host}) exited ${r.code}: ${r.stderr.trim() || r.stdout.trim()}`);
    return r.stdout;
  };
  const ctlJson = async <T>(host: string, args: readonly string[]): Promise<T> => JSON.parse(await ctl(host, ["--json", ...args])) as T;

  const waitForMembers = async (timeoutMs = 20_000): Promise<void> => {
    const up = [...nodes].filter(([, p]) => !gone(p.child)).map(([h]) => h);
    const want = [...up].sort().join(",");
    for (const h of up) {
      await waitFor(`${h} to see ${want} alive`, timeoutMs, async () => {
        const m = await ctlJson<{ members: Array<{ node: string; state: string }> }>(h, ["--node", h, "members"]);
        const alive = m.members.filter((x) => x.state === "alive").map((x) => x.node).sort().join(",");
        return alive === want ? true : undefined;
      }, 200);
    }
  };

  const stopNode = async (host: string): Promise<void> => {
    await nodes.get(host)?.stop(5000);
  };

  const clientArgs = (from: Place, mode: string, target: Target, flags: Record<string, number | boolean | undefined>): string[] => {
    const args = [CLIENT, mode, "--addr", target.addr, "--port", String(target.port)];
    if (isIP(target.addr) === 0) args.push("--dns", target.dns ?? `${placeIp(hostOf(from))}:${dnsPort}`);
    if (target.family === 6) args.push("--family", "6");
    for (const [k, v] of Object.entries(flags)) {
      if (v === undefined || v === false) continue;
      args.push(`--${k}`);
      if (v !== true) args.push(String(v));
    }
    return args;
  };

  const count = async (mode: "tcp-count" | "udp-count", from: Place, target: Target, o: CountOptions = {}): Promise<CountResult> => {
    const maxMs = o.maxMs ?? 60_000;
    const args = clientArgs(checkPlace(from), mode, target, { n: o.n, concurrency: o.concurrency, "timeout-ms": o.timeoutMs, "max-ms": maxMs, "same-port": o.samePort });
    const r = await execIn(ns(from), process.execPath, args, { timeoutMs: maxMs + 15_000 });
    const last = r.stdout.trim().split("\n").pop() ?? "";
    if (r.code !== 0 || !last.includes('"summary":true')) throw new Error(`${mode} from ${from} to ${target.addr}:${target.port} exited ${r.code}: ${r.stderr.trim()}`);
    return JSON.parse(last) as CountResult;
  };

  /** A client run in the background: its JSON lines as they come, and its summary at exit. */
  const background = (from: Place, args: readonly string[]) => {
    const child = lab0.run(checkPlace(from), process.execPath, args, { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, NODE_OPTIONS: "" } });
    const out = jsonLines(child);
    const summary = async (): Promise<Record<string, unknown>> => {
      await exitedOf(child);
      const s = out.lines.find((l) => l.summary === true);
      if (!s) throw new Error(`client in ${from} ended (${child.exitCode ?? child.signalCode}) without a summary: ${out.stderr().trim()}`);
      return s;
    };
    const events = (): ClientEvent[] => out.lines.filter((l) => typeof l.event === "string") as unknown as ClientEvent[];
    const waitEvent = (pred: (e: ClientEvent) => boolean, timeoutMs: number, what: string): Promise<ClientEvent> =>
      new Promise((resolve, reject) => {
        const check = (): void => {
          const hit = events().find(pred);
          if (hit) return done(() => resolve(hit));
          if (gone(child)) done(() => reject(new Error(`client in ${from} ended before ${what}: ${JSON.stringify(out.lines.at(-1) ?? {})} ${out.stderr().trim()}`)));
        };
        const timer = setTimeout(() => done(() => reject(new Error(`no ${what} from the client in ${from} within ${timeoutMs} ms; events: ${JSON.stringify(events())}`))), timeoutMs);
        const off = out.onLine(check);
        const done = (f: () => void): void => {
          clearTimeout(timer);
          off();
          f();
        };
        check();
      });
    const stop = async (): Promise<Record<string, unknown>> => {
      signal(child, "SIGTERM");
      const t = setTimeout(() => signal(child, "SIGKILL"), 15_000);
      try {
        return await summary();
      } finally {
        clearTimeout(t);
      }
    };
    return { events, waitEvent, stop };
  };

  const lab: L4lbLab = {
    net: lab0,
    prefix: lab0.prefix,
    hosts,
    cluster,
    natsUrl,
    dnsPort,
    dir,
    containers: (host) => Array.from({ length: nCtrs }, (_, i) => `${checkHost(host)}c${i + 1}`),
    hostOf,
    ip: (place, family = 4) => placeIp(checkPlace(place), family),
    ns,
    exec: (place, cmd, args = [], o = {}) => execIn(ns(checkPlace(place)), cmd, args, o),
    run: (place, cmd, args = []) => lab0.run(checkPlace(place), cmd, args),

    async backend(host, where, o) {
      const place = where === "host" ? checkHost(host) : checkPlace(`${host}c${where}`);
      if (o.tcpPort === undefined && o.udpPort === undefined && o.httpPort === undefined) throw new Error(`backend ${o.name}: give tcpPort, udpPort or httpPort`);
      const args = [ECHO, o.name];
      if (o.tcpPort !== undefined) args.push("--tcp", String(o.tcpPort));
      if (o.udpPort !== undefined) args.push("--udp", String(o.udpPort));
      if (o.httpPort !== undefined) args.push("--http", String(o.httpPort));
      const child = lab0.run(place, process.execPath, args, { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, NODE_OPTIONS: "" } });
      const out = jsonLines(child);
      await waitFor(`backend ${o.name} in ${place} to listen`, 10_000, async () => {
        if (out.lines.some((l) => l.ready === true)) return true;
        if (gone(child)) throw new WaitAborted(`backend ${o.name} in ${place} exited (${child.exitCode ?? child.signalCode}): ${out.stderr().trim()}`);
        return undefined;
      }, 20);
      const ip4 = placeIp(place, 4);
      const ip6 = placeIp(place, 6);
      const onHost = where === "host";
      const end = async (sig: NodeJS.Signals): Promise<void> => {
        signal(child, sig);
        await exitedOf(child);
      };
      return {
        name: o.name,
        place,
        host,
        ip4,
        ip6,
        ...(o.tcpPort === undefined ? {} : { tcpPort: o.tcpPort }),
        ...(o.udpPort === undefined ? {} : { udpPort: o.udpPort }),
        ...(o.httpPort === undefined ? {} : { httpPort: o.httpPort }),
        pid: child.pid ?? -1,
        task(t = {}) {
          const ports: Task["ports"] = [];
          const add = (name: string, protocol: "tcp" | "udp", port: number | undefined, vips: readonly string[] | undefined): void => {
            if (port === undefined) return;
            ports.push({ name, protocol, ...(onHost ? { hostPort: port } : { port }), vips: [...(vips ?? [])] });
          };
          add("tcp", "tcp", o.tcpPort, t.tcp);
          add("udp", "udp", o.udpPort, t.udp);
          add("http", "tcp", o.httpPort, t.http);
          return {
            id: t.id ?? o.name,
            name: t.name ?? o.name,
            framework: t.framework ?? "marathon",
            runtime: "native",
            agentIp: placeIp(host, 4),
            taskIps: onHost ? [placeIp(host, 4)] : [ip4, ip6],
            state: t.state ?? "running",
            ...(t.healthy === undefined ? {} : { healthy: t.healthy }),
            ports,
          };
        },
        stop: () => end("SIGTERM"),
        kill: () => end("SIGKILL"),
      };
    },

    nodeConfig,
    startNode,
    async startNodes(which = hosts, overrides) {
      await Promise.all(which.map((h) => startNode(h, overrides)));
      await this.waitForMembers();
    },
    waitForMembers,
    async restartNode(host, overrides) {
      await stopNode(host);
      return startNode(host, overrides);
    },
    stopNode,
    async killNode(host) {
      const p = nodes.get(host);
      if (!p) return;
      signal(p.child, "SIGKILL");
      await p.exited;
    },
    node: (host) => nodes.get(host),
    ctl,
    ctlJson,
    async registerTask(host, task, o = {}) {
      await ctl(host, ["--node", host, "task", "add", "-", ...(o.ttlMs === undefined ? [] : ["--ttl", String(o.ttlMs)])], { input: JSON.stringify(task) });
    },
    async removeTask(host, id) {
      await ctl(host, ["--node", host, "task", "rm", id]);
    },
    tcpCount: (from, target, o) => count("tcp-count", from, target, o),
    udpCount: (from, target, o) => count("udp-count", from, target, o),

    async tcpHold(from, target, o = {}) {
      const c = background(from, clientArgs(checkPlace(from), "tcp-hold", target, { "interval-ms": o.intervalMs, "timeout-ms": o.timeoutMs, "max-ms": o.maxMs ?? 120_000 }));
      let first: ClientEvent;
      try {
        first = await c.waitEvent((e) => e.event === "connected" || e.event === "broken", (o.timeoutMs ?? 2000) + 10_000, "a connection");
      } catch (e) {
        await c.stop().catch(() => undefined);
        throw e;
      }
      if (first.event !== "connected" || typeof first.backend !== "string") {
        await c.stop().catch(() => undefined);
        throw new Error(`tcp-hold from ${from} to ${target.addr}:${target.port} did not connect: ${first.error ?? JSON.stringify(first)}`);
      }
      return {
        backend: first.backend,
        events: c.events,
        waitForEvent: (kind, timeoutMs = 10_000) => c.waitEvent((e) => e.event === kind, timeoutMs, `a "${kind}" event`),
        stop: async () => (await c.stop()) as unknown as HoldResult,
      };
    },

    async tcpLoop(from, target, o = {}) {
      const c = background(from, clientArgs(checkPlace(from), "tcp-loop", target, { concurrency: o.concurrency, "interval-ms": o.intervalMs, "timeout-ms": o.timeoutMs, n: o.n, "max-ms": o.maxMs ?? 120_000 }));
      try {
        await c.waitEvent((e) => e.event === "started", 10_000, "the loop's start");
      } catch (e) {
        await c.stop().catch(() => undefined);
        throw e;
      }
      return {
        failures: () => c.events().filter((e) => e.event === "failed"),
        stop: async () => (await c.stop()) as unknown as LoopResult,
      };
    },

    async dig(from, name, type = "A", o = {}) {
      checkPlace(from);
      const server = o.server ?? placeIp(hostOf(from));
      const args = [`@${server}`, "-p", String(o.port ?? dnsPort), "+tries=1", "+time=2", ...(o.tcp ? ["+tcp"] : []), name, type];
      const r = await execIn(ns(from), "dig", args, { timeoutMs: 10_000 });
      // dig exits 9 when no server answered: the parsed result then says status NONE.
      return parseDig(r.stdout);
    },

    async nft(host, args, o = {}) {
      const full = o.input === undefined ? args : ["-f", "-", ...args];
      return must(ns(checkHost(host)), "nft", full, o.input === undefined ? {} : { input: o.input });
    },

    cleanup,
  };
  return lab;
}

const DIR_PREFIX = "dcnet-l4lb-lab-";

/** Temp folders of labs whose process died without cleaning up (SIGKILL): the owner's PID is in the name, as in netns.ts. */
function reapDeadDirs(): void {
  for (const name of readdirSync(tmpdir())) {
    const pid = Number(new RegExp(`^${DIR_PREFIX}(\\d+)-`).exec(name)?.[1] ?? Number.NaN);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    try {
      process.kill(pid, 0);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ESRCH") rmSync(join(tmpdir(), name), { recursive: true, force: true });
    }
  }
}

/** The topology: sysctls, v6 underlay, gateway, container bridges and containers, routes. */
async function build(net: NetnsLab, hosts: readonly string[], nCtrs: number): Promise<void> {
  const br = net.ns("bridge");
  // The bridge namespace is the hosts' default gateway but must not forward: a VIP packet nobody
  // DNATed dies there instead of leaving the lab. Explicit, in case new namespaces inherit forwarding.
  await must(br, "sysctl", ["-qw", "net.ipv4.ip_forward=0", "net.ipv6.conf.all.forwarding=0", "net.ipv6.conf.all.accept_dad=0", "net.ipv6.conf.default.accept_dad=0"]);
  await mustRun("ip", ["-n", br, "-6", "addr", "add", `${GATEWAY_V6}/64`, "dev", "br0", "nodad"]);
  await Promise.all(hosts.map((h) => buildHost(net, h, hosts, nCtrs)));
}

async function buildHost(net: NetnsLab, host: string, hosts: readonly string[], nCtrs: number): Promise<void> {
  const hn = net.ns(host);
  const n = parsePlace(host).host;
  // `ip -n` (setns only), not `ip netns exec ip`, whose private mount namespace would hide a
  // namespace created inside it.
  const ip = (...args: string[]): Promise<string> => mustRun("ip", ["-n", hn, ...args]);
  const cip = (cn: string, ...args: string[]): Promise<string> => mustRun("ip", ["-n", cn, ...args]);
  // ip_forward: the host routes between its containers, the underlay and (after DNAT) the backends.
  // accept_dad=0 / nodad: a tentative v6 address would make the first seconds of a test flaky.
  // tcp_tw_reuse=1: client loops open thousands of connections (the backend closes first anyway).
  await must(hn, "sysctl", ["-qw", "net.ipv4.ip_forward=1", "net.ipv6.conf.all.forwarding=1", "net.ipv6.conf.all.accept_dad=0", "net.ipv6.conf.default.accept_dad=0", "net.ipv6.conf.eth0.accept_dad=0", "net.ipv4.tcp_tw_reuse=1"]);
  // eth0 got its link-local address before accept_dad=0 (createNetnsLab brought it up): while that
  // address is tentative, v6 neighbour discovery through eth0 stalls for about a second, and the
  // first v6 connections of a test time out. Bringing eth0 down and up makes a fresh one, without DAD.
  await ip("link", "set", "eth0", "down");
  await ip("link", "set", "eth0", "up");
  await ip("-6", "addr", "add", `${placeIp(host, 6)}/64`, "dev", "eth0", "nodad");
  await ip("route", "add", "default", "via", GATEWAY_V4);
  await ip("-6", "route", "add", "default", "via", GATEWAY_V6);
  await ip("link", "add", CONTAINER_BRIDGE, "type", "bridge");
  await ip("addr", "add", `9.0.${n}.1/24`, "dev", CONTAINER_BRIDGE);
  await ip("-6", "addr", "add", `fd09:0:${n}::1/64`, "dev", CONTAINER_BRIDGE, "nodad");
  await ip("link", "set", CONTAINER_BRIDGE, "up");
  for (let k = 1; k <= nCtrs; k++) {
    const place = `${host}c${k}`;
    const cn = net.ns(place);
    const veth = `vc${k}`;
    // A namespace of the lab's prefix: the lab's cleanup (and a later run's reaping) deletes it.
    await mustRun("ip", ["netns", "add", cn]);
    await must(cn, "sysctl", ["-qw", "net.ipv6.conf.all.accept_dad=0", "net.ipv6.conf.default.accept_dad=0", "net.ipv4.tcp_tw_reuse=1"]);
    await cip(cn, "link", "set", "lo", "up");
    // Created inside the host with the peer straight in the container: never in the root namespace.
    await ip("link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", cn);
    await ip("link", "set", veth, "master", CONTAINER_BRIDGE, "up");
    // As CNI's hairpinMode: a backend reaching its own VIP gets its packet back out of its port.
    await ip("link", "set", veth, "type", "bridge_slave", "hairpin", "on");
    await cip(cn, "addr", "add", `${placeIp(place, 4)}/24`, "dev", "eth0");
    await cip(cn, "-6", "addr", "add", `${placeIp(place, 6)}/64`, "dev", "eth0", "nodad");
    await cip(cn, "link", "set", "eth0", "up");
    await cip(cn, "route", "add", "default", "via", `9.0.${n}.1`);
    await cip(cn, "-6", "route", "add", "default", "via", `fd09:0:${n}::1`);
  }
  for (const other of hosts) {
    if (other === host) continue;
    const m = parsePlace(other).host;
    await ip("route", "add", `9.0.${m}.0/24`, "via", placeIp(other, 4));
    await ip("-6", "route", "add", `fd09:0:${m}::/64`, "via", placeIp(other, 6));
  }
}

/** nats-server with JetStream in the bridge namespace, on the gateway address; resolves once it is ready. */
async function startNats(net: NetnsLab, dir: string): Promise<ChildProcess> {
  const conf = join(dir, "nats.conf");
  writeFileSync(
    conf,
    [
      `server_name: "l4lb-lab"`,
      `listen: "${GATEWAY_V4}:${NATS_PORT}"`,
      // As nats-local.ts: a dead client is noticed within ~2 s.
      `ping_interval: "1s"`,
      `ping_max: 2`,
      `jetstream { store_dir: "${join(dir, "js")}", max_memory_store: 64MB, max_file_store: 256MB }`,
    ].join("\n") + "\n",
  );
  const child = net.run("bridge", natsServerBinary(), ["-c", conf], { stdio: ["ignore", "pipe", "pipe"] });
  let log = "";
  const keep = (b: Buffer): void => {
    log = (log + b.toString("utf8")).slice(-8000);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  await waitFor("nats-server in the lab to be ready", 10_000, async () => {
    if (log.includes("Server is ready")) return true;
    if (gone(child)) throw new WaitAborted(`nats-server exited (${child.exitCode ?? child.signalCode}): ${log.slice(-2000)}`);
    return undefined;
  }, 25);
  return child;
}
