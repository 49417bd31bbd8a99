// The L4LB's admin ops: the VIP table as this node programs it (`vip ls`: address, each backend's
// state), the applier's status (`l4lb status`), and removing / resuming its kernel state. Declarations
// only at import time (zod, types): `dcnet ctl` loads this. `vip ls` lives here rather than in the
// catalogue because what an operator asks is "where do connections to this VIP go from here",
// which only the L4LB knows; on a node without the L4LB it shows the catalogue's table.
import { z } from "zod";
import { AdminOpError, ADMIN_ERRORS, cliGroup, defineOp, OK_REPLY, table, type OpContext } from "../admin/ops.js";
import type { VipsMsg, VipTable } from "../catalogue/index.js";
import type { ApplierMsg, ApplierStatus } from "./applier.actor.js";
import type { VipView } from "./render/desired.js";

const ASK_TIMEOUT_MS = 30_000;
const VIP = cliGroup("vip", "the VIP table");
const L4LB = cliGroup("l4lb", "this node's east-west load balancer (nftables)");
const APPLIER = "/node/l4lb/applier";
const CATALOGUE_VIPS = "/node/catalogue/vips";

const backendRow = z.strictObject({
  owner: z.string(),
  taskId: z.string(),
  ip: z.string(),
  port: z.number(),
  state: z.enum(["serving", "draining", "unreachable"]),
});
const vipRow = z.strictObject({
  vip: z.string(),
  name: z.string().optional(),
  addresses: z.array(z.string()),
  pending: z.boolean(),
  skipped: z.string().optional(),
  backends: z.array(backendRow),
});
type VipRow = z.output<typeof vipRow>;

function rowsFromViews(views: readonly VipView[]): VipRow[] {
  return views.map((v) => ({
    vip: v.vip,
    ...(v.dnsName ? { name: `${v.dnsName}.l4lb.thisdcos.directory` } : {}),
    addresses: v.addresses.map((a) => a.addr),
    pending: v.pending,
    ...(v.skipped ? { skipped: `${v.skipped.reason}: ${v.skipped.message}` } : {}),
    backends: v.backends.map((b) => ({ owner: b.owner, taskId: b.taskId, ip: b.ip, port: b.port, state: b.state })),
  }));
}

function rowsFromTable(t: VipTable): VipRow[] {
  return [...t].map(([vip, backends]) => ({
    vip,
    addresses: [],
    pending: false,
    backends: backends.map((b) => ({ owner: b.owner, taskId: b.taskId, ip: b.ip, port: b.port, state: b.weight > 0 ? ("serving" as const) : ("draining" as const) })),
  }));
}

export const vipLs = defineOp({
  name: "vip-ls",
  role: "viewer",
  request: z.strictObject({}),
  reply: z.strictObject({ node: z.string(), programmed: z.boolean(), vips: z.array(vipRow) }),
  async handle(_req, ctx) {
    if (ctx.config.l4lb.enabled) {
      const views = await applier(ctx).ask<readonly VipView[] | undefined>((reply) => ({ type: "views", reply }), ASK_TIMEOUT_MS);
      if (views !== undefined) return { node: ctx.config.id, programmed: true, vips: rowsFromViews(views) };
    }
    const t = await ctx.actor<VipsMsg>(CATALOGUE_VIPS).ask<VipTable>((reply) => ({ type: "table", reply }), ASK_TIMEOUT_MS);
    return { node: ctx.config.id, programmed: false, vips: rowsFromTable(t) };
  },
  cli: [{ group: VIP, command: "ls", description: "every VIP: its DNS name and address, each backend and its state (serving, draining, unreachable)", request: () => ({}) }],
  human: (v) => formatVips(v.node, v.programmed, v.vips),
  summary: (v) => `${v.vips.length} VIPs`,
});

export function formatVips(node: string, programmed: boolean, list: readonly VipRow[]): string {
  if (list.length === 0) return `(no VIPs in the catalogue of ${node})`;
  const rows = list.flatMap((v) => {
    const addr = v.skipped ? `skipped (${v.skipped})` : v.pending ? "allocating" : v.addresses.join(",") || (programmed ? "-" : "(l4lb off)");
    const head = [v.vip, v.name ?? "-", addr];
    if (v.backends.length === 0) return [[...head, "-", "-", "-", "-"]];
    return v.backends.map((b, i) => [...(i === 0 ? head : ["", "", ""]), `${b.ip}:${b.port}`, b.state, b.owner, b.taskId]);
  });
  return table(["VIP", "NAME", "ADDRESS", "BACKEND", "STATE", "OWNER", "TASK"], rows);
}

function applier(ctx: OpContext) {
  return ctx.actor<ApplierMsg>(APPLIER, "the L4LB runs when l4lb.enabled is true");
}

