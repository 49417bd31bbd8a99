// /node/overlay/applier: the one writer of this node's overlay kernel state. Follows the replicated
// overlay facts (`overlay/<node>`: this node's own, claimed by `claim`, and every peer's) and
// membership; creates this node's VTEP and bridges once, then programs per peer one neighbour, one
// FDB entry and one route — and REMOVES them when a peer dies or leaves (dcos-net never did). With
// overlay.directRouting a peer on this node's underlay subnet gets its route over the underlay
// device instead of the VTEP. It also writes the dcnet-cni network config for container runtimes.
//
// Why reading back lives here and not in a separate reconciler actor (as the L4LB's does): the
// overlay's kernel state is a few entries per peer, read in four small `ip -j` calls, so the check
// is a message on the same mailbox, and the repair cannot race a change.
import { readFileSync } from "node:fs";
import { mkdir, rename, writeFile } from "node:fs/promises";
import { networkInterfaces } from "node:os";
import { join } from "node:path";
import { Histogram, type Registry } from "prom-client";
import type { Logger } from "pino";
import type { ActorRef, Behaviour, ReplyTo } from "../../supervisors/index.js";
import type { Config } from "../../config/index.js";
import type { Member, MemberEvent, MembershipMsg, StoreMsg, WatchEvent } from "../gossip/index.js";
import { StoreUnavailableError } from "../gossip/index.js";
import { counter, gauge } from "../../observability/metrics.js";
import { OVERLAY_PREFIX, VTEP_DEVICE, VXLAN_OVERHEAD, type NodeOverlay, type OverlayDesired } from "./model.js";
import { overlayDesired } from "./render/desired.js";
import { batchTexts, entryPlan, peerEntries, setupOps, type PeerEntries } from "./render/ops.js";
import { compareOverlay } from "./render/readback.js";
import { bridgeBatch, ipBatch, readOverlay } from "./kernel/ip.js";
import { cniNetworkConfig } from "./cni-config.js";

export interface OverlayStatus {
  readonly own: NodeOverlay | undefined;
  readonly mtu: number | undefined;
  readonly peers: ReadonlyArray<{
    readonly node: string;
    readonly agentIp: string;
    readonly vtepIp: string;
    readonly subnet: string;
    readonly state: "programmed" | "dead" | "skipped";
    readonly reason?: string;
    /** How its IPv4 subnet is routed, when programmed: over the VTEP or straight over the underlay (directRouting). */
    readonly path?: "vxlan" | "direct";
  }>;
  readonly lastSync?: { readonly at: number; readonly ms: number; readonly ok: boolean; readonly error?: string };
  readonly repairs: number;
}

export type OverlayApplierMsg =
  | { readonly type: "changed"; readonly ev: WatchEvent }
  | { readonly type: "members"; readonly members: readonly Member[] }
  | { readonly type: "member"; readonly ev: MemberEvent }
  | { readonly type: "sync" }
  | { readonly type: "reconcile" }
  | { readonly type: "status"; readonly reply: ReplyTo<OverlayStatus> };

export interface OverlayApplierDeps {
  readonly nodeId: string;
  readonly config: Config["overlay"];
  /** The dns section: the CNI config's `dns` (the node's resolver addresses), when dns.resolver is on. */
  readonly dns?: Config["dns"];
  readonly logger: Logger;
  readonly metrics: Registry;
  readonly store: () => ActorRef<StoreMsg> | undefined;
  readonly membership: () => ActorRef<MembershipMsg> | undefined;
  /** Prefix of every ip/bridge command (tests run them inside a namespace); default none. */
  readonly commandPrefix?: readonly string[];
}

interface State {
  readonly facts: Map<string, NodeOverlay>;
  readonly dead: Set<string>;
  scheduled: boolean;
  /** The own facts the devices were created for; a change of them recreates the devices. */
  setupFor: string | undefined;
  /** Peer entries as programmed. */
  applied: PeerEntries;
  desired: OverlayDesired | undefined;
  skipped: ReadonlyMap<string, string>;
  mtu: number | undefined;
  /** The interface holding this node's agent address (null: none found), looked up once. */
  underlay: Underlay | null | undefined;
  lastSync: OverlayStatus["lastSync"];
  repairs: number;
  cniWritten: string;
  readonly watchId: number;
  readonly timer: NodeJS.Timeout;
  retry: NodeJS.Timeout | undefined;
  readonly unsubscribe: Array<() => void>;
}

