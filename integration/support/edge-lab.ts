// The edge lab (issue 14): a netns `lb` where HAProxy runs (started by a node in the test process
// through edge.commandPrefix `ip netns exec <lb>`), a netns `be` with small HTTP/TCP backends (one
// process, servers started and stopped on request, stopped the way a scheduler stops a task: no new
// connections, idle ones closed, in-flight ones finished), and client namespaces `cl` and `cl2`
// (a second source address for allow-lists). Everything is inside namespaces the lab creates;
// nats-server and the node run on 127.0.0.1 of the test's own namespace (unix sockets reach HAProxy).
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { createNetnsLab, type NetnsLab } from "../harness/netns.js";
import { startNatsServer, type NatsServerHandle } from "../harness/nats-local.js";
import { mustRun } from "../harness/shell.js";
import { startNode, type NodeHandle } from "../../actors/node/index.js";
import { validateConfig } from "../../actors/node/config.js";
import { ALL_OPS } from "../../actors/node/ops.js";
import { AdminClient } from "../../actors/admin/ops.js";
import { Transport } from "../../transport/index.js";
import { createLogHub } from "../../observability/logger.js";
import { createRegistry } from "../../observability/metrics.js";
import { pino } from "pino";
import type { Task } from "../../actors/catalogue/model.js";
import { freePort } from "./ports.js";

export const LB_IP = "10.79.0.1";
export const BE_IP = "10.79.0.2";
export const CL_IP = "10.79.0.3";
export const CL2_IP = "10.79.0.4";

const BACKENDS = `
const http = require("node:http"), net = require("node:net"), rl = require("node:readline");
const servers = new Map();
const say = (o) => process.stdout.write(JSON.stringify(o) + "\\n");
rl.createInterface({ input: process.stdin }).on("line", (line) => {
  const c = JSON.parse(line);
  if (c.op === "http") {
    const s = http.createServer((req, res) => {
      if (req.url.startsWith("/stream")) { res.writeHead(200); res.write(c.name + "\\n"); const t = setInterval(() => res.write("."), 100); req.on("close", () => clearInterval(t)); return; }
      res.setHeader("content-type", "text/plain"); res.end(c.name + " " + req.url + "\\n");
    });
    s.keepAliveTimeout = 60000;
    s.listen(c.port, "0.0.0.0", () => say({ ok: c.port }));
    servers.set(c.port, s);
  } else if (c.op === "tcp") {
    const s = net.createServer((sock) => { sock.write(c.name + "\\n"); sock.pipe(sock); });
    s.listen(c.port, "0.0.0.0", () => say({ ok: c.port }));
    servers.set(c.port, s);
  } else if (c.op === "stop") {
    const s = servers.get(c.port); servers.delete(c.port);
    if (!s) return say({ ok: c.port });
    s.close(() => say({ ok: c.port }));
    if (s.closeIdleConnections) { s.closeIdleConnections(); setTimeout(() => s.closeAllConnections(), 2000); }
  }
});
`;

export interface EdgeLab {
  readonly lab: NetnsLab;
  readonly node: NodeHandle;
  readonly admin: AdminClient<(typeof ALL_OPS)[number]>;
  readonly runDir: string;
  readonly metricsPort: number;
  readonly natsUrl: string;
  /** Starts an HTTP (or TCP echo) backend on BE_IP:port answering `name`. */
  backend(port: number, name: string, kind?: "http" | "tcp"): Promise<void>;
  stopBackend(port: number): Promise<void>;
  /** Registers (or replaces) a task on BE_IP with one host port. */
  task(id: string, name: string, port: number, labels: Record<string, string>, state?: Task["state"]): Promise<void>;
  removeTask(id: string): Promise<void>;
  curl(args: readonly string[], from?: "cl" | "cl2"): Promise<{ code: number | null; stdout: string; stderr: string }>;
  close(): Promise<void>;
}

export interface EdgeLabOptions {
  readonly edge?: Record<string, unknown>;
  /** The node's `mesos` section (the catalogue's sources), e.g. { marathon: { servers: [...] } }. */
  readonly mesos?: Record<string, unknown>;
}

