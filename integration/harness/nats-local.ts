// Real nats-server processes on 127.0.0.1 for tests and benchmarks. Every process is started here and
// stopped here by its PID; nothing listens beyond loopback.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createConnection, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { renderServerConfig } from "../../transport/auth/server-conf.js";
import { DCNET_ACCOUNT } from "../../transport/auth/permissions.js";
import { ADVISORY_SUBJECTS } from "../../transport/advisories.js";

const HOST = "127.0.0.1";
const CANDIDATES = ["/usr/sbin/nats-server", "/usr/bin/nats-server", "/usr/local/bin/nats-server"];
const READY_TIMEOUT_MS = 10_000;
const LOG_LINES_KEPT = 200;

export interface NatsServerOptions {
  /** Client port; default: a free one. */
  readonly port?: number;
  readonly jetstream?: boolean;
  readonly cluster?: { readonly name: string; readonly routes: readonly string[]; readonly port: number };
  /** JetStream store; default: inside the server's temp dir (removed by stop()). A given dir is kept. */
  readonly storeDir?: string;
  /** server_name (required by clustered JetStream); default `n<port>`. */
  readonly name?: string;
  /** Monitoring port (HTTP, /varz /routez /jsz); default: none. */
  readonly httpPort?: number;
  /**
   * TLS with client certificates mapped to users, and TLS routes that accept only server certificates
   * (transport/auth/server-conf.ts): this server's certificate and the users fragment come from a dcnet
   * credentials folder (integration/harness/creds.ts makes one). Without it the server is open.
   */
  readonly secure?: SecureOptions;
  /**
   * Clients in an account (`DCNET`, the default user for clients that give none) into which the
   * system account exports its client connect/disconnect advisories: what a node with
   * `gossip.disconnectAdvisories` listens to (advisoryAccounts below). Open servers only.
   */
  readonly advisories?: boolean;
}

export interface SecureOptions {
  /** The credentials folder (`dcnet creds init`): ca.crt, nats-auth.conf, `<server>.crt`/`.key`. */
  readonly credsDir: string;
  /** The dcnet cluster the folder is for. */
  readonly cluster: string;
  /** This server's certificate name in the folder (`dcnet creds server <name> --ip 127.0.0.1`). */
  readonly server: string;
}

export interface NatsServerHandle {
  readonly url: string;
  readonly port: number;
  readonly pid: number;
  readonly name: string;
  readonly httpPort?: number;
  /** Last lines the server logged, for failure messages. */
  logs(): string[];
  /** SIGHUP (re-read the config and the users fragment it includes); resolves once the server says it reloaded. */
  reload(): Promise<void>;
  /** SIGTERM (SIGKILL after 5 s), wait for exit, remove the temp dir. Idempotent. */
  stop(): Promise<void>;
  /** SIGKILL (a crash) and wait for exit; the temp dir stays until stop(). */
  kill(): Promise<void>;
}

export interface NatsClusterHandle {
  readonly urls: string[];
  readonly servers: NatsServerHandle[];
  stop(): Promise<void>;
}

// Children still running when the test process exits are killed by PID and their temp dirs removed, so a
// crashed test leaves nothing behind. Only processes started by this module are ever signalled.
const live = new Map<ChildProcess, string>();
let exitHookInstalled = false;
function track(child: ChildProcess, dir: string): void {
  live.set(child, dir);
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once("exit", () => {
    for (const [c, d] of live) {
      if (c.pid !== undefined && c.exitCode === null && c.signalCode === null) killQuietly(c.pid, "SIGKILL");
      rmSync(d, { recursive: true, force: true });
    }
  });
}

