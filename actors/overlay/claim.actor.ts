// /node/overlay/claim: this node's place in the overlay. Claims its subnet and VTEP address in the
// cluster's JetStream KV (transport/kv-allocator.ts: compare-and-set, so no two nodes ever hold one
// value, and a restarted node gets its own back — dcos-net left this to a Mesos module), derives the
// VTEP MAC from the address, and asserts the result as this node's fact `overlay/<node>` in the
// replicated store, where every peer's applier reads it. Data flows one way: KV → store → appliers.
//
// A KV that does not answer (no JetStream, no quorum) leaves the node without an overlay, retried
// with backoff and one warning per outage; the rest of the node runs on.
import type { Logger } from "pino";
import type { Registry } from "prom-client";
import type { NatsConnection } from "@nats-io/nats-core";
import type { ActorRef, Behaviour, ReplyTo } from "../../supervisors/index.js";
import { KvAllocator } from "../../transport/index.js";
import type { StoreMsg } from "../gossip/index.js";
import { StoreUnavailableError } from "../gossip/index.js";
import { counter } from "../../observability/metrics.js";
import { OVERLAY_PREFIX, type NodeOverlay } from "./model.js";
import { parseCidr, parseCidr4, releasable, subnetCandidates, vtepCandidates, vtepMac } from "./alloc.js";
import { OverlayConfigError } from "./errors.js";
import type { Config } from "../../config/index.js";

export type ClaimMsg = { readonly type: "claim" } | { readonly type: "sweep" } | { readonly type: "own"; readonly reply: ReplyTo<NodeOverlay | undefined> };

export interface ClaimDeps {
  readonly nodeId: string;
  readonly config: Config["overlay"];
  readonly logger: Logger;
  readonly metrics: Registry;
  readonly connection: () => NatsConnection | undefined;
  readonly store: () => ActorRef<StoreMsg> | undefined;
  /** This node's underlay address (dns.thisnode.ip, else the one it found). */
  readonly nodeIp: () => string | undefined;
}

interface ClaimState {
  own: NodeOverlay | undefined;
  failures: number;
  timer: NodeJS.Timeout | undefined;
  readonly sweeper: NodeJS.Timeout;
  /** Departed nodes (no overlay fact) and since when, for the release grace. */
  readonly goneSince: Map<string, number>;
}

const MAX_BACKOFF_MS = 30_000;

