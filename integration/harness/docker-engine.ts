// A private dockerd for the integration tests: its own data-root, exec-root, socket and pidfile
// under /tmp/dcnet-docker-<pid>, no iptables and no sysctl changes (stack.md §4.1), so the
// machine's network is the same after the run as before it.
import { spawn } from "node:child_process";
import { accessSync, constants, closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pingEngine, removeLabelled, socketPathOf } from "./docker-api.js";
import { ENGINE_BIP, ENGINE_ENV, ENGINE_POOL, TEST_LABEL } from "./paths.js";
import { runFile, sleep } from "./shell.js";

export interface Engine {
  /** Folder holding data-root, exec-root, socket, pidfile and dockerd.log. */
  dir: string;
  /** `unix://<dir>/docker.sock`, the value for DOCKER_HOST. */
  dockerHost: string;
  socketPath: string;
  /** True when this process started dockerd and therefore must stop it. */
  owned: boolean;
}

const DIR_PREFIX = "dcnet-docker-";

export function engineDirOf(dockerHost: string): string {
  return socketPathOf(dockerHost).replace(/\/docker\.sock$/, "");
}

/** Points DOCKER_HOST (and testcontainers' settings) at the engine for this process and the workers it forks. */
export function exportEngineEnv(engine: Engine): void {
  process.env.DOCKER_HOST = engine.dockerHost;
  process.env.TESTCONTAINERS_RYUK_DISABLED = "true"; // Ryuk would need a registry pull
  process.env[ENGINE_ENV] = engine.dockerHost;
}

/** Reuses the engine named by DCNET_DOCKER_HOST if set (it must answer), else starts a private one. */
export async function ensureEngine(): Promise<Engine> {
  const given = process.env[ENGINE_ENV];
  if (given) {
    const socketPath = socketPathOf(given);
    if (!(await pingEngine(socketPath))) throw new Error(`${ENGINE_ENV}=${given} does not answer /_ping`);
    return { dir: engineDirOf(given), dockerHost: given, socketPath, owned: false };
  }
  return startEngine();
}

export async function startEngine(opts: { dir?: string; timeoutMs?: number } = {}): Promise<Engine> {
  if (process.getuid?.() !== 0) throw new Error("the private dockerd needs root (network namespaces, mounts)");
  const dockerd = findBinary("dockerd");
  if (!dockerd) throw new Error("dockerd not found: apt-get install -y docker.io");
  await reapStaleEngines();
  await claimDocker0();

  const dir = opts.dir ?? `/tmp/${DIR_PREFIX}${process.pid}`;
  mkdirSync(join(dir, "data"), { recursive: true });
  mkdirSync(join(dir, "exec"), { recursive: true });
  // An explicit empty config file keeps a host /etc/docker/daemon.json out of the run.
  writeFileSync(join(dir, "daemon.json"), "{}\n");
  const socketPath = join(dir, "docker.sock");
  const log = openSync(join(dir, "dockerd.log"), "a");
  const args = [
    `--config-file=${join(dir, "daemon.json")}`,
    `--data-root=${join(dir, "data")}`,
    `--exec-root=${join(dir, "exec")}`,
    `--host=unix://${socketPath}`,
    `--pidfile=${join(dir, "dockerd.pid")}`,
    "--iptables=false", "--ip6tables=false", "--ip-forward=false", "--ip-masq=false", "--userland-proxy=false",
    `--bip=${ENGINE_BIP}`,
    `--default-address-pool=base=${ENGINE_POOL},size=24`,
  ];
  const env = { ...process.env, PATH: `/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:${process.env.PATH ?? ""}` };
  // Not detached: a Ctrl-C on the test run reaches dockerd too, and the next start reaps what is left.
  const child = spawn(dockerd, args, { stdio: ["ignore", log, log], env });
  closeSync(log);
  let exited: string | undefined;
  child.on("exit", (code, signal) => (exited = `dockerd exited (${code ?? signal})`));
  child.unref();

  const deadline = Date.now() + (opts.timeoutMs ?? 30_000);
  while (!(await pingEngine(socketPath))) {
    if (exited || Date.now() > deadline) {
      const why = exited ?? "dockerd did not answer /_ping in time";
      if (child.pid && !exited) child.kill("SIGKILL");
      await cleanupEngineDir(dir);
      throw new Error(`${why}; log tail:\n${tail(join(dir, "dockerd.log"))}`);
    }
    await sleep(50);
  }
  return { dir, dockerHost: `unix://${socketPath}`, socketPath, owned: true };
}

/** Removes test containers and networks, stops dockerd by PID, then deletes docker0, mounts and the folder. */
export async function stopEngine(engine: Engine): Promise<void> {
  if (await pingEngine(engine.socketPath)) await removeLabelled(engine.socketPath, TEST_LABEL).catch(() => undefined);
  const pid = readPid(join(engine.dir, "dockerd.pid"));
  if (pid !== undefined && isDockerd(pid)) {
    process.kill(pid, "SIGTERM");
    if (!(await waitGone(pid, 20_000))) process.kill(pid, "SIGKILL");
    await waitGone(pid, 5_000);
  }
  await cleanupEngineDir(engine.dir);
}