export function overlayApplierBehaviour(deps: OverlayApplierDeps): Behaviour<State, OverlayApplierMsg> {
  const cfg = deps.config;
  const log = deps.logger;
  const opts = { command: [...(deps.commandPrefix ?? [])] };
  const m = {
    sync: (deps.metrics.getSingleMetric("dcnet_overlay_update_duration_seconds") as Histogram | undefined) ?? new Histogram({ name: "dcnet_overlay_update_duration_seconds", help: "One overlay sync: desired state from the facts, peers programmed (dcos-net overlay update duration)", buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5], registers: [deps.metrics] }),
    peers: gauge(deps.metrics, "dcnet_overlay_peers", "Peers programmed (neighbour + FDB + route each)"),
    networks: gauge(deps.metrics, "dcnet_overlay_networks", "Overlay networks configured on this node (dcos-net networks_configured)"),
    netlinkErrors: counter(deps.metrics, "dcnet_overlay_netlink_errors_total", "ip/bridge batches that failed (dcos-net netlink errors)"),
    repairs: counter(deps.metrics, "dcnet_overlay_reconcile_repairs_total", "Kernel entries found wrong by the read-back and repaired"),
    skipped: counter(deps.metrics, "dcnet_overlay_peers_skipped_total", "Peer facts skipped (address outside the VTEP subnet, MAC or subnet collision), by reason", ["reason"]),
  };

  const schedule = (s: State, self: { tell(msg: OverlayApplierMsg): void }): void => {
    if (s.scheduled) return;
    s.scheduled = true;
    setImmediate(() => self.tell({ type: "sync" }));
  };

  const sync = async (s: State, self: { tell(msg: OverlayApplierMsg): void }): Promise<void> => {
    s.scheduled = false;
    const own = s.facts.get(deps.nodeId);
    if (!own) return;
    const began = performance.now();
    try {
      if (s.underlay === undefined) {
        s.underlay = underlayOf(own.agentIp) ?? null;
        if (!s.underlay && cfg.directRouting) log.warn({ agentIp: own.agentIp }, "overlay: no interface holds the agent address; every peer goes over VXLAN (directRouting needs the underlay's device)");
      }
      s.mtu ??= cfg.mtu ?? (s.underlay?.mtu ?? 1500) - VXLAN_OVERHEAD;
      const peers = [...s.facts.values()].filter((f) => f.node !== deps.nodeId && !s.dead.has(f.node));
      const v6 = cfg.ipv6 ? { vtepPrefix6: prefixOf(cfg.vtepSubnet6), subnetPrefix6: cfg.prefix6 } : {};
      const direct = cfg.directRouting && s.underlay ? { direct: { dev: s.underlay.dev, net: s.underlay.net } } : {};
      const { desired, skipped } = overlayDesired(own, peers, { mtu: s.mtu, vtepPrefix: prefixOf(cfg.vtepSubnet), subnetPrefix: cfg.prefix, ...v6, ...direct });
      const skippedNow = new Map(skipped.map((k) => [k.node, `${k.reason}: ${k.message}`]));
      for (const k of skipped) {
        if (!s.skipped.has(k.node)) {
          m.skipped.inc({ reason: k.reason });
          log.warn({ peer: k.node, reason: k.reason }, `overlay peer skipped: ${k.message}`);
        }
      }
      s.skipped = skippedNow;
      const ownKey = JSON.stringify(own);
      if (s.setupFor !== ownKey) {
        await ipBatch(setupOps(desired), opts);
        s.setupFor = ownKey;
        s.applied = NO_ENTRIES;
        log.info({ subnet: own.subnet, vtep: own.vtepIp, mtu: s.mtu }, "overlay: VTEP and bridges set up");
        // A device left by an earlier configuration keeps its old parameters through `link add`
        // (changing its MAC in place would wipe its neighbours): the read-back fixes it now.
        self.tell({ type: "reconcile" });
      }
      const want = peerEntries(desired.peers, desired.direct, desired.vtep.name);
      const ops = batchTexts(entryPlan(s.applied, want, desired.vtep.name));
      if (ops.ip) await ipBatch(ops.ip, opts);
      if (ops.bridge) await bridgeBatch(ops.bridge, opts);
      s.applied = want;
      s.desired = desired;
      await writeCniConfig(s, own);
      const ms = performance.now() - began;
      s.lastSync = { at: Date.now(), ms, ok: true };
      m.sync.observe(ms / 1000);
      m.peers.set(desired.peers.size);
      m.networks.set(1);
    } catch (err) {
      m.netlinkErrors.inc();
      s.lastSync = { at: Date.now(), ms: performance.now() - began, ok: false, error: errText(err) };
      log.error({ err: errText(err) }, "overlay sync failed; retrying");
      if (!s.retry) {
        s.retry = setTimeout(() => {
          s.retry = undefined;
          self.tell({ type: "sync" });
        }, 2000);
        s.retry.unref();
      }
    }
  };

  const writeCniConfig = async (s: State, own: NodeOverlay): Promise<void> => {
    const text = `${JSON.stringify(cniNetworkConfig(cfg, own, s.mtu ?? 1450, deps.dns), null, 2)}\n`;
    if (text === s.cniWritten) return;
    await mkdir(cfg.cniConfDir, { recursive: true });
    const file = join(cfg.cniConfDir, `${cfg.name}.conflist`);
    // Written whole then renamed: a runtime never reads half a file.
    await writeFile(`${file}.tmp`, text);
    await rename(`${file}.tmp`, file);
    s.cniWritten = text;
  };

  const reconcile = async (s: State): Promise<void> => {
    if (!s.desired || s.setupFor === undefined) return;
    try {
      const observed = await readOverlay({ ...opts, ...(s.underlay ? { underlay: s.underlay.dev } : {}) });
      const cmp = compareOverlay(observed, s.desired);
      if (cmp.drift === 0) return;
      if (cmp.repair.ip) await ipBatch(cmp.repair.ip, opts);
      if (cmp.repair.bridge) await bridgeBatch(cmp.repair.bridge, opts);
      s.repairs += cmp.drift;
      m.repairs.inc(cmp.drift);
      log.warn({ drift: cmp.drift, reasons: cmp.reasons.slice(0, 5) }, "overlay kernel state had drifted; repaired");
    } catch (err) {
      m.netlinkErrors.inc();
      log.warn({ err: errText(err) }, "overlay read-back failed; retrying next period");
    }
  };

  return {
    handlerDeadlineMs: 60_000,
    background: (msg) => msg.type === "reconcile", // the periodic read-back; one a change asks for stays in its trace
    async init(ctx) {
      const self = ctx.self;
      const store = deps.store();
      if (!store) throw new StoreUnavailableError();
      const unsubscribe: Array<() => void> = [];
      const membership = deps.membership();
      if (membership) {
        const w = await membership.ask<{ id: number; members: readonly Member[] }>((reply) => ({ type: "watch", subscriber: (ev) => self.tell({ type: "member", ev }), reply }), 60_000);
        self.tell({ type: "members", members: w.members });
        unsubscribe.push(() => deps.membership()?.tell({ type: "unwatch", id: w.id }));
      }
      const watchId = await store.ask<number>((reply) => ({ type: "watch", prefix: OVERLAY_PREFIX, subscriber: (ev) => self.tell({ type: "changed", ev }), reply }), 60_000);
      const timer = setInterval(() => self.tell({ type: "reconcile" }), cfg.reconcileMs);
      timer.unref();
      return { facts: new Map(), dead: new Set(), scheduled: false, setupFor: undefined, applied: NO_ENTRIES, desired: undefined, skipped: new Map(), mtu: undefined, underlay: undefined, lastSync: undefined, repairs: 0, cniWritten: "", watchId, timer, retry: undefined, unsubscribe };
    },
    async handle(s, msg, ctx) {
      switch (msg.type) {
        case "changed": {
          const node = msg.ev.key.slice(OVERLAY_PREFIX.length);
          const fact = readFact(msg.ev);
          if (fact && fact.node === node) s.facts.set(node, fact);
          else s.facts.delete(node);
          schedule(s, ctx.self);
          return s;
        }
        case "members":
          s.dead.clear();
          for (const mb of msg.members) if (mb.state === "dead" && !mb.self) s.dead.add(mb.node);
          schedule(s, ctx.self);
          return s;
        case "member": {
          const wasDead = s.dead.has(msg.ev.node);
          if (msg.ev.type === "dead") s.dead.add(msg.ev.node);
          else if (msg.ev.type === "alive" || msg.ev.type === "join" || msg.ev.type === "rejoin") s.dead.delete(msg.ev.node);
          if (wasDead !== s.dead.has(msg.ev.node)) schedule(s, ctx.self);
          return s;
        }
        case "sync":
          await sync(s, ctx.self);
          return s;
        case "reconcile":
          await reconcile(s);
          return s;
        case "status": {
          const peers = [...s.facts.values()]
            .filter((f) => f.node !== deps.nodeId)
            .map((f) => {
              const state = s.dead.has(f.node) ? ("dead" as const) : s.skipped.has(f.node) ? ("skipped" as const) : ("programmed" as const);
              const route = state === "programmed" ? s.applied.route.get(f.subnet) : undefined;
              const path = route ? { path: route.dev === (s.desired?.vtep.name ?? VTEP_DEVICE) ? ("vxlan" as const) : ("direct" as const) } : {};
              return { node: f.node, agentIp: f.agentIp, vtepIp: f.vtepIp, subnet: f.subnet, state, ...(s.skipped.has(f.node) ? { reason: s.skipped.get(f.node) as string } : {}), ...path };
            })
            .sort((a, b) => (a.node < b.node ? -1 : 1));
          msg.reply({ own: s.facts.get(deps.nodeId), mtu: s.mtu, peers, ...(s.lastSync ? { lastSync: s.lastSync } : {}), repairs: s.repairs });
          return s;
        }
      }
    },
    terminate(s) {
      clearInterval(s.timer);
      if (s.retry) clearTimeout(s.retry);
      deps.store()?.tell({ type: "unwatch", id: s.watchId });
      for (const off of s.unsubscribe) off();
      // Devices and peer entries stay: containers keep talking while the node restarts; the next
      // incarnation re-programs the same state (replace is idempotent) and the read-back checks it.
    },
  };
}