function killQuietly(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

export function natsServerBinary(): string {
  const fromEnv = process.env.NATS_SERVER_BIN;
  if (fromEnv !== undefined && fromEnv !== "") {
    if (existsSync(fromEnv)) return fromEnv;
    throw new Error(`NATS_SERVER_BIN=${fromEnv} does not exist`);
  }
  const found = CANDIDATES.find((p) => existsSync(p));
  if (found === undefined) throw new Error(`nats-server not found (looked in ${CANDIDATES.join(", ")}); install it: apt-get install -y nats-server`);
  return found;
}

/** A port that was free a moment ago (bind :0, read, close). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, HOST, () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr !== null ? addr.port : 0;
      srv.close(() => (port > 0 ? resolve(port) : reject(new Error("no port assigned"))));
    });
  });
}

interface RenderOptions {
  advisories?: boolean;
  port: number;
  name: string;
  httpPort?: number;
  jsDir?: string;
  cluster?: NatsServerOptions["cluster"];
}

// Small pings so servers (and the routes between them) notice a dead peer within ~2 s.
const FAST_PINGS = [`ping_interval: "1s"`, `ping_max: 2`];

function renderSecureConfig(o: RenderOptions, secure: SecureOptions, confDir: string): string {
  const file = (name: string): string => join(secure.credsDir, name);
  return renderServerConfig({
    name: o.name,
    listen: `${HOST}:${o.port}`,
    tls: { cert: file(`${secure.server}.crt`), key: file(`${secure.server}.key`), ca: file("ca.crt") },
    usersFile: relative(confDir, file("nats-auth.conf")),
    dcnetCluster: secure.cluster,
    ...(o.cluster === undefined ? {} : { routes: { name: o.cluster.name, listen: `${HOST}:${o.cluster.port}`, urls: o.cluster.routes } }),
    ...(o.jsDir === undefined ? {} : { jetstreamDir: o.jsDir }),
    ...(o.httpPort === undefined ? {} : { http: `${HOST}:${o.httpPort}` }),
    extra: FAST_PINGS,
  });
}

/**
 * An open server's accounts with the advisories exported: the system account `SYS` exports
 * `$SYS.ACCOUNT.DCNET.CONNECT|DISCONNECT` as streams, `DCNET` imports them, and `no_auth_user` puts
 * every client that gives no credentials into `DCNET`. (A plain server has no accounts: its clients
 * share the global one, into which nothing can be imported.)
 */
export function advisoryAccounts(jetstream: boolean): string[] {
  const subjects = [ADVISORY_SUBJECTS.connect, ADVISORY_SUBJECTS.disconnect].map((s) => s.replace("*", DCNET_ACCOUNT));
  return [
    "accounts {",
    `  SYS { exports: [${subjects.map((s) => `{ stream: "${s}" }`).join(", ")}] }`,
    `  ${DCNET_ACCOUNT} { users: [{ user: "dcnet", password: "" }], imports: [${subjects.map((s) => `{ stream: { account: SYS, subject: "${s}" } }`).join(", ")}]${jetstream ? ", jetstream: enabled" : ""} }`,
    "}",
    "system_account: SYS",
    "no_auth_user: dcnet",
  ];
}

function renderConfig(o: RenderOptions): string {
  const lines = [
    `server_name: "${o.name}"`,
    `listen: "${HOST}:${o.port}"`,
    ...FAST_PINGS,
  ];
  if (o.httpPort !== undefined) lines.push(`http: "${HOST}:${o.httpPort}"`);
  if (o.jsDir !== undefined) lines.push(`jetstream { store_dir: "${o.jsDir}", max_memory_store: 64MB, max_file_store: 256MB }`);
  if (o.advisories === true) lines.push(...advisoryAccounts(o.jsDir !== undefined));
  if (o.cluster !== undefined) {
    const routes = o.cluster.routes.map((r) => `"${r}"`).join(", ");
    lines.push(`cluster { name: "${o.cluster.name}", listen: "${HOST}:${o.cluster.port}", routes: [${routes}] }`);
  }
  return lines.join("\n") + "\n";
}

export async function startNatsServer(opts: NatsServerOptions = {}): Promise<NatsServerHandle> {
  const bin = natsServerBinary();
  for (const r of opts.cluster?.routes ?? []) if (!r.includes(`//${HOST}:`)) throw new Error(`route ${r} is not on ${HOST}`);
  const port = opts.port ?? (await freePort());
  const name = opts.name ?? `n${port}`;
  const dir = mkdtempSync(join(tmpdir(), "dcnet-nats-"));
  const jsDir = opts.jetstream ? (opts.storeDir ?? join(dir, "js")) : undefined;
  const conf = join(dir, "nats.conf");
  if (opts.advisories === true && opts.secure !== undefined) throw new Error("startNatsServer: advisories are set up for open servers only");
  const render: RenderOptions = { ...(opts.advisories === true ? { advisories: true } : {}), port, name, ...(opts.httpPort === undefined ? {} : { httpPort: opts.httpPort }), ...(jsDir === undefined ? {} : { jsDir }), ...(opts.cluster === undefined ? {} : { cluster: opts.cluster }) };
  writeFileSync(conf, opts.secure === undefined ? renderConfig(render) : renderSecureConfig(render, opts.secure, dir));

  let proc: Spawned;
  try {
    proc = spawnLogged(bin, conf, dir);
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  const { child, pid, lines, exited } = proc;
  let dirRemoved = false;

  const kill = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) killQuietly(pid, "SIGKILL");
    await exited;
  };
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      killQuietly(pid, "SIGTERM");
      const timer = setTimeout(() => killQuietly(pid, "SIGKILL"), 5_000);
      await exited;
      clearTimeout(timer);
    }
    if (!dirRemoved) {
      dirRemoved = true;
      rmSync(dir, { recursive: true, force: true });
      live.delete(child);
    }
  };

  try {
    await waitUntilAccepting(port, exited, () => lines);
  } catch (err) {
    await stop();
    throw err;
  }
  const reload = async (): Promise<void> => {
    const before = lines.filter((l) => l.includes(RELOADED)).length;
    killQuietly(pid, "SIGHUP");
    const deadline = Date.now() + READY_TIMEOUT_MS;
    while (lines.filter((l) => l.includes(RELOADED)).length === before) {
      if (Date.now() > deadline) throw new Error(`nats-server on port ${port} did not reload:\n${lines.slice(-10).join("\n")}`);
      await sleep(20);
    }
  };
  return { url: `nats://${HOST}:${port}`, port, pid, name, ...(opts.httpPort === undefined ? {} : { httpPort: opts.httpPort }), logs: () => [...lines], reload, stop, kill };
}

