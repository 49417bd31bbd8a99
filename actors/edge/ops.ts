// The edge's admin ops: `edge status` (services, slots, last reload and why, rejected services and
// pools), `edge config` (the HAProxy config as rendered, current servers included), and Edge-LB style pools: `edge pool apply FILE | ls | rm NAME`. Pools are
// kept in the replicated store (`edge/pools/<name>`), so every edge node serves the same pools; they
// can be applied and listed from any node, edge or not. Declarations only at import time.
import { z } from "zod";
import { AdminOpError, AdminRequestError, ADMIN_ERRORS, cliGroup, defineOp, table, type OpContext } from "../admin/ops.js";
import type { KeyView, StoreMsg, UpdateOp, UpdateResult, Value } from "../gossip/index.js";
import type { EdgeMsg, EdgeStatus } from "./edge.actor.js";
import { readPool } from "./plan/pool.js";

const ASK_TIMEOUT_MS = 30_000;
const EDGE = cliGroup("edge", "the L7 north-south edge (HAProxy)");
const EDGE_ACTOR = "/node/edge/haproxy";
const STORE = "/node/gossip/store";
const POOLS = "edge/pools/";

function edge(ctx: OpContext) {
  return ctx.actor<EdgeMsg>(EDGE_ACTOR, "the edge runs when edge.enabled is true");
}

const rejectedRow = z.strictObject({ source: z.enum(["labels", "pool"]), name: z.string(), reason: z.string() });
const statusReply = z.strictObject({
  node: z.string(),
  enabled: z.boolean(),
  running: z.boolean(),
  pid: z.number().optional(),
  reloads: z.number(),
  restarts: z.number(),
  runtimeCommands: z.number(),
  lastReload: z.strictObject({ at: z.number(), reason: z.string(), ok: z.boolean(), ms: z.number(), error: z.string().optional() }).optional(),
  lastError: z.string().optional(),
  services: z.array(z.strictObject({ backend: z.string(), owner: z.string(), mode: z.string(), slots: z.number(), used: z.number(), ready: z.number(), draining: z.number() })),
  frontends: z.array(z.strictObject({ name: z.string(), port: z.number(), mode: z.string(), routes: z.number() })),
  rejected: z.array(rejectedRow),
  pools: z.array(z.string()),
});
type StatusReply = z.output<typeof statusReply>;

export const edgeStatus = defineOp({
  name: "edge-status",
  role: "viewer",
  request: z.strictObject({}),
  reply: statusReply,
  async handle(_req, ctx): Promise<StatusReply> {
    if (!ctx.config.edge.enabled) return { node: ctx.config.id, enabled: false, running: false, reloads: 0, restarts: 0, runtimeCommands: 0, services: [], frontends: [], rejected: [], pools: [] };
    const s = await edge(ctx).ask<EdgeStatus>((reply) => ({ type: "status", reply }), ASK_TIMEOUT_MS);
    return {
      node: ctx.config.id,
      enabled: true,
      running: s.running,
      ...(s.pid !== undefined ? { pid: s.pid } : {}),
      reloads: s.reloads,
      restarts: s.restarts,
      runtimeCommands: s.runtimeCommands,
      ...(s.lastReload ? { lastReload: { ...s.lastReload } } : {}),
      ...(s.lastError ? { lastError: s.lastError } : {}),
      services: s.services.map((x) => ({ ...x })),
      frontends: s.frontends.map((x) => ({ ...x })),
      rejected: s.rejected.map((x) => ({ ...x })),
      pools: [...s.pools],
    };
  },
  cli: [{ group: EDGE, command: "status", description: "services and slot use, frontends, reloads (last one and why), rejected services and pools", request: () => ({}) }],
  human: (s) => formatStatus(s),
  summary: (s) => (s.enabled ? `${s.services.length} backends, ${s.reloads} reloads, ${s.rejected.length} rejected` : "edge off"),
});

export function formatStatus(s: StatusReply): string {
  if (!s.enabled) return `the edge is off on ${s.node} (edge.enabled: false)`;
  const last = s.lastReload ? `${s.lastReload.ok ? "ok" : `FAILED (${s.lastReload.error ?? "?"})`} ${new Date(s.lastReload.at).toISOString()} in ${s.lastReload.ms.toFixed(0)} ms: ${s.lastReload.reason}` : "never";
  const lines = [
    `node ${s.node}  haproxy ${s.running ? `running (pid ${s.pid ?? "?"})` : "NOT RUNNING"}  reloads ${s.reloads}  restarts ${s.restarts}  runtime commands ${s.runtimeCommands}`,
    `last reload: ${last}`,
    ...(s.lastError ? [`last error: ${s.lastError}`] : []),
    ...(s.pools.length > 0 ? [`pools: ${s.pools.join(", ")}`] : []),
  ];
  if (s.frontends.length > 0) lines.push("", table(["FRONTEND", "PORT", "MODE", "ROUTES"], s.frontends.map((f) => [f.name, String(f.port), f.mode, String(f.routes)])));
  if (s.services.length > 0) lines.push("", table(["BACKEND", "FROM", "MODE", "READY", "DRAINING", "SLOTS USED"], s.services.map((b) => [b.backend, b.owner, b.mode, String(b.ready), String(b.draining), `${b.used}/${b.slots}`])));
  if (s.rejected.length > 0) lines.push("", table(["REJECTED", "SOURCE", "WHY"], s.rejected.map((r) => [r.name, r.source, r.reason])));
  return lines.join("\n");
}

