// The node's own admin ops (ping, status, crash, log-level, shutdown) and ALL_OPS, the one list of
// every subsystem's ops that a node serves and `dcnet ctl` offers. Declarations only at import time
// (zod, the ops modules, types): `dcnet ctl` loads this before it sends anything.
import { z } from "zod";
import { AdminOpError, ADMIN_ERRORS, cliParse, defineOp, duration, OK_REPLY, table } from "../admin/ops.js";
// The base schema module, not config/index.js: the door brings the loader (yaml, fs) along.
import { LOG_LEVELS } from "../../config/schema.js";
import { GOSSIP_OPS, storeCounters, storeCountersSchema } from "../gossip/ops.js";
import { CATALOGUE_OPS } from "../catalogue/ops.js";
import { DNS_OPS } from "../dns/ops.js";
import { L4LB_OPS } from "../l4lb/ops.js";
import { EDGE_OPS } from "../edge/ops.js";
import { OVERLAY_OPS } from "../overlay/ops.js";

const empty = z.strictObject({});

export const ping = defineOp({
  name: "ping",
  role: "viewer",
  request: empty,
  reply: z.strictObject({ node: z.string(), version: z.string(), uptimeMs: z.number() }),
  replyKind: "admin.pong",
  handle: (_req, ctx) => ({ node: ctx.config.id, version: ctx.version, uptimeMs: Date.now() - ctx.startedAt }),
  cli: [{ command: "ping", description: "round trip to a node", request: () => ({}) }],
  human: (p, rttMs) => `pong from ${p.node} (dcnet ${p.version}, up ${duration(p.uptimeMs)}) in ${rttMs.toFixed(2)} ms`,
  summary: (p) => `dcnet ${p.version}, up ${duration(p.uptimeMs)}`,
});

const actorStats = z.strictObject({
  path: z.string(),
  kind: z.enum(["worker", "supervisor"]),
  status: z.enum(["starting", "running", "restarting", "stopped"]),
  restarts: z.number(),
  lastError: z.strictObject({ message: z.string(), at: z.number() }).optional(),
  uptimeMs: z.number(),
  mailbox: z.number(),
  dropped: z.number(),
});

const statusBody = z.strictObject({
  node: z.string(),
  cluster: z.string(),
  version: z.string(),
  pid: z.number(),
  uptimeMs: z.number(),
  logLevel: z.enum(LOG_LEVELS),
  nats: z.strictObject({ state: z.string(), server: z.string().optional(), since: z.number() }),
  actors: z.array(actorStats),
  rejected: z.array(z.strictObject({ kind: z.string(), reason: z.string(), count: z.number() })),
  gossip: storeCountersSchema.optional(),
});
export type StatusBody = z.output<typeof statusBody>;

export const status = defineOp({
  name: "status",
  role: "viewer",
  request: empty,
  reply: statusBody,
  async handle(_req, ctx) {
    const conn = ctx.transport.status();
    const gossip = await storeCounters(ctx);
    return {
      node: ctx.config.id,
      cluster: ctx.config.cluster,
      version: ctx.version,
      pid: process.pid,
      uptimeMs: Date.now() - ctx.startedAt,
      logLevel: ctx.logs.level(),
      nats: { state: conn.state, ...(conn.server ? { server: conn.server } : {}), since: conn.since },
      actors: (ctx.tree?.stats() ?? []).map((s) => ({ ...s })),
      rejected: ctx.transport.rejects.snapshot(),
      ...(gossip ? { gossip } : {}),
    };
  },
  cli: [{ command: "status", description: "node id, version, uptime, NATS server, actor tree", request: () => ({}) }],
  human: (s) => formatStatus(s),
  summary: (s) => `nats ${s.nats.state}, ${s.actors.length} actors, ${s.actors.reduce((n, a) => n + a.restarts, 0)} restarts, up ${duration(s.uptimeMs)}`,
});

