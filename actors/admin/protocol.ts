// The admin protocol: one request kind and one reply kind per operation, plus one error kind.
// Programs other than the CLI speak exactly this (msgpack envelopes, see transport/README.md).
import { z } from "zod";
import { defineKind } from "../../transport/index.js";
import { LOG_LEVELS } from "../../config/index.js";

export const ADMIN_SERVICE_NAME = "dcnet-admin";

const empty = z.strictObject({});

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

export const statusBody = z.strictObject({
  node: z.string(),
  cluster: z.string(),
  version: z.string(),
  pid: z.number(),
  uptimeMs: z.number(),
  logLevel: z.enum(LOG_LEVELS),
  nats: z.strictObject({ state: z.string(), server: z.string().optional(), since: z.number() }),
  actors: z.array(actorStats),
  rejected: z.array(z.strictObject({ kind: z.string(), reason: z.string(), count: z.number() })),
});
export type StatusBody = z.infer<typeof statusBody>;

export const pongBody = z.strictObject({ node: z.string(), version: z.string(), uptimeMs: z.number() });
export type PongBody = z.infer<typeof pongBody>;

export const okBody = z.strictObject({ node: z.string(), message: z.string() });
export type OkBody = z.infer<typeof okBody>;

export const crashRequest = z.strictObject({ path: z.string().min(1).max(256), reason: z.string().max(256).optional() });
export const logLevelRequest = z.strictObject({ level: z.enum(LOG_LEVELS) });

export const errorBody = z.strictObject({ node: z.string(), code: z.string(), message: z.string() });
export type ErrorBody = z.infer<typeof errorBody>;

export const kinds = {
  pingReq: defineKind("admin.ping", empty),
  pong: defineKind("admin.pong", pongBody),
  statusReq: defineKind("admin.status", empty),
  status: defineKind("admin.status.reply", statusBody),
  crashReq: defineKind("admin.crash", crashRequest),
  logLevelReq: defineKind("admin.log-level", logLevelRequest),
  shutdownReq: defineKind("admin.shutdown", empty),
  ok: defineKind("admin.ok", okBody),
  error: defineKind("admin.error", errorBody),
} as const;

/** Operation name (the last subject token) → request kind and reply kind. */
export const ops = {
  ping: { request: kinds.pingReq, reply: kinds.pong },
  status: { request: kinds.statusReq, reply: kinds.status },
  crash: { request: kinds.crashReq, reply: kinds.ok },
  "log-level": { request: kinds.logLevelReq, reply: kinds.ok },
  shutdown: { request: kinds.shutdownReq, reply: kinds.ok },
} as const;

export type OpName = keyof typeof ops;
export const OP_NAMES = Object.keys(ops) as OpName[];

/** Stable error codes in admin error replies (docs/errors.md lists them). */
export const ADMIN_ERRORS = {
  badRequest: "DCNET_E_ADMIN_BAD_REQUEST",
  crashDisabled: "DCNET_E_ADMIN_CRASH_DISABLED",
  noSuchActor: "DCNET_E_ADMIN_NO_SUCH_ACTOR",
  internal: "DCNET_E_ADMIN_INTERNAL",
} as const;