function findBinary(name: string): string | undefined {
  const dirs = [...(process.env.PATH ?? "").split(":"), "/usr/sbin", "/usr/bin", "/usr/local/sbin", "/usr/local/bin"];
  for (const d of dirs) {
    const p = join(d, name);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // try the next folder
    }
  }
  return undefined;
}

function readPid(file: string): number | undefined {
  try {
    const n = Number(readFileSync(file, "utf8").trim());
    return Number.isInteger(n) && n > 0 ? n : undefined;
  } catch {
    return undefined;
  }
}

/** Alive and not a zombie: a dockerd we started is our child until node reaps it. */
function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return !/^\d+ \(.*\) Z/.test(stat);
  } catch {
    return false;
  }
}

function isDockerd(pid: number): boolean {
  try {
    return isAlive(pid) && readFileSync(`/proc/${pid}/comm`, "utf8").trim() === "dockerd";
  } catch {
    return false;
  }
}

async function waitGone(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (isAlive(pid)) {
    if (Date.now() > deadline) return false;
    await sleep(50);
  }
  return true;
}

/** Engine folders of earlier runs whose dockerd is gone (crash, Ctrl-C): unmount and delete them. */
async function reapStaleEngines(): Promise<void> {
  for (const name of readdirSync("/tmp").filter((n) => n.startsWith(DIR_PREFIX))) {
    const dir = join("/tmp", name);
    const pid = readPid(join(dir, "dockerd.pid"));
    if (pid !== undefined && isDockerd(pid)) continue;
    await cleanupEngineDir(dir);
  }
}

function liveEngines(): string[] {
  return readdirSync("/tmp")
    .filter((n) => n.startsWith(DIR_PREFIX))
    .filter((n) => {
      const pid = readPid(join("/tmp", n, "dockerd.pid"));
      return pid !== undefined && isDockerd(pid);
    })
    .map((n) => `unix:///tmp/${n}/docker.sock`);
}

/**
 * Every private engine uses docker0 with the same --bip, so only one can run per host. A docker0
 * carrying our address with no live engine is a leftover of ours and goes; anything else stops us.
 */
async function claimDocker0(): Promise<void> {
  const live = liveEngines();
  if (live.length > 0) throw new Error(`a private dockerd already runs; share it with ${ENGINE_ENV}=${live[0]}`);
  const r = await runFile("ip", ["-4", "-o", "addr", "show", "dev", "docker0"]);
  if (r.code === 0 && !r.stdout.includes(` ${ENGINE_BIP} `)) {
    throw new Error("docker0 exists and is not the private engine's (another dockerd on this host?)");
  }
  await deleteEngineBridges();
}

/** Kills leftovers that still run from the folder (containerd, shims), unmounts what is under it, removes it. */
async function cleanupEngineDir(dir: string): Promise<void> {
  for (const pid of processesUsing(dir)) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
  if (liveEngines().length === 0) await deleteEngineBridges();
  for (const m of mountsUnder(dir)) {
    if ((await runFile("umount", [m])).code !== 0) await runFile("umount", ["-l", m]);
  }
  if (existsSync(dir)) rmSync(dir, { recursive: true, force: true });
}

/** docker0 stays behind when dockerd exits, and br-<id> bridges when it died before removing networks. */
async function deleteEngineBridges(): Promise<void> {
  const pool = `${ENGINE_POOL.split(".").slice(0, 2).join(".")}.`;
  const r = await runFile("ip", ["-4", "-o", "addr", "show"]);
  for (const line of r.stdout.split("\n")) {
    const m = /^\d+:\s+(docker0|br-[0-9a-f]{12})\s+inet\s+(\S+)/.exec(line);
    if (!m?.[1] || !m[2]) continue;
    const ours = m[1] === "docker0" ? m[2] === ENGINE_BIP : m[2].startsWith(pool);
    if (ours) await runFile("ip", ["link", "del", m[1]]);
  }
}

function processesUsing(dir: string): number[] {
  const pids: number[] = [];
  for (const p of readdirSync("/proc").filter((n) => /^\d+$/.test(n))) {
    try {
      const cmd = readFileSync(`/proc/${p}/cmdline`, "utf8");
      if (cmd.includes(`${dir}/`) && Number(p) !== process.pid) pids.push(Number(p));
    } catch {
      // exited while we looked
    }
  }
  return pids;
}

/** Deepest first, so nested mounts come off before their parents. */
function mountsUnder(dir: string): string[] {
  const lines = readFileSync("/proc/self/mountinfo", "utf8").split("\n");
  const points = lines.map((l) => l.split(" ")[4] ?? "").filter((m) => m === dir || m.startsWith(`${dir}/`));
  return [...new Set(points)].sort((a, b) => b.length - a.length);
}

function tail(file: string): string {
  try {
    return readFileSync(file, "utf8").split("\n").slice(-15).join("\n");
  } catch {
    return "(no log)";
  }
}