export function formatStatus(s: StatusBody): string {
  const head = [
    `node ${s.node}  cluster ${s.cluster}  dcnet ${s.version}  pid ${s.pid}  up ${duration(s.uptimeMs)}  log ${s.logLevel}`,
    `nats ${s.nats.state}${s.nats.server ? ` ${s.nats.server}` : ""} since ${new Date(s.nats.since).toISOString()}`,
    "",
  ];
  const actors = table(
    ["ACTOR", "KIND", "STATUS", "RESTARTS", "UPTIME", "MAILBOX", "DROPPED", "LAST ERROR"],
    s.actors.map((a) => [a.path, a.kind, a.status, String(a.restarts), duration(a.uptimeMs), String(a.mailbox), String(a.dropped), a.lastError ? `${a.lastError.message} (${new Date(a.lastError.at).toISOString()})` : "-"]),
  );
  const gossip = s.gossip
    ? [
        "",
        `gossip: ${s.gossip.keys} keys, ${s.gossip.synced ? "synced" : "syncing"}; deltas out ${s.gossip.deltasOut} (${s.gossip.bytesOut} B) in ${s.gossip.deltasIn} (${s.gossip.bytesIn} B); repaired ${s.gossip.keysRepaired}; digests in ${s.gossip.digestsIn}; rejected ${s.gossip.rejected}`,
      ]
    : [];
  const rejected = s.rejected.length ? ["", table(["REJECTED KIND", "REASON", "COUNT"], s.rejected.map((r) => [r.kind, r.reason, String(r.count)]))] : [];
  return [...head, actors, ...gossip, ...rejected].join("\n");
}

export const crash = defineOp({
  name: "crash",
  role: "admin",
  request: z.strictObject({ path: z.string().min(1).max(256), reason: z.string().max(256).optional() }),
  ...OK_REPLY,
  handle(req, ctx) {
    if (!ctx.config.admin.allowCrash) {
      throw new AdminOpError(ADMIN_ERRORS.crashDisabled, "crash is disabled on this node (set admin.allowCrash: true to enable fault injection)", 403);
    }
    const tree = ctx.tree;
    const known = tree?.stats().some((s) => s.path === req.path && s.kind === "worker") ?? false;
    if (!tree || !known) throw new AdminOpError(ADMIN_ERRORS.noSuchActor, `no worker actor at path ${req.path}`, 404);
    const reason = req.reason ?? "crash injected by admin request";
    ctx.logger.warn({ actor: req.path, reason }, "crash injected by admin request");
    ctx.afterReply(() => void tree.crash(req.path, reason));
    return { node: ctx.config.id, message: `crashed ${req.path}` };
  },
  cli: [
    {
      command: "crash <actor-path>",
      description: "fault injection: crash the actor at <actor-path> (node config admin.allowCrash)",
      options: [{ flags: "--reason <text>", description: "error message recorded as the crash reason" }],
      needsTarget: true,
      request: (a) => {
        const reason = a.option("reason");
        return { path: a.arg(0), ...(reason ? { reason } : {}) };
      },
    },
  ],
});

const logLevel = z.enum(LOG_LEVELS);

export const setLogLevel = defineOp({
  name: "log-level",
  role: "operator",
  request: z.strictObject({ level: logLevel }),
  ...OK_REPLY,
  handle({ level }, ctx) {
    const before = ctx.logs.level();
    ctx.logs.setLevel(level);
    ctx.logger.warn({ from: before, to: level }, "log level changed by admin request");
    return { node: ctx.config.id, message: `log level ${before} -> ${level}` };
  },
  cli: [
    {
      command: "log-level <level>",
      description: `change the log level at runtime (${LOG_LEVELS.join(", ")})`,
      request: (a) => ({ level: cliParse(logLevel, a.arg(0), "log level") }),
    },
  ],
});

export const shutdown = defineOp({
  name: "shutdown",
  role: "admin",
  request: empty,
  ...OK_REPLY,
  handle(_req, ctx) {
    ctx.logger.warn("shutdown requested by admin request");
    ctx.afterReply(() => ctx.shutdown("admin request"));
    return { node: ctx.config.id, message: "shutting down" };
  },
  cli: [{ command: "shutdown", description: "ordered shutdown of a node", needsTarget: true, request: () => ({}) }],
});

/** The node's own ops, in `dcnet ctl --help` order. */
const NODE_OPS = [ping, status, crash, setLogLevel, shutdown] as const;

/**
 * Every op a node serves by default and `dcnet ctl` offers, in `--help` order. A subsystem adds its
 * ops to its own `ops.ts` list; a new subsystem adds its list here.
 */
export const ALL_OPS = [...NODE_OPS, ...GOSSIP_OPS, ...CATALOGUE_OPS, ...DNS_OPS, ...L4LB_OPS, ...OVERLAY_OPS, ...EDGE_OPS] as const;
export type StandardOp = (typeof ALL_OPS)[number];
