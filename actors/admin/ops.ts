// What each admin operation does. Kept apart from the NATS service so it reads as a table.
import type { Logger } from "pino";
import type { Tree } from "../../supervisors/index.js";
import type { Transport } from "../../transport/index.js";
import type { Config, LogLevel } from "../../config/index.js";
import type { LogHub } from "../../observability/logger.js";
import { ADMIN_ERRORS, type OpName, type StatusBody, type PongBody, type OkBody, type MembersBody, type StateKeysBody, type StateGetBody, type TaskLsBody, type VipLsBody, type DnsRecordsBody, type DnsLookupBody } from "./protocol.js";
import { dnsLookup, dnsRecords } from "./dns-ops.js";
import { AdminOpError } from "./errors.js";
import { members, stateKeys, stateGet, stateUpdate, gossipCounters } from "./gossip-ops.js";
import { taskAdd, taskRm, taskLs, vipLs } from "./catalogue-ops.js";
import type { Task } from "../catalogue/index.js";
import type { UpdateOp } from "../gossip/index.js";

export interface OpDeps {
  readonly config: Config;
  readonly transport: Transport;
  readonly logs: LogHub;
  readonly logger: Logger;
  readonly version: string;
  readonly startedAt: number;
  readonly tree: () => Tree | undefined;
  readonly shutdown: (reason: string) => void;
}

export { AdminOpError };

export interface OpResult {
  readonly reply: StatusBody | PongBody | OkBody | MembersBody | StateKeysBody | StateGetBody | TaskLsBody | VipLsBody | DnsRecordsBody | DnsLookupBody;
  /** Runs after the reply is sent (crash, shutdown). */
  readonly after?: () => void;
}

export async function runOp(deps: OpDeps, op: OpName, body: unknown): Promise<OpResult> {
  const node = deps.config.id;
  switch (op) {
    case "ping":
      return { reply: { node, version: deps.version, uptimeMs: Date.now() - deps.startedAt } };
    case "status":
      return { reply: await status(deps) };
    case "crash":
      return crash(deps, body as { path: string; reason?: string });
    case "log-level": {
      const { level } = body as { level: LogLevel };
      const before = deps.logs.level();
      deps.logs.setLevel(level);
      deps.logger.warn({ from: before, to: level }, "log level changed by admin request");
      return { reply: { node, message: `log level ${before} -> ${level}` } };
    }
    case "members":
      return { reply: { node, members: [...(await members(deps.tree()))] } };
    case "state-keys":
      return { reply: { node, keys: [...(await stateKeys(deps.tree(), (body as { prefix: string }).prefix))] } };
    case "state-get": {
      const { key } = body as { key: string };
      return { reply: { node, key, value: ((await stateGet(deps.tree(), key)) ?? null) as StateGetBody["value"] } };
    }
    case "state-update": {
      const u = body as { key: string; ops: UpdateOp[] };
      await stateUpdate(deps.tree(), [u]);
      return { reply: { node, message: `updated ${u.key}` } };
    }
    case "state-batch": {
      const n = await stateUpdate(deps.tree(), (body as { updates: Array<{ key: string; ops: UpdateOp[] }> }).updates);
      return { reply: { node, message: `applied ${n} updates` } };
    }
    case "task-add": {
      const { task, ttlMs } = body as { task: Task; ttlMs?: number };
      await taskAdd(deps.tree(), task, ttlMs);
      return { reply: { node, message: `registered ${task.id}${ttlMs ? ` (ttl ${ttlMs} ms)` : ""}` } };
    }
    case "task-rm": {
      const { id } = body as { id: string };
      await taskRm(deps.tree(), id);
      return { reply: { node, message: `deregistered ${id}` } };
    }
    case "task-ls":
      return { reply: { node, tasks: await taskLs(deps.tree()) } };
    case "vip-ls":
      return { reply: { node, vips: await vipLs(deps.tree()) } };
    case "dns-records":
      return { reply: { node, ...(await dnsRecords(deps.tree(), (body as { zone?: string }).zone)) } };
    case "dns-lookup": {
      const { name, type } = body as { name: string; type: string };
      return { reply: { node, ...(await dnsLookup(deps.tree(), name, type)) } };
    }
    case "shutdown":
      deps.logger.warn("shutdown requested by admin request");
      return { reply: { node, message: "shutting down" }, after: () => deps.shutdown("admin request") };
  }
}

async function status(deps: OpDeps): Promise<StatusBody> {
  const conn = deps.transport.status();
  const gossip = await gossipCounters(deps.tree());
  return {
    node: deps.config.id,
    cluster: deps.config.cluster,
    version: deps.version,
    pid: process.pid,
    uptimeMs: Date.now() - deps.startedAt,
    logLevel: deps.logs.level(),
    nats: { state: conn.state, ...(conn.server ? { server: conn.server } : {}), since: conn.since },
    actors: (deps.tree()?.stats() ?? []).map((s) => ({ ...s })),
    rejected: deps.transport.rejects.snapshot(),
    ...(gossip ? { gossip: { ...gossip } } : {}),
  };
}

function crash(deps: OpDeps, req: { path: string; reason?: string }): OpResult {
  const node = deps.config.id;
  if (!deps.config.admin.allowCrash) {
    throw new AdminOpError(ADMIN_ERRORS.crashDisabled, "crash is disabled on this node (set admin.allowCrash: true to enable fault injection)", 403);
  }
  const tree = deps.tree();
  const known = tree?.stats().some((s) => s.path === req.path && s.kind === "worker") ?? false;
  if (!tree || !known) throw new AdminOpError(ADMIN_ERRORS.noSuchActor, `no worker actor at path ${req.path}`, 404);
  const reason = req.reason ?? "crash injected by admin request";
  deps.logger.warn({ actor: req.path, reason }, "crash injected by admin request");
  return { reply: { node, message: `crashed ${req.path}` }, after: () => void tree.crash(req.path, reason) };
}