export const edgeConfig = defineOp({
  name: "edge-config",
  role: "operator",
  request: z.strictObject({}),
  reply: z.strictObject({ node: z.string(), text: z.string() }),
  async handle(_req, ctx) {
    const text = await edge(ctx).ask<string | undefined>((reply) => ({ type: "config", reply }), ASK_TIMEOUT_MS);
    if (text === undefined) throw new AdminOpError(ADMIN_ERRORS.unavailable, "no config rendered yet (HAProxy not started)", 503);
    return { node: ctx.config.id, text };
  },
  cli: [{ group: EDGE, command: "config", description: "the HAProxy config as rendered (current servers included)", request: () => ({}) }],
  human: (r) => r.text,
  summary: (r) => `${r.text.length} bytes`,
});

const poolRow = z.strictObject({ name: z.string(), frontends: z.array(z.string()), backends: z.array(z.string()), problem: z.string().optional() });

// One op for the three pool actions, so the CLI reads as Edge-LB's (`edge pool apply|ls|rm`): the
// admin CLI has one level of command groups.
export const edgePool = defineOp({
  name: "edge-pool",
  role: "operator",
  request: z.discriminatedUnion("action", [
    z.strictObject({ action: z.literal("apply"), pool: z.unknown() }),
    z.strictObject({ action: z.literal("ls") }),
    z.strictObject({ action: z.literal("rm"), name: z.string().min(1).max(63) }),
  ]),
  reply: z.strictObject({ node: z.string(), message: z.string(), pools: z.array(poolRow).optional() }),
  async handle(req, ctx) {
    const s = ctx.actor<StoreMsg>(STORE);
    const update = async (key: string, ops: UpdateOp[]): Promise<void> => {
      const res = await s.ask<UpdateResult>((reply) => ({ type: "update", key, ops, reply }), ASK_TIMEOUT_MS);
      if (!res.ok) throw new AdminOpError(ADMIN_ERRORS.badRequest, res.error, 400);
    };
    switch (req.action) {
      case "apply": {
        const r = readPool(req.pool);
        if (!r.ok) throw new AdminOpError(ADMIN_ERRORS.badRequest, `pool rejected: ${r.reason}`, 400);
        // Stored as applied (readers check it again: a newer node's document is read by its known fields or refused).
        await update(`${POOLS}${r.pool.name}`, [{ op: "set", field: "pool", value: JSON.parse(JSON.stringify(req.pool)) as Value }]);
        return { node: ctx.config.id, message: `pool ${r.pool.name} applied (${r.pool.haproxy.frontends.length} frontends, ${r.pool.haproxy.backends.length} backends)` };
      }
      case "rm": {
        const has = await s.ask<KeyView | undefined>((reply) => ({ type: "get", key: `${POOLS}${req.name}`, reply }), ASK_TIMEOUT_MS);
        if (!has) throw new AdminOpError(ADMIN_ERRORS.badRequest, `no pool ${req.name}`, 404);
        await update(`${POOLS}${req.name}`, [{ op: "delete-key" }]);
        return { node: ctx.config.id, message: `pool ${req.name} removed` };
      }
      case "ls": {
        const keys = await s.ask<readonly string[]>((reply) => ({ type: "keys", prefix: POOLS, reply }), ASK_TIMEOUT_MS);
        const pools: z.output<typeof poolRow>[] = [];
        for (const key of [...keys].sort()) {
          const f = (await s.ask<KeyView | undefined>((reply) => ({ type: "get", key, reply }), ASK_TIMEOUT_MS))?.["pool"];
          if (!f || f.type !== "lww") continue;
          const r = readPool(f.value);
          const name = key.slice(POOLS.length);
          pools.push(
            r.ok
              ? { name, frontends: r.pool.haproxy.frontends.map((x) => `${x.protocol} ${x.bindAddress ?? "*"}:${x.bindPort}`), backends: r.pool.haproxy.backends.map((b) => b.name) }
              : { name, frontends: [], backends: [], problem: r.reason },
          );
        }
        return { node: ctx.config.id, message: `${pools.length} pools`, pools };
      }
    }
  },
  cli: [
    {
      group: EDGE,
      command: "pool <action> [arg]",
      description: "Edge-LB style pools, replicated to every edge node: `pool apply FILE` (V2 pool JSON; '-' reads stdin; checked before it is stored), `pool ls`, `pool rm NAME`",
      async request(a) {
        const action = a.arg(0);
        const arg = a.optionalArg(1);
        if (action === "ls") return { action: "ls" as const };
        if (arg === undefined) throw new AdminRequestError(ADMIN_ERRORS.badRequest, `edge pool ${action}: missing ${action === "rm" ? "NAME" : "FILE"}`);
        if (action === "rm") return { action: "rm" as const, name: arg };
        if (action !== "apply") throw new AdminRequestError(ADMIN_ERRORS.badRequest, `edge pool: unknown action ${JSON.stringify(action)} (apply, ls, rm)`);
        const text = await a.readText(arg);
        try {
          return { action: "apply" as const, pool: JSON.parse(text) as unknown };
        } catch (err) {
          throw new AdminRequestError(ADMIN_ERRORS.badRequest, `${arg === "-" ? "stdin" : arg} is not valid JSON: ${(err as Error).message}`);
        }
      },
    },
  ],
  human: (r) => (r.pools === undefined ? r.message : r.pools.length === 0 ? "(no pools)" : table(["POOL", "FRONTENDS", "BACKENDS"], r.pools.map((p) => [p.name, p.problem ? `INVALID: ${p.problem}` : p.frontends.join(", "), p.backends.join(", ")]))),
  summary: (r) => r.message,
});

/** The edge's ops, in `dcnet ctl --help` order. */
export const EDGE_OPS = [edgeStatus, edgeConfig, edgePool] as const;
