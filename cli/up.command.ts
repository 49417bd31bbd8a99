// `dcnet up`: the one-command local cluster of one. Makes throwaway credentials (a CA, the server's
// certificate, the node's, and an admin one `dcnet ctl` finds: cli/up-creds.ts), starts nats-server as
// a child requiring them (TLS, users; JetStream on, data in a temp dir), then a node connected to it;
// a signal stops the node, then the server, and removes the credentials. `--insecure`: no TLS, no users.
import { NODE_GRANTS } from "./creds.command.js";
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, delimiter } from "node:path";
import { connect as tcpConnect } from "node:net";
import { Option, type Command } from "commander";
import { LOG_LEVELS } from "../config/index.js";
import { startNode, type NodeHandle } from "../actors/node/index.js";
import { AuthError, initCredsDir, issue, renderServerConfig } from "../transport/auth/index.js";
import type { Config } from "../config/index.js";
import { configOrExit, isStartRefusal, listenerOptions, runUntilDone, type NodeFlags } from "./node.command.js";
import { UP_ADMIN, upCredsDir } from "./up-creds.js";

export interface UpFlags extends NodeFlags {
  natsPort: string;
}

/** `dcnet up` on the program (cli/main.ts imports this module only when that command runs). */
export function registerUp(program: Command, description: string): void {
  const cmd = program
    .command("up")
    .description(description)
    .option("--nats-port <port>", "client port of the local nats-server", "4222")
    .option("--id <node-id>", "node id", "local")
    .option("--cluster <name>", "cluster name")
    .option("--config <file>", "config file, YAML or JSON")
    .addOption(new Option("--log-level <level>", "log level").choices(LOG_LEVELS))
    .option("--insecure", "no TLS, no credentials: a nats-server anyone on this machine can use as any node or admin")
    .action(async (opts: UpFlags) => {
      process.exitCode = await runUpCommand(opts);
    });
  listenerOptions(cmd);
}

/** DCNET_NATS_SERVER names the binary explicitly; otherwise PATH and the usual sbin folders. */
export function findNatsServer(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.DCNET_NATS_SERVER) return existsSync(env.DCNET_NATS_SERVER) ? env.DCNET_NATS_SERVER : undefined;
  const dirs = [...(env.PATH ?? "").split(delimiter), "/usr/sbin", "/usr/local/sbin", "/usr/local/bin", "/usr/bin"];
  return dirs.map((dir) => join(dir, "nats-server")).find((p) => p.startsWith("/") && existsSync(p));
}

export async function runUpCommand(flags: UpFlags): Promise<number> {
  const port = Number(flags.natsPort);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    console.error(`dcnet: --nats-port must be a port number, got "${flags.natsPort}"`);
    return 2;
  }
  // The node is alone by construction (its nats-server is started just now, with an empty data dir), so
  // waiting the default 2 s for peers to answer its initial gossip sync would only delay "ready".
  const config = await configOrExit({ ...flags, nats: `nats://127.0.0.1:${port}` });
  if (!config) return 2;
  if (!flags.insecure && config.id === UP_ADMIN) {
    console.error(`dcnet: the node id "${UP_ADMIN}" is taken by the admin credential dcnet up makes for dcnet ctl; pick another --id`);
    return 2;
  }
  const bin = findNatsServer();
  if (!bin) {
    console.error(`dcnet: nats-server not found${process.env.DCNET_NATS_SERVER ? ` at ${process.env.DCNET_NATS_SERVER}` : ""}. Install it with: sudo apt-get install -y nats-server (Debian/Ubuntu), or put nats-server on PATH`);
    return 1;
  }
  const dataDir = mkdtempSync(join(tmpdir(), "dcnet-up-"));
  const credsDir = upCredsDir(port);
  let server: ChildProcess | undefined;
  let ownsCreds = false;
  const cleanup = async () => {
    if (server) await stopChild(server);
    rmSync(dataDir, { recursive: true, force: true });
    // Throwaway: the CA and every key die with this cluster of one.
    if (ownsCreds) rmSync(credsDir, { recursive: true, force: true });
  };
  const start = async (): Promise<NodeHandle> => {
    // The folder belongs to whoever serves this port: if someone does, it is theirs, not ours to replace.
    if (await canConnect(port)) throw new NatsServerStartError(`127.0.0.1:${port} is in use (another dcnet up?); pick another --nats-port`);
    // A folder left by an earlier run that was killed would mislead `dcnet ctl`: gone either way.
    ownsCreds = true;
    rmSync(credsDir, { recursive: true, force: true });
    const secured = flags.insecure ? undefined : await throwawayCreds(credsDir, config, port, dataDir);
    const args = secured ? ["-c", secured.serverConfig] : ["-a", "127.0.0.1", "-p", String(port), "-js", "-sd", dataDir, "-n", serverName(config)];
    server = spawn(bin, args, { stdio: ["ignore", "ignore", "pipe"] });
    try {
      await waitForPort(port, server, 10_000);
    } catch (err) {
      throw new NatsServerStartError(`nats-server did not start on 127.0.0.1:${port}: ${(err as Error).message}`);
    }
    // Its own credential, or (--insecure) none at all, whatever the environment says.
    const { credentials: _elsewhere, ...nats } = config.nats;
    return startNode({ ...config, nats: secured ? { ...nats, credentials: secured.nodeCredential, insecure: false } : { ...nats, insecure: true } });
  };
  try {
    return await runUntilDone(start, cleanup);
  } catch (err) {
    // Whatever failed, the nats-server child is not left behind.
    await cleanup();
    if (isStartRefusal(err)) {
      console.error(`dcnet: ${err.message}`);
      return 2;
    }
    // The machine lacks something (a nats-server that starts, openssl): say what, exit 1.
    if (!(err instanceof NatsServerStartError) && !(err instanceof AuthError)) throw err;
    console.error(`dcnet: ${err.message}`);
    return 1;
  }
}

