// Starts one node: logger → metrics → tracing → NATS transport → root tree. Returns a handle whose
// `done` says how the node ended; the CLI turns that into the process exit code.
import type { Logger } from "pino";
import type { Registry } from "prom-client";
import { startTree, type Tree, type TreeEvent } from "../../supervisors/index.js";
import { Transport } from "../../transport/index.js";
import { checkNodeCredential, inboxPrefix, loadCredential, NatsUnauthenticatedError, type AuthError, type Credential } from "../../transport/auth/index.js";
import { startTracing } from "../../observability/tracing.js";
import { createLogHub, type LogHub } from "../../observability/logger.js";
import { counter, createRegistry } from "../../observability/metrics.js";
import type { Config } from "../../config/index.js";
import type { AnyOp } from "../admin/index.js";
import type { ZonePart } from "../dns/index.js";
import { nodeTreeSpec } from "./node.sup.js";
import { ALL_OPS } from "./ops.js";
import { VERSION } from "../../config/version.js";

export interface NodeHandle {
  readonly config: Config;
  readonly tree: Tree;
  readonly transport: Transport;
  readonly logs: LogHub;
  readonly metrics: Registry;
  /** Ordered shutdown, bounded by supervision.shutdownTimeoutMs. Idempotent. */
  stop(reason: string): Promise<void>;
  /** Resolves once the node has stopped; exitCode 0 after a shutdown, 1 when the root gave up. */
  readonly done: Promise<{ readonly exitCode: number; readonly reason: string }>;
}

export interface StartNodeOptions {
  readonly logs?: LogHub;
  /** Zone parts beyond the subsystems' own (a test fixture, an out-of-tree extension). */
  readonly zoneParts?: readonly ZonePart[];
  /** Admin ops served beyond the standard list (ALL_OPS); `dcnet ctl` offers them when built with the same list. */
  readonly ops?: readonly AnyOp[];
}

export async function startNode(config: Config, opts: StartNodeOptions = {}): Promise<NodeHandle> {
  const startedAt = Date.now();
  const logs = opts.logs ?? createLogHub({ level: config.log.level, bindings: { node: config.id, cluster: config.cluster } });
  const log = logs.child("node");
  const metrics = createRegistry({ node: config.id, cluster: config.cluster });
  const tracing = startTracing({ nodeId: config.id, cluster: config.cluster, enabled: config.tracing.enabled, backgroundRatio: config.tracing.backgroundRatio });
  log.info({ version: VERSION, pid: process.pid, nats: config.nats.servers, tracing: tracing.enabled }, "node starting");

  const credential = refusing(log, () => nodeCredential(config, log));
  const transport = await Transport.connect({
    servers: config.nats.servers,
    cluster: config.cluster,
    nodeId: config.id,
    logger: logs.child("transport"),
    metrics,
    reconnectWaitMs: config.nats.reconnectWaitMs,
    ...(tracing.tracer ? { tracer: tracing.tracer } : {}),
    ...(credential ? { tls: credential.tls } : {}),
    // The node's own replies only: its credential may hear no other inbox.
    inboxPrefix: inboxPrefix(config.cluster, config.id),
  });
  await checkServerSecurity(transport, config, log);

  // The tree's own actors need the tree (status, crash), so they reach it through this late-bound slot.
  const slot: { tree?: Tree } = {};
  let stopping: Promise<void> | undefined;
  let resolveDone!: (v: { exitCode: number; reason: string }) => void;
  const done = new Promise<{ exitCode: number; reason: string }>((r) => (resolveDone = r));

  const stop = (reason: string): Promise<void> => {
    stopping ??= (async () => {
      log.info({ reason }, "node stopping");
      await withTimeout(slot.tree?.shutdown() ?? Promise.resolve(), config.supervision.shutdownTimeoutMs, () =>
        log.error({ timeoutMs: config.supervision.shutdownTimeoutMs }, "ordered shutdown timed out; stopping anyway"),
      );
      await transport.close().catch(() => undefined);
      await tracing.shutdown().catch(() => undefined);
      log.info({ reason }, "node stopped");
    })();
    return stopping;
  };

  const tree = await startTree(
    nodeTreeSpec(config, {
      config,
      transport,
      logs,
      logger: logs.child("admin"),
      metrics,
      ...(tracing.tracer ? { tracer: tracing.tracer } : {}),
      version: VERSION,
      startedAt,
      tree: () => slot.tree,
      incarnation: startedAt,
      lookup: <M>(path: string) => slot.tree?.lookup<M>(path),
      ops: [...ALL_OPS, ...(opts.ops ?? [])],
      ...(opts.zoneParts ? { zoneParts: opts.zoneParts } : {}),
      shutdown: (reason) => void stop(reason).then(() => resolveDone({ exitCode: 0, reason })),
    }),
    {
      handlerDeadlineMs: config.supervision.handlerDeadlineMs,
      ...(tracing.tracer ? { tracer: tracing.tracer } : {}),
      onCreated: (t) => (slot.tree = t),
      onEvent: treeEventLogger(logs.child("supervisor"), metrics),
      onGiveUp: ({ path, error }) => {
        // The one line an operator needs: which actor crash-looped, and why.
        log.fatal({ actor: path, err: error.message }, `root supervisor gave up: actor ${path} crash-looped (${error.message})`);
        void stop("root supervisor gave up").then(() => resolveDone({ exitCode: 1, reason: `actor ${path} crash-looped` }));
      },
    },
  );
  slot.tree = tree;
  log.info({ startupMs: Date.now() - startedAt, server: transport.status().server }, "dcnet node ready");
  return { config, tree, transport, logs, metrics, done, stop: (reason) => stop(reason).then(() => resolveDone({ exitCode: 0, reason })) };
}

