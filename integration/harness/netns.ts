// Plain network-namespace "hosts" for data-plane tests and benchmarks (stack.md §4.8,
// dataplane-lab.sh): one bridge namespace, N host namespaces each joined to it by a veth. Both
// ends of every link are created inside our namespaces, so nothing appears in the root namespace,
// and deleting the namespaces removes every link, address and nft table in them.
import { execFileSync, spawn, type ChildProcess, type SpawnOptions } from "node:child_process";
import { mustRun, runFile, runFileSyncQuiet, sleep, type RunResult } from "./shell.js";

export interface NetnsPlan {
  /** Host name (1–12 of [a-z0-9]) → address with prefix length inside the lab, e.g. { h1: "10.77.0.1/24" }. */
  hosts: Record<string, string>;
  /** Optional address of the bridge itself (the bridge namespace does not forward). */
  bridgeAddress?: string;
}

export interface NetnsLab {
  /** Unique per lab: `dn-<pid base36>-<n>`; every namespace name starts with it. */
  readonly prefix: string;
  readonly hosts: readonly string[];
  /** Namespace name of a host, or of the bridge with "bridge". */
  ns(host: string): string;
  /** A host's address without the prefix length. */
  ip(host: string): string;
  /** Starts a long-running process inside a host; it is killed by cleanup(). */
  run(host: string, cmd: string, args?: readonly string[], opts?: SpawnOptions): ChildProcess;
  /** Runs a command inside a host to completion. */
  exec(host: string, cmd: string, args?: readonly string[], opts?: { timeoutMs?: number }): Promise<RunResult>;
  /** Kills what runs in the lab (by PID) and deletes its namespaces. Safe to call twice. */
  cleanup(): Promise<void>;
}

const PREFIX_RE = /^dn-([0-9a-z]+)-([0-9a-z]+)-/;
let labCount = 0;
// Process-wide on purpose: exit and signal handlers are per process, and must see every open lab.
const openLabs = new Map<string, () => void>();

export async function createNetnsLab(plan: NetnsPlan): Promise<NetnsLab> {
  const hosts = Object.keys(plan.hosts);
  for (const h of hosts) if (!/^[a-z0-9]{1,12}$/.test(h) || h === "bridge") throw new Error(`bad host name ${JSON.stringify(h)}`);
  reapDeadLabs();
  const prefix = `dn-${process.pid.toString(36)}-${(labCount++).toString(36)}`;
  const ns = (h: string): string => `${prefix}-${h === "bridge" ? "br" : h}`;
  const children = new Set<ChildProcess>();
  const lab: NetnsLab = {
    prefix,
    hosts,
    ns,
    ip: (h) => (plan.hosts[h] ?? "").split("/")[0] ?? "",
    run: (h, cmd, args = [], opts = {}) => {
      const child = spawn("ip", ["netns", "exec", ns(h), cmd, ...args], { stdio: "ignore", ...opts });
      children.add(child);
      child.on("exit", () => children.delete(child));
      return child;
    },
    exec: (h, cmd, args = [], opts = {}) => runFile("ip", ["netns", "exec", ns(h), cmd, ...args], opts),
    cleanup: async () => {
      openLabs.delete(prefix);
      for (const c of children) if (c.pid) tryKill(c.pid, "SIGTERM");
      await sleep(children.size > 0 ? 200 : 0);
      cleanupSync(prefix, [...children]);
    },
  };
  openLabs.set(prefix, () => cleanupSync(prefix, [...children]));
  installExitHooks();
  try {
    await build(plan, ns);
  } catch (e) {
    await lab.cleanup();
    throw e;
  }
  return lab;
}

async function build(plan: NetnsPlan, ns: (h: string) => string): Promise<void> {
  const br = ns("bridge");
  await mustRun("ip", ["netns", "add", br]);
  await mustRun("ip", ["-n", br, "link", "set", "lo", "up"]);
  await mustRun("ip", ["-n", br, "link", "add", "br0", "type", "bridge"]);
  await mustRun("ip", ["-n", br, "link", "set", "br0", "up"]);
  if (plan.bridgeAddress) await mustRun("ip", ["-n", br, "addr", "add", plan.bridgeAddress, "dev", "br0"]);
  for (const [h, cidr] of Object.entries(plan.hosts)) {
    const hn = ns(h);
    await mustRun("ip", ["netns", "add", hn]);
    // Created inside the bridge namespace with the peer moved straight into the host's: never in the root netns.
    await mustRun("ip", ["-n", br, "link", "add", `v-${h}`, "type", "veth", "peer", "name", "eth0", "netns", hn]);
    await mustRun("ip", ["-n", br, "link", "set", `v-${h}`, "master", "br0", "up"]);
    await mustRun("ip", ["-n", hn, "link", "set", "lo", "up"]);
    await mustRun("ip", ["-n", hn, "link", "set", "eth0", "up"]);
    await mustRun("ip", ["-n", hn, "addr", "add", cidr, "dev", "eth0"]);
  }
}

/** Kills our children and anything else inside the lab's namespaces (all ours), then deletes them. */
function cleanupSync(prefix: string, children: ChildProcess[]): void {
  for (const c of children) if (c.pid) tryKill(c.pid, "SIGKILL");
  for (const name of listNamespaces().filter((n) => n.startsWith(`${prefix}-`))) {
    for (const pid of nsPids(name)) tryKill(pid, "SIGKILL");
    runFileSyncQuiet("ip", ["netns", "del", name]);
  }
}

/** Labs of processes that died without cleaning up (crash, SIGKILL) are recognised by the PID in their prefix. */
function reapDeadLabs(): void {
  const dead = new Set<string>();
  for (const name of listNamespaces()) {
    const m = PREFIX_RE.exec(name);
    if (!m?.[1]) continue;
    const pid = parseInt(m[1], 36);
    if (pid !== process.pid && !alive(pid)) dead.add(`dn-${m[1]}-${m[2]}`);
  }
  for (const prefix of dead) cleanupSync(prefix, []);
}

function listNamespaces(): string[] {
  try {
    return execFileSync("ip", ["netns", "list"], { encoding: "utf8" })
      .split("\n")
      .map((l) => l.split(" ")[0] ?? "")
      .filter(Boolean);
  } catch {
    return [];
  }
}

function nsPids(name: string): number[] {
  try {
    return execFileSync("ip", ["netns", "pids", name], { encoding: "utf8" }).split("\n").filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function tryKill(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

let hooksInstalled = false;

/** Best effort: a test that forgets cleanup(), or a run interrupted by a signal, still leaves no namespace. */
function installExitHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  const cleanAll = (): void => {
    for (const clean of openLabs.values()) clean();
    openLabs.clear();
  };
  process.once("exit", cleanAll);
  for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    const onSignal = (): void => {
      cleanAll();
      process.removeListener(sig, onSignal);
      // Keep the default outcome (death by that signal) unless someone else handles it.
      if (process.listenerCount(sig) === 0) process.kill(process.pid, sig);
    };
    process.on(sig, onSignal);
  }
}
