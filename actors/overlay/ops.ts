// The overlay's admin ops: this node's place in the overlay and its peers (`overlay status`).
// Declarations only at import time (zod, types): `dcnet ctl` loads this.
import { z } from "zod";
import { cliGroup, defineOp, table } from "../admin/ops.js";
import type { OverlayApplierMsg, OverlayStatus } from "./applier.actor.js";

const OVERLAY = cliGroup("overlay", "this node's place in the VXLAN overlay and its peers");

const statusReply = z.strictObject({
  node: z.string(),
  enabled: z.boolean(),
  own: z.strictObject({ node: z.string(), agentIp: z.string(), vtepIp: z.string(), vtepMac: z.string(), subnet: z.string(), vtepIp6: z.string().optional(), subnet6: z.string().optional() }).optional(),
  mtu: z.number().optional(),
  peers: z.array(z.strictObject({ node: z.string(), agentIp: z.string(), vtepIp: z.string(), subnet: z.string(), state: z.enum(["programmed", "dead", "skipped"]), reason: z.string().optional() })),
  lastSync: z.strictObject({ at: z.number(), ms: z.number(), ok: z.boolean(), error: z.string().optional() }).optional(),
  repairs: z.number(),
});
type StatusReply = z.output<typeof statusReply>;

export const overlayStatus = defineOp({
  name: "overlay-status",
  role: "viewer",
  request: z.strictObject({}),
  reply: statusReply,
  async handle(_req, ctx): Promise<StatusReply> {
    if (!ctx.config.overlay.enabled) return { node: ctx.config.id, enabled: false, peers: [], repairs: 0 };
    const s = await ctx.actor<OverlayApplierMsg>("/node/overlay/applier", "the overlay runs when overlay.enabled is true").ask<OverlayStatus>((reply) => ({ type: "status", reply }), 20_000);
    return {
      node: ctx.config.id,
      enabled: true,
      ...(s.own ? { own: { ...s.own } } : {}),
      ...(s.mtu !== undefined ? { mtu: s.mtu } : {}),
      peers: s.peers.map((p) => ({ ...p })),
      ...(s.lastSync ? { lastSync: { ...s.lastSync } } : {}),
      repairs: s.repairs,
    };
  },
  cli: [{ group: OVERLAY, command: "status", description: "this node's subnet, VTEP and MTU, each peer and its state, last sync, drift repairs", request: () => ({}) }],
  human: (s) => formatOverlayStatus(s),
  summary: (s) => (s.enabled ? `${s.own?.subnet ?? "no subnet yet"}, ${s.peers.length} peers` : "overlay off"),
});

export function formatOverlayStatus(s: StatusReply): string {
  if (!s.enabled) return `overlay is off on ${s.node} (overlay.enabled: false)`;
  const own = s.own ? `subnet ${s.own.subnet}  vtep ${s.own.vtepIp} ${s.own.vtepMac}  underlay ${s.own.agentIp}  mtu ${s.mtu ?? "?"}` : "no subnet claimed yet";
  const last = s.lastSync ? `${s.lastSync.ok ? "ok" : `FAILED (${s.lastSync.error ?? "?"})`} ${new Date(s.lastSync.at).toISOString()} in ${s.lastSync.ms.toFixed(1)} ms` : "never";
  const peers = s.peers.length === 0 ? "(no peers)" : table(["PEER", "UNDERLAY", "VTEP", "SUBNET", "STATE"], s.peers.map((p) => [p.node, p.agentIp, p.vtepIp, p.subnet, p.reason ? `${p.state} (${p.reason})` : p.state]));
  return [`node ${s.node}  ${own}`, `last sync: ${last}; drift repairs ${s.repairs}`, "", peers].join("\n");
}

/** The overlay's ops, in `dcnet ctl --help` order. */
export const OVERLAY_OPS = [overlayStatus] as const;