interface Spawned {
  readonly child: ChildProcess;
  readonly pid: number;
  /** The last LOG_LINES_KEPT lines of stdout and stderr. */
  readonly lines: string[];
  readonly exited: Promise<void>;
}

function spawnLogged(bin: string, conf: string, dir: string): Spawned {
  const child = spawn(bin, ["-c", conf], { stdio: ["ignore", "pipe", "pipe"] });
  const exited = new Promise<void>((resolve) => {
    child.once("exit", () => resolve());
    child.once("error", () => resolve()); // a spawn failure must not become an unhandled 'error' event
  });
  if (child.pid === undefined) throw new Error(`could not spawn ${bin}`);
  track(child, dir);
  const lines: string[] = [];
  const keep = (chunk: Buffer): void => {
    for (const l of chunk.toString("utf8").split("\n")) if (l !== "") lines.push(l);
    if (lines.length > LOG_LINES_KEPT) lines.splice(0, lines.length - LOG_LINES_KEPT);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  return { child, pid: child.pid, lines, exited };
}

// A TCP connect that succeeds means the client listener is up (nats-server opens it after enabling JetStream);
// routes connect later, which startNatsCluster waits for separately.
async function waitUntilAccepting(port: number, exited: Promise<void>, logs: () => string[]): Promise<void> {
  let dead = false;
  void exited.then(() => (dead = true));
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (dead) throw new Error(`nats-server on port ${port} exited during startup:\n${logs().slice(-20).join("\n")}`);
    if (await canConnect(port)) return;
    await sleep(25);
  }
  throw new Error(`nats-server on port ${port} not accepting after ${READY_TIMEOUT_MS} ms:\n${logs().slice(-20).join("\n")}`);
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = createConnection({ host: HOST, port });
    sock.setTimeout(500);
    const done = (ok: boolean): void => {
      sock.destroy();
      resolve(ok);
    };
    sock.once("connect", () => done(true));
    sock.once("error", () => done(false));
    sock.once("timeout", () => done(false));
  });
}

