// A private dockerd for the integration tests: its own data-root, exec-root, socket and pidfile
// under /tmp/dcnet-docker-<owner pid>, no iptables and no sysctl changes (stack.md §4.1), so the
// machine's network is the same after the run as before it.
//
// Every private engine uses docker0 with the same --bip, so one runs per machine at a time. The
// slot is a lock file naming the owner (the process whose lifetime the engine serves: jest's parent
// or .ci/run). A second run waits for the slot; a slot whose owner died is reclaimed, and its engine
// stopped and cleaned up.
import { spawn } from "node:child_process";
import { accessSync, closeSync, constants, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, unlinkSync, writeFileSync, writeSync } from "node:fs";
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
  /** True when this engine was started here and must be stopped by whoever holds this handle. */
  owned: boolean;
}

export interface StartOptions {
  /** Process the engine belongs to; when it dies, the next run reclaims the engine. Default: our parent. */
  ownerPid?: number;
  /** How long to wait for another run's engine to finish (default DCNET_ENGINE_WAIT_S or 600 s). */
  waitMs?: number;
  timeoutMs?: number;
}

const DIR_PREFIX = "dcnet-docker-";
const LOCK = "/tmp/dcnet-docker.lock";

export function engineDirOf(dockerHost: string): string {
  return socketPathOf(dockerHost).replace(/\/docker\.sock$/, "");
}

/** Reuses the engine named by DCNET_DOCKER_HOST if set (it must answer), else starts a private one. */
export async function ensureEngine(opts: StartOptions = {}): Promise<Engine> {
  const given = process.env[ENGINE_ENV];
  if (given) {
    const socketPath = socketPathOf(given);
    if (!(await pingEngine(socketPath))) throw new Error(`${ENGINE_ENV}=${given} does not answer /_ping`);
    return { dir: engineDirOf(given), dockerHost: given, socketPath, owned: false };
  }
  return startEngine(opts);
}

export async function startEngine(opts: StartOptions = {}): Promise<Engine> {
  if (process.getuid?.() !== 0) throw new Error("the private dockerd needs root (network namespaces, mounts)");
  const dockerd = findBinary("dockerd");
  if (!dockerd) throw new Error("dockerd not found: apt-get install -y docker.io");
  const owner = opts.ownerPid ?? process.ppid;
  const dir = `/tmp/${DIR_PREFIX}${owner}`;
  await acquireSlot(owner, dir, opts.waitMs ?? Number(process.env.DCNET_ENGINE_WAIT_S ?? 600) * 1000);
  // From here on the slot and the folder are ours: undo both on failure.
  try {
    // Holding the slot, every other engine folder is a leftover.
    for (const other of engineDirs().filter((d) => d !== dir)) await stopEngineIn(other);
    await claimBridges();
    return await launch(dockerd, dir, opts.timeoutMs ?? 30_000);
  } catch (e) {
    await cleanupEngineDir(dir);
    releaseSlot(dir);
    throw e;
  }
}

/** Removes test containers and networks, stops dockerd by PID, deletes docker0, mounts and the folder. */
export async function stopEngine(engine: Engine): Promise<void> {
  await stopEngineIn(engine.dir);
  releaseSlot(engine.dir);
}

async function launch(dockerd: string, dir: string, timeoutMs: number): Promise<Engine> {
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
    ...["--iptables=false", "--ip6tables=false", "--ip-forward=false", "--ip-masq=false", "--userland-proxy=false"],
    `--bip=${ENGINE_BIP}`,
    `--default-address-pool=base=${ENGINE_POOL},size=24`,
  ];
  const env = { ...process.env, PATH: `/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:${process.env.PATH ?? ""}` };
  // Not detached: a Ctrl-C on the test run reaches dockerd too, and the next run cleans up after it.
  const child = spawn(dockerd, args, { stdio: ["ignore", log, log], env });
  closeSync(log);
  let exited: string | undefined;
  child.on("exit", (code, signal) => (exited = `dockerd exited (${code ?? signal})`));
  child.unref();
  const deadline = Date.now() + timeoutMs;
  while (!(await pingEngine(socketPath))) {
    if (exited || Date.now() > deadline) {
      if (!exited) child.kill("SIGKILL");
      throw new Error(`${exited ?? "dockerd did not answer /_ping in time"}; log tail:\n${tail(join(dir, "dockerd.log"))}`);
    }
    await sleep(50);
  }
  return { dir, dockerHost: `unix://${socketPath}`, socketPath, owned: true };
}

async function stopEngineIn(dir: string): Promise<void> {
  const socketPath = join(dir, "docker.sock");
  if (await pingEngine(socketPath)) await removeLabelled(socketPath, TEST_LABEL).catch(() => undefined);
  const pid = readPid(join(dir, "dockerd.pid"));
  if (pid !== undefined && isDockerd(pid)) {
    process.kill(pid, "SIGTERM");
    if (!(await waitGone(pid, 20_000))) process.kill(pid, "SIGKILL");
    await waitGone(pid, 5_000);
  }
  await cleanupEngineDir(dir);
}

// ---------------------------------------------------------------- the one-engine slot