/** The node's credential (nats.credentials), checked against its id and cluster; none without the key. */
function nodeCredential(config: Config, log: Logger): Credential | undefined {
  if (config.nats.credentials === undefined) return undefined;
  const cred = loadCredential(config.nats.credentials);
  checkNodeCredential(cred, { cluster: config.cluster, id: config.id });
  for (const warning of cred.warnings) log.warn({ file: cred.file }, warning);
  // Who and until when; never the key.
  log.info({ file: cred.file, name: cred.name, role: cred.role, serial: cred.serial, notAfter: cred.notAfter.toISOString() }, "NATS credential loaded");
  return cred;
}

/**
 * A server that lets anyone in makes every identity forgeable: refused unless nats.insecure, which is
 * then said at every start. The CLI turns the refusal (an AuthError) into exit code 2.
 */
async function checkServerSecurity(transport: Transport, config: Config, log: Logger): Promise<void> {
  const security = transport.serverSecurity();
  const server = transport.status().server ?? config.nats.servers.join(",");
  if (config.nats.insecure) {
    log.warn({ server, ...security }, "nats.insecure is set: this node accepts a NATS server that does not authenticate its clients; anyone who reaches it can impersonate nodes and run admin operations");
    return;
  }
  if (security.authRequired) return;
  await transport.close().catch(() => undefined);
  refusing(log, () => {
    throw new NatsUnauthenticatedError(server);
  });
}

/** Runs a start-up check; its refusal is logged (the one line an operator reads) before it propagates. */
function refusing<T>(log: Logger, check: () => T): T {
  try {
    return check();
  } catch (err) {
    const e = err as AuthError;
    log.fatal({ code: e.code }, e.message);
    throw err;
  }
}

function treeEventLogger(log: Logger, metrics: Registry): (e: TreeEvent) => void {
  // Per actor path: a restart storm (deploy/prometheus/alerts.yml) is a rate of this.
  const restarts = counter(metrics, "dcnet_supervisor_restarts_total", "Actor restarts by its supervisor, by actor path.", ["actor"]);
  return (e) => {
    switch (e.type) {
      case "crashed":
        log.error({ actor: e.path, err: e.error.message }, "actor crashed");
        break;
      case "restarted":
        log.warn({ actor: e.path, restarts: e.restarts }, "actor restarted");
        restarts.inc({ actor: e.path });
        break;
      case "gave-up":
        log.error({ actor: e.path, origin: e.origin, err: e.error.message }, "supervisor gave up");
        break;
      case "terminate-timeout":
        log.warn({ actor: e.path, shutdownMs: e.shutdownMs }, "actor did not stop within its shutdown timeout; abandoned");
        break;
      case "started":
      case "stopped":
        log.debug({ actor: e.path, event: e.type }, "actor lifecycle");
        break;
    }
  };
}

async function withTimeout(p: Promise<void>, ms: number, onTimeout: () => void): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(() => {
      onTimeout();
      resolve();
    }, ms);
  });
  try {
    await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