/** What nats-server logs once a reload (SIGHUP) has taken effect. */
const RELOADED = "Reloaded server configuration";

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export interface NatsClusterOptions {
  readonly name?: string;
  readonly jetstream?: boolean;
  /**
   * TLS + users on every server, routes over TLS: server i uses the certificate `servers[i]` of the
   * credentials folder (integration/harness/creds.ts makes one per server).
   */
  readonly secure?: { readonly credsDir: string; readonly cluster: string; readonly servers: readonly string[] };
  /** Every server with the advisory accounts (NatsServerOptions.advisories). */
  readonly advisories?: boolean;
}

/** `n` servers (default 3) routed on loopback, JetStream on by default; resolves once every route is up. */
export async function startNatsCluster(n = 3, opts: NatsClusterOptions = {}): Promise<NatsClusterHandle> {
  if (!Number.isInteger(n) || n < 1 || n > 9) throw new RangeError(`cluster size ${n} must be 1..9`);
  const name = opts.name ?? "dcnet-test";
  const ports = await distinctFreePorts(3 * n);
  const client = ports.slice(0, n);
  const route = ports.slice(n, 2 * n);
  const http = ports.slice(2 * n);
  const servers: NatsServerHandle[] = [];
  const stop = async (): Promise<void> => {
    await Promise.all(servers.map((s) => s.stop()));
  };
  try {
    const started = await Promise.all(
      client.map((port, i) =>
        startNatsServer({
          port,
          name: `n${i}`,
          httpPort: http[i] as number,
          jetstream: opts.jetstream ?? true,
          ...(opts.advisories === true ? { advisories: true } : {}),
          cluster: { name, port: route[i] as number, routes: route.filter((_, j) => j !== i).map((p) => `nats-route://${HOST}:${p}`) },
          ...(opts.secure === undefined ? {} : { secure: { credsDir: opts.secure.credsDir, cluster: opts.secure.cluster, server: serverCert(opts.secure.servers, i) } }),
        }),
      ),
    );
    servers.push(...started);
    await waitFor("routes", servers, async (s) => ((await monitor(s, "routez"))?.num_routes ?? 0) >= n - 1);
    // Clustered JetStream answers "no leader" until the meta group has elected one (~2 s after routes form).
    if (opts.jetstream ?? true) await waitFor("JetStream meta leader", servers, async (s) => Boolean((await monitor(s, "jsz"))?.meta_cluster?.leader));
  } catch (err) {
    await stop();
    throw err;
  }
  return { urls: servers.map((s) => s.url), servers, stop };
}

function serverCert(servers: readonly string[], i: number): string {
  const name = servers[i];
  if (name === undefined) throw new Error(`no server certificate for server ${i} (${servers.length} given)`);
  return name;
}

async function distinctFreePorts(count: number): Promise<number[]> {
  const ports = new Set<number>();
  for (let tries = 0; ports.size < count && tries < count * 10; tries++) ports.add(await freePort());
  if (ports.size < count) throw new Error(`could not find ${count} free ports`);
  return [...ports];
}

interface MonitorBody {
  readonly num_routes?: number;
  readonly meta_cluster?: { readonly leader?: string };
}

async function monitor(s: NatsServerHandle, endpoint: "routez" | "jsz"): Promise<MonitorBody | undefined> {
  if (s.httpPort === undefined) return undefined;
  try {
    const res = await fetch(`http://${HOST}:${s.httpPort}/${endpoint}`, { signal: AbortSignal.timeout(1_000) });
    return (await res.json()) as MonitorBody;
  } catch {
    return undefined;
  }
}

// Routes connect asynchronously after the client port opens; a test that starts before they do loses messages.
async function waitFor(what: string, servers: readonly NatsServerHandle[], ready: (s: NatsServerHandle) => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    const ok = await Promise.all(servers.map(ready));
    if (ok.every(Boolean)) return;
    await sleep(50);
  }
  throw new Error(`NATS cluster: ${what} not ready after ${READY_TIMEOUT_MS} ms`);
}