export async function startEdgeLab(opts: EdgeLabOptions = {}): Promise<EdgeLab> {
  const lab = await createNetnsLab({ hosts: { lb: `${LB_IP}/24`, be: `${BE_IP}/24`, cl: `${CL_IP}/24`, cl2: `${CL2_IP}/24` } });
  const runDir = mkdtempSync(join(tmpdir(), "dcnet-edge-"));
  let nats: NatsServerHandle | undefined;
  let node: NodeHandle | undefined;
  let client: Transport | undefined;
  let be: ChildProcessWithoutNullStreams | undefined;
  const cleanup = async () => {
    await client?.close().catch(() => undefined);
    await node?.stop("test done").catch(() => undefined);
    await nats?.stop().catch(() => undefined);
    if (be?.pid) be.kill("SIGKILL");
    await lab.cleanup();
    rmSync(runDir, { recursive: true, force: true });
  };
  try {
    await mustRun("ip", ["netns", "exec", lab.ns("lb"), "ip", "link", "set", "lo", "up"]);
    writeFileSync(join(runDir, "backends.cjs"), BACKENDS);
    be = spawn("ip", ["netns", "exec", lab.ns("be"), process.execPath, join(runDir, "backends.cjs")], { stdio: ["pipe", "pipe", "pipe"] });
    const waiting = new Map<number, () => void>();
    createInterface({ input: be.stdout }).on("line", (l) => {
      const port = (JSON.parse(l) as { ok: number }).ok;
      waiting.get(port)?.();
      waiting.delete(port);
    });
    const beCmd = (c: { readonly op: string; readonly port: number; readonly name?: string }): Promise<void> =>
      new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`backend ${JSON.stringify(c)}: no answer`)), 5000);
        waiting.set(c.port, () => {
          clearTimeout(t);
          resolve();
        });
        be?.stdin.write(JSON.stringify(c) + "\n");
      });
    nats = await startNatsServer({});
    const metricsPort = await freePort();
    const config = validateConfig({
      id: "edge1",
      nats: { servers: [nats.url], insecure: true },
      log: { level: "error" },
      metrics: { listen: `127.0.0.1:${metricsPort}` },
      dns: { enabled: false },
      ...(opts.mesos ? { mesos: opts.mesos } : {}),
      edge: { enabled: true, commandPrefix: ["ip", "netns", "exec", lab.ns("lb")], runDir, minReloadIntervalMs: 300, hardStopAfterMs: 3000, check: { interMs: 200, fall: 2, rise: 1 }, ...(opts.edge ?? {}) },
    });
    node = await startNode(config, { logs: createLogHub({ level: (process.env["EDGE_LOG"] as "info" | undefined) ?? "fatal", bindings: { node: "edge1" } }) });
    client = await Transport.connect({ servers: [nats.url], cluster: config.cluster, nodeId: "edge-client", logger: pino({ level: "silent" }), metrics: createRegistry({ node: "edge-client", cluster: config.cluster }) });
    const admin = new AdminClient(client, 10_000, ALL_OPS);
    const n = node;
    return {
      lab,
      node: n,
      admin,
      runDir,
      metricsPort,
      natsUrl: nats.url,
      backend: (port, name, kind = "http") => beCmd({ op: kind, port, name }),
      stopBackend: (port) => beCmd({ op: "stop", port }),
      async task(id, name, port, labels, state = "running") {
        const task: Task = { id, name, framework: "marathon", runtime: "native", agentIp: BE_IP, taskIps: [BE_IP], state, labels, ports: [{ name: "http", protocol: "tcp", hostPort: port, vips: [] }] };
        await admin.request("edge1", "task-add", { task });
      },
      async removeTask(id) {
        await admin.request("edge1", "task-rm", { id });
      },
      curl: (args, from = "cl") => lab.exec(from, "curl", ["-sS", "--max-time", "3", ...args], { timeoutMs: 5000 }),
      close: cleanup,
    };
  } catch (err) {
    await cleanup();
    throw err;
  }
}

/** `wrk` from the client namespace; the counts a user reads in its output. */
export async function wrk(lab: NetnsLab, url: string, host: string, seconds: number, connections = 16): Promise<{ requests: number; socketErrors: number; non2xx: number; text: string }> {
  const r = await lab.exec("cl", "wrk", ["-t2", `-c${connections}`, `-d${seconds}s`, "-H", `Host: ${host}`, url], { timeoutMs: (seconds + 15) * 1000 });
  const text = r.stdout + r.stderr;
  const requests = Number(/(\d+) requests in/.exec(text)?.[1] ?? "0");
  const se = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(text);
  const socketErrors = se ? se.slice(1).reduce((a, b) => a + Number(b), 0) : 0;
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(text)?.[1] ?? "0");
  return { requests, socketErrors, non2xx, text };
}