function serverName(config: Config): string {
  return `dcnet-up-${config.id}`;
}

/**
 * A fresh CA in `dir` (`upCredsDir`), a server certificate for 127.0.0.1, the node's credential and an
 * admin one for `dcnet ctl` (`<dir>/admin.pem`), and the nats-server config that requires them.
 */
async function throwawayCreds(dir: string, config: Config, port: number, dataDir: string): Promise<{ serverConfig: string; nodeCredential: string }> {
  await initCredsDir(dir, { cluster: config.cluster, days: THROWAWAY_DAYS });
  await issue(dir, [
    { name: UP_SERVER, role: "server", ips: ["127.0.0.1"], dns: ["localhost"], days: THROWAWAY_DAYS },
    { name: config.id, role: "node", days: THROWAWAY_DAYS },
    { name: UP_ADMIN, role: "admin", days: THROWAWAY_DAYS },
  ], NODE_GRANTS);
  const serverConfig = join(dir, "nats-server.conf");
  const file = (name: string): string => join(dir, name);
  const text = renderServerConfig({
    name: serverName(config),
    listen: `127.0.0.1:${port}`,
    tls: { cert: file(`${UP_SERVER}.crt`), key: file(`${UP_SERVER}.key`), ca: file("ca.crt") },
    usersFile: "nats-auth.conf",
    dcnetCluster: config.cluster,
    jetstreamDir: dataDir,
  });
  writeFileSync(serverConfig, text, { mode: 0o600 });
  return { serverConfig, nodeCredential: file(`${config.id}.pem`) };
}

/** The server certificate's name in `dcnet up`'s folder (ca is reserved, node ids and `admin` are taken). */
const UP_SERVER = "nats-server";
/** Validity of `dcnet up`'s certificates: a new set is made at every start. */
const THROWAWAY_DAYS = 30;

class NatsServerStartError extends Error {}

async function waitForPort(port: number, child: ChildProcess, timeoutMs: number): Promise<void> {
  let stderr = "";
  child.stderr?.on("data", (b: Buffer) => (stderr = (stderr + b.toString()).slice(-2000)));
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`it exited with code ${child.exitCode}: ${stderr.trim().split("\n").pop() ?? ""}`);
    if (await canConnect(port)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`not listening after ${timeoutMs} ms`);
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = tcpConnect({ host: "127.0.0.1", port }, () => {
      s.destroy();
      resolve(true);
    });
    s.on("error", () => resolve(false));
  });
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
  await exited;
  clearTimeout(timer);
}