async function acquireSlot(owner: number, dir: string, waitMs: number): Promise<void> {
  const deadline = Date.now() + waitMs;
  let told = false;
  for (;;) {
    try {
      const fd = openSync(LOCK, "wx");
      writeSync(fd, `${owner} ${dir}\n`);
      closeSync(fd);
      return;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
    }
    const held = readSlot();
    if (!held || !isAlive(held.owner)) {
      // The owner died without stopping its engine (SIGKILL, crash): reclaim the slot.
      if (held) await stopEngineIn(held.dir);
      if (readFileSafe(LOCK) === held?.raw) rmSync(LOCK, { force: true });
      continue;
    }
    if (held.owner === owner) throw new Error(`process ${owner} already owns the private dockerd in ${held.dir}`);
    if (Date.now() > deadline) throw new Error(`the private dockerd of process ${held.owner} (${held.dir}) is still in use; set ${ENGINE_ENV}=unix://${held.dir}/docker.sock to share it`);
    if (!told) console.error(`[engine] waiting for the private dockerd of process ${held.owner} to be released`);
    told = true;
    await sleep(1_000);
  }
}

function releaseSlot(dir: string): void {
  if (readSlot()?.dir === dir) {
    try {
      unlinkSync(LOCK);
    } catch {
      // already released
    }
  }
}

function readSlot(): { owner: number; dir: string; raw: string } | undefined {
  const raw = readFileSafe(LOCK);
  const m = raw ? /^(\d+) (\S+)/.exec(raw) : null;
  return m?.[1] && m[2] && raw ? { owner: Number(m[1]), dir: m[2], raw } : undefined;
}

// ---------------------------------------------------------------- host state

/**
 * docker0 stays behind when dockerd exits, and br-<id> bridges when it died before removing its
 * networks. Only bridges carrying our addresses go; a docker0 of another dockerd stops us.
 */
async function claimBridges(): Promise<void> {
  const r = await runFile("ip", ["-4", "-o", "addr", "show", "dev", "docker0"]);
  if (r.code === 0 && !r.stdout.includes(` ${ENGINE_BIP} `)) throw new Error("docker0 exists and is not the private engine's (another dockerd on this host?)");
  await deleteEngineBridges();
}

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

/** Kills what still runs from the folder (containerd, shims), removes our bridges, unmounts, deletes. */
async function cleanupEngineDir(dir: string): Promise<void> {
  for (const pid of processesUsing(dir)) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
  await deleteEngineBridges();
  for (const m of mountsUnder(dir)) {
    if ((await runFile("umount", [m])).code !== 0) await runFile("umount", ["-l", m]);
  }
  if (existsSync(dir)) rmSync(dir, { recursive: true, force: true });
}

function engineDirs(): string[] {
  return readdirSync("/tmp")
    .filter((n) => n.startsWith(DIR_PREFIX))
    .map((n) => join("/tmp", n));
}

function processesUsing(dir: string): number[] {
  const pids: number[] = [];
  for (const p of readdirSync("/proc").filter((n) => /^\d+$/.test(n))) {
    const cmd = readFileSafe(`/proc/${p}/cmdline`) ?? "";
    if (cmd.includes(`${dir}/`) && Number(p) !== process.pid) pids.push(Number(p));
  }
  return pids;
}

/** Deepest first, so nested mounts come off before their parents. */
function mountsUnder(dir: string): string[] {
  const lines = readFileSync("/proc/self/mountinfo", "utf8").split("\n");
  const points = lines.map((l) => l.split(" ")[4] ?? "").filter((m) => m === dir || m.startsWith(`${dir}/`));
  return [...new Set(points)].sort((a, b) => b.length - a.length);
}

// ---------------------------------------------------------------- processes and files

function findBinary(name: string): string | undefined {
  const dirs = [...(process.env.PATH ?? "").split(":"), "/usr/sbin", "/usr/bin", "/usr/local/sbin", "/usr/local/bin"];
  for (const d of dirs.filter(Boolean)) {
    try {
      accessSync(join(d, name), constants.X_OK);
      return join(d, name);
    } catch {
      // try the next folder
    }
  }
  return undefined;
}

function readFileSafe(file: string): string | undefined {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
}

function readPid(file: string): number | undefined {
  const n = Number((readFileSafe(file) ?? "").trim());
  return Number.isInteger(n) && n > 0 ? n : undefined;
}

/** Alive and not a zombie: a dockerd we started stays our child until node reaps it. */
function isAlive(pid: number): boolean {
  const stat = readFileSafe(`/proc/${pid}/stat`);
  return stat !== undefined && !/^\d+ \(.*\) Z/.test(stat);
}

function isDockerd(pid: number): boolean {
  return isAlive(pid) && readFileSafe(`/proc/${pid}/comm`)?.trim() === "dockerd";
}

async function waitGone(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (isAlive(pid)) {
    if (Date.now() > deadline) return false;
    await sleep(50);
  }
  return true;
}

function tail(file: string): string {
  return (readFileSafe(file) ?? "(no log)").split("\n").slice(-15).join("\n");
}