function readFact(ev: WatchEvent): NodeOverlay | undefined {
  const field = ev.value?.overlay;
  if (field?.type !== "lww" || typeof field.value !== "object" || field.value === null) return undefined;
  const v = field.value as Record<string, unknown>;
  const str = (k: string): string | undefined => (typeof v[k] === "string" ? (v[k] as string) : undefined);
  const node = str("node");
  const agentIp = str("agentIp");
  const vtepIp = str("vtepIp");
  const vtepMac = str("vtepMac");
  const subnet = str("subnet");
  if (!node || !agentIp || !vtepIp || !vtepMac || !subnet) return undefined;
  const vtepIp6 = str("vtepIp6");
  const subnet6 = str("subnet6");
  return { node, agentIp, vtepIp, vtepMac, subnet, ...(vtepIp6 && subnet6 ? { vtepIp6, subnet6 } : {}) };
}

function prefixOf(cidr: string): number {
  return Number(cidr.split("/")[1]);
}

const NO_ENTRIES: PeerEntries = { neigh: new Map(), fdb: new Map(), route: new Map() };

interface Underlay {
  readonly dev: string;
  /** The agent address with its prefix length (`10.99.0.1/24`). */
  readonly net: string;
  /** From sysfs; 1500 when it cannot be read. */
  readonly mtu: number;
}

/** The interface holding `ip`, its subnet and MTU; undefined when no interface has it. */
function underlayOf(ip: string): Underlay | undefined {
  for (const [name, list] of Object.entries(networkInterfaces())) {
    const a = (list ?? []).find((x) => x.address === ip);
    if (!a?.cidr) continue;
    let mtu = 1500;
    try {
      const m = Number(readFileSync(`/sys/class/net/${name}/mtu`, "utf8").trim());
      if (Number.isInteger(m) && m > 0) mtu = m;
    } catch {
      // not readable: 1500
    }
    return { dev: name, net: a.cidr, mtu };
  }
  return undefined;
}

function errText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

