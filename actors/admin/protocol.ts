// The admin protocol: one request kind and one reply kind per operation, plus one error kind.
// Programs other than the CLI speak exactly this (msgpack envelopes, see transport/README.md).
import { z } from "zod";
import { defineKind } from "../../transport/index.js";
import { LOG_LEVELS } from "../../config/index.js";
import { taskSchema } from "../catalogue/index.js";

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

const hlc = z.strictObject({ t: z.number(), c: z.number(), r: z.string() });
const fieldView = z.discriminatedUnion("type", [
  z.strictObject({ type: z.literal("lww"), value: z.json(), ts: hlc }),
  z.strictObject({ type: z.literal("set"), values: z.array(z.json()) }),
]);
const keyView = z.record(z.string(), fieldView);

const gossipCounters = z.strictObject({
  keys: z.number(),
  deltasOut: z.number(),
  deltasIn: z.number(),
  bytesOut: z.number(),
  bytesIn: z.number(),
  keysRepaired: z.number(),
  digestsIn: z.number(),
  rejected: z.number(),
  synced: z.boolean(),
});

const member = z.strictObject({
  node: z.string(),
  incarnation: z.number(),
  state: z.enum(["alive", "suspect", "dead", "unknown"]),
  lastHeardAt: z.number(),
  since: z.number(),
  self: z.boolean(),
});

const stateKey = z.string().min(1).max(512);
const fieldName = z.string().min(1).max(128);
export const updateOp = z.discriminatedUnion("op", [
  z.strictObject({ op: z.literal("set"), field: fieldName, value: z.json() }),
  z.strictObject({ op: z.literal("add"), field: fieldName, elem: z.json() }),
  z.strictObject({ op: z.literal("remove"), field: fieldName, elem: z.json() }),
  z.strictObject({ op: z.literal("delete-field"), field: fieldName }),
  z.strictObject({ op: z.literal("delete-key") }),
]);
const update = z.strictObject({ key: stateKey, ops: z.array(updateOp).min(1).max(100) });

export const membersBody = z.strictObject({ node: z.string(), members: z.array(member) });
export type MembersBody = z.infer<typeof membersBody>;
export const stateKeysBody = z.strictObject({ node: z.string(), keys: z.array(z.string()) });
export type StateKeysBody = z.infer<typeof stateKeysBody>;
export const stateGetBody = z.strictObject({ node: z.string(), key: z.string(), value: keyView.nullable() });
export type StateGetBody = z.infer<typeof stateGetBody>;

export const taskLsBody = z.strictObject({
  node: z.string(),
  tasks: z.array(z.strictObject({ owner: z.string(), task: taskSchema })),
});
export type TaskLsBody = z.infer<typeof taskLsBody>;

const backend = z.strictObject({ owner: z.string(), taskId: z.string(), agentIp: z.string(), ip: z.string(), port: z.number(), weight: z.union([z.literal(0), z.literal(1)]) });
export const vipLsBody = z.strictObject({ node: z.string(), vips: z.array(z.strictObject({ vip: z.string(), backends: z.array(backend) })) });
export type VipLsBody = z.infer<typeof vipLsBody>;

const zoneRow = z.strictObject({ name: z.string(), type: z.string(), ttl: z.number(), data: z.string() });
export const dnsRecordsBody = z.strictObject({ node: z.string(), zones: z.array(z.string()), rows: z.array(zoneRow) });
export type DnsRecordsBody = z.infer<typeof dnsRecordsBody>;
export const dnsLookupBody = z.strictObject({
  node: z.string(),
  server: z.string(),
  rcode: z.string(),
  flags: z.array(z.string()),
  ms: z.number(),
  answers: z.array(zoneRow),
  authority: z.array(zoneRow),
  additional: z.array(zoneRow),
});
export type DnsLookupBody = z.infer<typeof dnsLookupBody>;
const dnsName = z.string().min(1).max(253).regex(/^[A-Za-z0-9_*.-]+\.?$/, "a domain name");

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
  gossip: gossipCounters.optional(),
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
  membersReq: defineKind("admin.members", empty),
  members: defineKind("admin.members.reply", membersBody),
  stateKeysReq: defineKind("admin.state-keys", z.strictObject({ prefix: z.string().max(512) })),
  stateKeys: defineKind("admin.state-keys.reply", stateKeysBody),
  stateGetReq: defineKind("admin.state-get", z.strictObject({ key: stateKey })),
  stateGet: defineKind("admin.state-get.reply", stateGetBody),
  stateUpdateReq: defineKind("admin.state-update", update),
  stateBatchReq: defineKind("admin.state-batch", z.strictObject({ updates: z.array(update).min(1).max(2000) })),
  taskAddReq: defineKind("admin.task-add", z.strictObject({ task: taskSchema, ttlMs: z.number().int().min(1000).max(86_400_000).optional() })),
  taskRmReq: defineKind("admin.task-rm", z.strictObject({ id: z.string().min(1).max(512) })),
  taskLsReq: defineKind("admin.task-ls", empty),
  taskLs: defineKind("admin.task-ls.reply", taskLsBody),
  vipLsReq: defineKind("admin.vip-ls", empty),
  vipLs: defineKind("admin.vip-ls.reply", vipLsBody),
  dnsRecordsReq: defineKind("admin.dns-records", z.strictObject({ zone: dnsName.optional() })),
  dnsRecords: defineKind("admin.dns-records.reply", dnsRecordsBody),
  dnsLookupReq: defineKind("admin.dns-lookup", z.strictObject({ name: dnsName, type: z.string().regex(/^[A-Za-z0-9]{1,10}$/, "a record type such as A, AAAA, SRV") })),
  dnsLookup: defineKind("admin.dns-lookup.reply", dnsLookupBody),
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
  members: { request: kinds.membersReq, reply: kinds.members },
  "state-keys": { request: kinds.stateKeysReq, reply: kinds.stateKeys },
  "state-get": { request: kinds.stateGetReq, reply: kinds.stateGet },
  "state-update": { request: kinds.stateUpdateReq, reply: kinds.ok },
  "state-batch": { request: kinds.stateBatchReq, reply: kinds.ok },
  "task-add": { request: kinds.taskAddReq, reply: kinds.ok },
  "task-rm": { request: kinds.taskRmReq, reply: kinds.ok },
  "task-ls": { request: kinds.taskLsReq, reply: kinds.taskLs },
  "vip-ls": { request: kinds.vipLsReq, reply: kinds.vipLs },
  "dns-records": { request: kinds.dnsRecordsReq, reply: kinds.dnsRecords },
  "dns-lookup": { request: kinds.dnsLookupReq, reply: kinds.dnsLookup },
} as const;

export type OpName = keyof typeof ops;
export const OP_NAMES = Object.keys(ops) as OpName[];

/** Stable error codes in admin error replies (docs/errors.md lists them). */
export const ADMIN_ERRORS = {
  badRequest: "DCNET_E_ADMIN_BAD_REQUEST",
  crashDisabled: "DCNET_E_ADMIN_CRASH_DISABLED",
  noSuchActor: "DCNET_E_ADMIN_NO_SUCH_ACTOR",
  unavailable: "DCNET_E_ADMIN_UNAVAILABLE",
  internal: "DCNET_E_ADMIN_INTERNAL",
} as const;