const statusReply = z.strictObject({
  node: z.string(),
  enabled: z.boolean(),
  paused: z.boolean().optional(),
  waiting: z.string().optional(),
  lastSync: z.strictObject({ at: z.number(), ms: z.number(), ok: z.boolean(), error: z.string().optional() }).optional(),
  vips: z.number(),
  backends: z.number(),
  unreachableBackends: z.number(),
  elements: z.number(),
  repairs: z.strictObject({ adopt: z.number(), drift: z.number() }),
  conntrack: z.strictObject({ flushed: z.number(), failed: z.number() }),
  nftFailures: z.number(),
  skipped: z.array(z.strictObject({ vip: z.string(), reason: z.string(), message: z.string() })),
});
type StatusReply = z.output<typeof statusReply>;

export const l4lbStatus = defineOp({
  name: "l4lb-status",
  role: "viewer",
  request: z.strictObject({}),
  reply: statusReply,
  async handle(_req, ctx): Promise<StatusReply> {
    const zero = { vips: 0, backends: 0, unreachableBackends: 0, elements: 0, repairs: { adopt: 0, drift: 0 }, conntrack: { flushed: 0, failed: 0 }, nftFailures: 0, skipped: [] };
    if (!ctx.config.l4lb.enabled) return { node: ctx.config.id, enabled: false, ...zero };
    const s = await applier(ctx).ask<ApplierStatus>((reply) => ({ type: "status", reply }), ASK_TIMEOUT_MS);
    return {
      node: ctx.config.id,
      enabled: true,
      paused: s.paused,
      ...(s.waiting ? { waiting: s.waiting } : {}),
      ...(s.lastSync ? { lastSync: { ...s.lastSync } } : {}),
      vips: s.vips,
      backends: s.backends,
      unreachableBackends: s.unreachableBackends,
      elements: s.elements,
      repairs: { ...s.repairs },
      conntrack: { ...s.conntrack },
      nftFailures: s.nftFailures,
      skipped: s.skipped.map((k) => ({ vip: k.vip, reason: k.reason, message: k.message })),
    };
  },
  cli: [{ group: L4LB, command: "status", description: "last sync, kernel elements, drift repairs, conntrack flushes, skipped VIPs", request: () => ({}) }],
  human: (s) => formatStatus(s),
  summary: (s) => (s.enabled ? `${s.vips} VIPs, ${s.repairs.drift} drift repairs` : "l4lb off"),
});

export function formatStatus(s: StatusReply): string {
  if (!s.enabled) return `l4lb is off on ${s.node} (l4lb.enabled: false)`;
  const last = s.lastSync ? `${s.lastSync.ok ? "ok" : `FAILED (${s.lastSync.error ?? "?"})`} ${new Date(s.lastSync.at).toISOString()} in ${s.lastSync.ms.toFixed(1)} ms` : "never";
  const lines = [
    `node ${s.node}  l4lb ${s.paused ? "PAUSED (tables removed; `dcnet ctl l4lb resume`)" : "on"}${s.waiting ? `  waiting for ${s.waiting}` : ""}`,
    `last sync: ${last}`,
    `kernel: ${s.vips} VIPs, ${s.elements} elements; backends ${s.backends} (${s.unreachableBackends} unreachable)`,
    `repairs: ${s.repairs.adopt} at adoption, ${s.repairs.drift} drift; conntrack entries flushed ${s.conntrack.flushed} (${s.conntrack.failed} failed); nft failures ${s.nftFailures}`,
  ];
  if (s.skipped.length > 0) lines.push("", table(["SKIPPED VIP", "REASON", "WHY"], s.skipped.map((k) => [k.vip, k.reason, k.message])));
  return lines.join("\n");
}

export const l4lbCleanup = defineOp({
  name: "l4lb-cleanup",
  role: "admin",
  request: z.strictObject({}),
  ...OK_REPLY,
  async handle(_req, ctx) {
    const r = await applier(ctx).ask<{ ok: boolean; error?: string }>((reply) => ({ type: "cleanup", reply }), ASK_TIMEOUT_MS);
    if (!r.ok) throw new AdminOpError(ADMIN_ERRORS.unavailable, `removing the L4LB tables failed: ${r.error ?? "unknown error"}`, 503);
    return { node: ctx.config.id, message: "L4LB tables removed; programming paused until `dcnet ctl l4lb resume` or a restart" };
  },
  cli: [{ group: L4LB, command: "cleanup", description: "remove this node's L4LB tables from the kernel and pause programming", needsTarget: true, request: () => ({}) }],
});

export const l4lbResume = defineOp({
  name: "l4lb-resume",
  role: "admin",
  request: z.strictObject({}),
  ...OK_REPLY,
  handle(_req, ctx) {
    applier(ctx).tell({ type: "resume" });
    return { node: ctx.config.id, message: "L4LB programming resumed" };
  },
  cli: [{ group: L4LB, command: "resume", description: "program the kernel again after `l4lb cleanup`", needsTarget: true, request: () => ({}) }],
});

/** The L4LB's ops, in `dcnet ctl --help` order. */
export const L4LB_OPS = [vipLs, l4lbStatus, l4lbCleanup, l4lbResume] as const;
