// `dcnet up`: the one-command local cluster of one. Starts nats-server as a child (JetStream on,
// data in a temp dir), then a node connected to it; a signal stops the node, then the server.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, delimiter } from "node:path";
import { connect as tcpConnect } from "node:net";
import { Option, type Command } from "commander";
import { LOG_LEVELS } from "../config/index.js";
import { startNode, type NodeHandle } from "../actors/node/index.js";
import { configOrExit, listenerOptions, runUntilDone, type NodeFlags } from "./node.command.js";

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
    .action(async (opts: UpFlags) => {
      process.exitCode = await runUpCommand(opts);
    });
  listenerOptions(cmd);
}

/** gossip.syncTimeoutMs for `dcnet up`'s node (nobody to sync from; a later joiner syncs from it). */
const UP_SYNC_TIMEOUT_MS = 50;

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
  const config = await configOrExit({ ...flags, nats: `nats://127.0.0.1:${port}` }, { gossip: { syncTimeoutMs: UP_SYNC_TIMEOUT_MS } });
  if (!config) return 2;
  const bin = findNatsServer();
  if (!bin) {
    console.error(`dcnet: nats-server not found${process.env.DCNET_NATS_SERVER ? ` at ${process.env.DCNET_NATS_SERVER}` : ""}. Install it with: sudo apt-get install -y nats-server (Debian/Ubuntu), or put nats-server on PATH`);
    return 1;
  }
  const dataDir = mkdtempSync(join(tmpdir(), "dcnet-up-"));
  let server: ChildProcess | undefined;
  const cleanup = async () => {
    if (server) await stopChild(server);
    rmSync(dataDir, { recursive: true, force: true });
  };
  const start = async (): Promise<NodeHandle> => {
    server = spawn(bin, ["-a", "127.0.0.1", "-p", String(port), "-js", "-sd", dataDir, "-n", `dcnet-up-${config.id}`], { stdio: ["ignore", "ignore", "pipe"] });
    try {
      await waitForPort(port, server, 10_000);
    } catch (err) {
      throw new NatsServerStartError(`nats-server did not start on 127.0.0.1:${port}: ${(err as Error).message}`);
    }
    return startNode(config);
  };
  try {
    return await runUntilDone(start, cleanup);
  } catch (err) {
    // Whatever failed, the nats-server child is not left behind.
    await cleanup();
    if (!(err instanceof NatsServerStartError)) throw err;
    console.error(`dcnet: ${err.message}`);
    return 1;
  }
}

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
