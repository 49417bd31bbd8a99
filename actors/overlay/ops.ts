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
  peers: z.array(z.strictObject({ node: z.string(), agentIp: z.string(), vtepIp: z.string(), subnet: z.string(), state: z.enum(["programmed", "dead", "skipped"]), reason: z.string().optional(), path: z.enum(["vxlan", "direct"]).optional() })),
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
  const peers = s.peers.length === 0 ? "(no peers)" : table(["PEER", "UNDERLAY", "VTEP", "SUBNET", "PATH", "STATE"], s.peers.map((p) => [p.node, p.agentIp, p.vtepIp, p.subnet, p.path ?? "-", p.reason ? `${p.state} (${p.reason})` : p.state]));
  return [`node ${s.node}  ${own}`, `last sync: ${last}; drift repairs ${s.repairs}`, "", peers].join("\n");
}

const leaseRecord = z.looseObject({ containerId: z.string(), ifname: z.string(), netns: z.string().optional() });
const leasesReply = z.strictObject({
  node: z.string(),
  dir: z.string(),
  leases: z.array(z.strictObject({ address: z.string(), containerId: z.string(), ifname: z.string(), netns: z.string().optional() })),
  unreadable: z.number(),
});

/**
 * The addresses dcnet-cni has leased on this node, read from its lease folder (cli/cni/README.md:
 * one file per address, named by it, holding one JSON line). Read where the plugin writes them, not
 * kept in an actor: the plugin is a separate process per container and the files are the record.
 */
export const overlayLeases = defineOp({
  name: "overlay-leases",
  role: "viewer",
  request: z.strictObject({}),
  reply: leasesReply,
  async handle(_req, ctx) {
    const { readdir, readFile } = await import("node:fs/promises");
    const { isIP } = await import("node:net");
    const dir = `${ctx.config.overlay.cniStateDir}/${ctx.config.overlay.name}`;
    const names = await readdir(dir).catch(() => [] as string[]);
    const leases: Array<z.output<typeof leasesReply>["leases"][number]> = [];
    let unreadable = 0;
    for (const address of names.filter((n) => isIP(n) !== 0).sort()) {
      const text = await readFile(`${dir}/${address}`, "utf8").catch(() => "");
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
      const rec = leaseRecord.safeParse(json);
      if (!rec.success) {
        unreadable += 1;
        continue;
      }
      leases.push({ address, containerId: rec.data.containerId, ifname: rec.data.ifname, ...(rec.data.netns ? { netns: rec.data.netns } : {}) });
    }
    return { node: ctx.config.id, dir, leases, unreadable };
  },
  cli: [{ group: OVERLAY, command: "leases", description: "addresses the dcnet-cni plugin has leased to containers on this node", request: () => ({}) }],
  human: (r) =>
    r.leases.length === 0
      ? `(no leases in ${r.dir} on ${r.node})`
      : [table(["ADDRESS", "CONTAINER", "IFNAME", "NETNS"], r.leases.map((l) => [l.address, l.containerId, l.ifname, l.netns ?? "-"])), ...(r.unreadable ? [`${r.unreadable} lease files unreadable`] : [])].join("\n"),
  summary: (r) => `${r.leases.length} leases`,
});

/** The overlay's ops, in `dcnet ctl --help` order. */
export const OVERLAY_OPS = [overlayStatus, overlayLeases] as const;