export function claimBehaviour(deps: ClaimDeps): Behaviour<ClaimState, ClaimMsg> {
  const cfg = deps.config;
  const claims = counter(deps.metrics, "dcnet_overlay_claims_total", "Claims of this node's subnet and VTEP address in the KV, by outcome", ["outcome"]);
  const space = parseCidr4(cfg.subnet);
  const vteps = parseCidr4(cfg.vtepSubnet);
  if (!space || !vteps) throw new OverlayConfigError(`overlay.subnet ${cfg.subnet} or overlay.vtepSubnet ${cfg.vtepSubnet} is not an IPv4 CIDR`);
  const space6 = cfg.ipv6 ? parseCidr(cfg.subnet6) : undefined;
  const vteps6 = cfg.ipv6 ? parseCidr(cfg.vtepSubnet6) : undefined;
  if (cfg.ipv6 && (space6?.family !== "ip6" || vteps6?.family !== "ip6")) throw new OverlayConfigError(`overlay.subnet6 ${cfg.subnet6} or overlay.vtepSubnet6 ${cfg.vtepSubnet6} is not an IPv6 CIDR`);
  const releases = counter(deps.metrics, "dcnet_overlay_releases_total", "Allocations of departed nodes released after overlay.releaseGraceMs");
  let allocator: KvAllocator | undefined;

  // Any node may release a departed node's allocations: a release is a compare-and-set in the KV,
  // so two nodes doing it at once do no harm, and a node cut off from the majority cannot do it.
  const sweep = async (s: ClaimState): Promise<void> => {
    const store = deps.store();
    if (!allocator || !store) return;
    const keys = await store.ask<readonly string[]>((reply) => ({ type: "keys", prefix: OVERLAY_PREFIX, reply }), 15_000);
    const present = new Set([deps.nodeId, ...keys.map((k) => k.slice(OVERLAY_PREFIX.length))]);
    const names = (await allocator.entries()).map((e) => e.name);
    for (const name of releasable(names, present, s.goneSince, Date.now(), cfg.releaseGraceMs)) {
      if (await allocator.release(name)) {
        releases.inc();
        deps.logger.info({ allocation: name }, "overlay: released the allocation of a departed node");
      }
    }
  };

  const claim = async (): Promise<NodeOverlay> => {
    const nc = deps.connection();
    if (!nc) throw new Error("no NATS connection");
    allocator ??= await KvAllocator.open(nc, { bucket: cfg.bucket, replicas: cfg.replicas });
    const agentIp = deps.nodeIp();
    if (!agentIp) throw new Error("this node's underlay address is unknown (set dns.thisnode.ip)");
    const subnet = await allocator.claim(`subnet:${deps.nodeId}`, subnetCandidates(deps.nodeId, space, cfg.prefix));
    const vtepIp = await allocator.claim(`vtep:${deps.nodeId}`, vtepCandidates(deps.nodeId, vteps));
    const v6 =
      space6 && vteps6
        ? { subnet6: await allocator.claim(`subnet6:${deps.nodeId}`, subnetCandidates(deps.nodeId, space6, cfg.prefix6)), vtepIp6: await allocator.claim(`vtep6:${deps.nodeId}`, vtepCandidates(deps.nodeId, vteps6)) }
        : {};
    return { node: deps.nodeId, agentIp, vtepIp, vtepMac: vtepMac(cfg.macPrefix, vtepIp), subnet, ...v6 };
  };

  return {
    handlerDeadlineMs: 60_000,
    background: (msg) => msg.type === "sweep", // periodic; not traced by default (observability/README.md § Sampling)
    init(ctx) {
      ctx.self.tell({ type: "claim" });
      const sweeper = setInterval(() => ctx.self.tell({ type: "sweep" }), cfg.releaseSweepMs);
      sweeper.unref();
      return { own: undefined, failures: 0, timer: undefined, sweeper, goneSince: new Map() };
    },
    async handle(s, msg, ctx) {
      if (msg.type === "own") {
        msg.reply(s.own);
        return s;
      }
      if (msg.type === "sweep") {
        await sweep(s).catch((err: unknown) => deps.logger.warn({ err: err instanceof Error ? err.message : String(err) }, "overlay: release sweep failed; next period"));
        return s;
      }
      s.timer = undefined;
      try {
        const own = await claim();
        const store = deps.store();
        if (!store) throw new StoreUnavailableError();
        const r = await store.ask<{ ok: boolean; error?: string }>((reply) => ({ type: "update", key: `${OVERLAY_PREFIX}${deps.nodeId}`, ops: [{ op: "set", field: "overlay", value: { ...own } }], reply }), 15_000);
        if (!r.ok) throw new Error(`the store refused overlay/${deps.nodeId}: ${r.error ?? "unknown"}`);
        claims.inc({ outcome: "ok" });
        if (s.failures > 0 || !s.own) deps.logger.info({ ...own }, "overlay: this node's subnet and VTEP claimed and published");
        return { ...s, own, failures: 0, timer: undefined };
      } catch (err) {
        claims.inc({ outcome: "error" });
        if (s.failures === 0) deps.logger.warn({ err: err instanceof Error ? err.message : String(err) }, "overlay: cannot claim this node's subnet yet; retrying with backoff");
        const delay = Math.min(MAX_BACKOFF_MS, 250 * 2 ** s.failures);
        const timer = setTimeout(() => ctx.self.tell({ type: "claim" }), delay);
        timer.unref();
        return { ...s, failures: s.failures + 1, timer };
      }
    },
    terminate(s) {
      if (s.timer) clearTimeout(s.timer);
      clearInterval(s.sweeper);
    },
  };
}
