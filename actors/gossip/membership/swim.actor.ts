// /node/gossip/membership with `gossip.detector: swim`: runs the pure SWIM detector (swim.ts) on a
// tick, sends what it returns on per-pair subjects (`gossip.swim.<to>.<from>`) or, for a join or a
// push-pull to anyone, on `gossip.join.<from>` (a queue group: one member answers), and tells
// watchers the same MemberEvents as the heartbeat detector. Arrivals are stamped in the socket
// callback, so a busy mailbox does not make a peer look late.
import { performance } from "node:perf_hooks";
import { z } from "zod";
import { Counter, Gauge, type Registry } from "prom-client";
import type { Behaviour, ActorContext } from "../../../supervisors/index.js";
import { ANY, defineKind, TransportClosedError, type ClientAdvisory, type TransportSubscription } from "../../../transport/index.js";
import { getOrCreate } from "../../../observability/metrics.js";
import { GossipRejects } from "../rejects.js";
import { DEFAULT_FORGET_DEAD_AFTER_MS, type Instant } from "./detector.js";
import { DIGEST_BUCKETS } from "./digest.js";
import { JOIN, SWIM_DEFAULTS, Swim, type SwimMessage, type SwimOutput } from "./swim.js";
import type { Member, MemberEvent, MemberState, MembershipMsg } from "./types.js";
import type { MembershipDeps } from "./membership.actor.js";

const nodeId = z.string().min(1).max(64);
const life = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);
const update = z.strictObject({ node: nodeId, life, ver: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER), status: z.enum(["alive", "suspect", "dead"]), from: nodeId.optional() });
const updates = z.array(update).max(64);
const head = { seq: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER), life, ver: update.shape.ver, updates };

/** The one SWIM wire kind: ping, ack, ping-req, nack and push-pull (`sync`, the whole list). */
export const swimKind = defineKind(
  "gossip.swim",
  z.discriminatedUnion("t", [
    z.strictObject({ t: z.literal("ping"), target: nodeId, ...head }),
    z.strictObject({ t: z.literal("ack"), ...head }),
    z.strictObject({ t: z.literal("ping-req"), target: nodeId, ...head }),
    z.strictObject({ t: z.literal("nack"), ...head }),
    z.strictObject({ t: z.literal("sync"), reply: z.boolean(), life, ver: update.shape.ver, members: z.array(update).max(100_000), want: z.array(z.number().int().min(0).max(DIGEST_BUCKETS - 1)).max(DIGEST_BUCKETS).optional() }),
    z.strictObject({ t: z.literal("digest"), life, ver: update.shape.ver, buckets: z.array(z.number().int().min(0).max(0xffffffff)).length(DIGEST_BUCKETS) }),
  ]),
  // Probes and list swaps: constant background chatter, not traced unless tracing.backgroundRatio says so.
  { background: true },
);

export type SwimActorMsg =
  | MembershipMsg
  | { readonly type: "swim"; readonly from: string; readonly body: SwimMessage; readonly at: Instant }
  | { readonly type: "tick"; readonly at: Instant }
  | { readonly type: "connection"; readonly connected: boolean; readonly at: Instant }
  /** The NATS server's connect/disconnect advisory about a node (gossip.disconnectAdvisories). */
  | { readonly type: "bus"; readonly advisory: ClientAdvisory; readonly at: Instant };

/**
 * Disconnect reasons that mean the node's end went away: its process exited or closed the socket
 * (`Client Closed`), its host reset it (`Read Error`, `Write Error`), or it stopped answering the
 * server's pings (`Stale Connection`). The others are the server closing a live node's connection
 * (a slow consumer, a server shutting down, an expired credential): it reconnects, so no accusation.
 */
export const ACCUSING_DISCONNECTS: ReadonlySet<string> = new Set(["Client Closed", "Read Error", "Write Error", "Stale Connection"]);

interface SwimState {
  readonly swim: Swim;
  readonly watchers: Map<number, (ev: MemberEvent) => void>;
  nextWatchId: number;
  countsDirty: boolean;
  /** Last local health put in the gauge. */
  health: number;
  nextCountsMono: number;
  readonly startedAt: number;
  readonly stop: () => void;
}

const STATES: readonly MemberState[] = ["alive", "suspect", "dead", "unknown"];
const now = (): Instant => ({ mono: performance.now(), wall: Date.now() });

export function swimBehaviour(deps: MembershipDeps): Behaviour<SwimState, SwimActorMsg> {
  const cfg = deps.config;
  const m = swimMetrics(deps.metrics);
  const rejects = new GossipRejects(deps.metrics, deps.logger);
  const log = deps.logger;
  // Ten ticks a second are enough: an ack is judged late by at most a tick, and every tick of
  // every instance costs a mailbox turn (a thousand instances in one bench process).
  const tickMs = Math.max(10, Math.min(100, Math.floor(cfg.probeIntervalMs / 2)));
  return {
    init(ctx) {
      const swim = new Swim(
        {
          ...SWIM_DEFAULTS,
          probeIntervalMs: cfg.probeIntervalMs,
          probeTimeoutMs: Math.min(cfg.probeTimeoutMs, cfg.probeIntervalMs - 1),
          indirectProbes: cfg.indirectProbes,
          suspicionMult: cfg.suspicionMult,
          syncIntervalMs: cfg.syncIntervalMs,
          tickMs,
          stallThresholdMs: tickMs,
          forgetDeadAfterMs: deps.forgetDeadAfterMs ?? DEFAULT_FORGET_DEAD_AFTER_MS,
          maxClockSkewMs: cfg.maxClockSkewMs,
          disconnectGraceMs: cfg.disconnectGraceMs,
        },
        deps.nodeId,
        deps.incarnation,
      );
      const state: SwimState = { swim, watchers: new Map(), nextWatchId: 1, countsDirty: true, nextCountsMono: 0, health: -1, startedAt: Date.now(), stop: () => undefined };
      if (deps.transport.status().state !== "connected") swim.setConnected(false, now());
      const stop = start(deps, ctx, tickMs, m);
      log.info({ node: deps.nodeId, incarnation: deps.incarnation, detector: "swim", probeIntervalMs: cfg.probeIntervalMs }, "membership started");
      return { ...state, stop };
    },
    handle(s, msg) {
      switch (msg.type) {
        case "swim":
          apply(s, s.swim.receive(msg.from, msg.body, msg.at), deps, m, rejects);
          return s;
        case "tick":
          apply(s, s.swim.tick(msg.at), deps, m, rejects);
          updateCounts(s, msg.at, m);
          return s;
        case "connection":
          emit(s, s.swim.setConnected(msg.connected, msg.at), deps, m);
          return s;
        case "bus": {
          const a = msg.advisory;
          const accuses = a.type === "disconnect" && ACCUSING_DISCONNECTS.has(a.reason);
          m.advisories.inc({ type: a.type, accused: String(accuses) });
          if (a.type === "connect") apply(s, s.swim.connectionOpened(a.node, msg.at), deps, m, rejects);
          else if (accuses) apply(s, s.swim.connectionClosed(a.node, msg.at), deps, m, rejects);
          return s;
        }
        case "members":
          msg.reply(members(s, deps));
          return s;
        case "watch": {
          const id = s.nextWatchId++;
          s.watchers.set(id, msg.subscriber);
          msg.reply({ id, members: members(s, deps) });
          return s;
        }
        case "unwatch":
          s.watchers.delete(msg.id);
          return s;
      }
    },
    terminate(s) {
      s.stop();
    },
    messageName: (msg) => `membership.${msg.type}`,
    // A member event it finds is told to the watchers as a change of its own (observability/README.md § Sampling).
    background: (msg) => msg.type === "swim" || msg.type === "tick" || msg.type === "bus",
  };
}

function start(deps: MembershipDeps, ctx: ActorContext<SwimActorMsg>, tickMs: number, m: SwimMetrics): () => void {
  const { transport, nodeId } = deps;
  const onMsg = (env: { from: string; body: SwimMessage }): void => {
    m.messagesIn.inc();
    ctx.self.tell({ type: "swim", from: env.from, body: env.body, at: now() });
  };
  const subs: TransportSubscription[] = [
    transport.subscribe(transport.subjects.gossipSwim(nodeId, ANY), [swimKind], onMsg, { senderToken: "last" }),
    // Join requests and push-pull to anyone: one member of the group answers.
    transport.subscribe(transport.subjects.gossipJoin(ANY), [swimKind], onMsg, { senderToken: "last", queue: "gossip-join" }),
  ];
  if (deps.config.disconnectAdvisories) {
    subs.push(
      transport.onClientAdvisory((advisory) => {
        if (advisory.node !== nodeId) ctx.self.tell({ type: "bus", advisory, at: now() });
      }),
    );
  }
  const offStatus = transport.onStatus((st) => ctx.self.tell({ type: "connection", connected: st.state === "connected", at: now() }));
  const ticking = setInterval(() => ctx.self.tell({ type: "tick", at: now() }), tickMs);
  return () => {
    clearInterval(ticking);
    offStatus();
    for (const sub of subs) sub.unsubscribe();
  };
}

function apply(s: SwimState, out: SwimOutput, deps: MembershipDeps, m: SwimMetrics, rejects: GossipRejects): void {
  const { transport, nodeId } = deps;
  if (out.stallMs > 0) m.stall.inc(out.stallMs / 1000);
  for (const r of out.rejected) {
    if (r.reason === "clock-skew") rejects.record("clock-skew", "swim", r.message);
    else deps.logger.error({ node: nodeId }, r.message);
  }
  for (const node of out.forgotten) deps.logger.info({ node }, "dead member forgotten");
  if (out.sends.length > 0 && transport.status().state === "connected") {
    for (const send of out.sends) {
      try {
        transport.publish(send.to === JOIN ? transport.subjects.gossipJoin(nodeId) : transport.subjects.gossipSwim(send.to, nodeId), swimKind, send.msg);
        m.messagesOut.inc();
      } catch (err) {
        // Closed/draining: the node is shutting down and terminate() is about to clear the timer.
        if (err instanceof TransportClosedError) return;
        throw err;
      }
    }
  }
  if (s.swim.localHealth !== s.health) {
    s.health = s.swim.localHealth;
    m.health.set(s.health);
  }
  emit(s, out.events, deps, m);
}

function emit(s: SwimState, events: readonly MemberEvent[], deps: MembershipDeps, m: SwimMetrics): void {
  if (events.length === 0) return;
  for (const ev of events) {
    m.events.inc({ type: ev.type });
    const fields = { node: ev.node, incarnation: ev.incarnation, ...(ev.type === "rejoin" ? { previous: ev.previous } : {}) };
    if (ev.type === "suspect" || ev.type === "dead" || ev.type === "unknown") deps.logger.warn(fields, `member ${ev.type}`);
    else deps.logger.info(fields, `member ${ev.type}`);
    for (const [id, watcher] of s.watchers) {
      try {
        watcher(ev);
      } catch (err) {
        deps.logger.error({ err, watcher: id, event: ev.type, node: ev.node }, "member watcher threw");
      }
    }
  }
  s.countsDirty = true;
}

/** Counting walks the whole table: at most once a second (on a tick), not once per event of a storm. */
function updateCounts(s: SwimState, at: Instant, m: SwimMetrics): void {
  if (!s.countsDirty || at.mono < s.nextCountsMono) return;
  s.countsDirty = false;
  s.nextCountsMono = at.mono + 1000;
  const counts = s.swim.counts();
  for (const st of STATES) m.members.set({ state: st }, counts[st] + (st === "alive" ? 1 : 0));
}

function members(s: SwimState, deps: MembershipDeps): Member[] {
  return [{ node: deps.nodeId, incarnation: deps.incarnation, state: "alive", lastHeardAt: 0, since: s.startedAt, self: true }, ...s.swim.members()];
}

interface SwimMetrics {
  readonly members: Gauge<"state">;
  readonly events: Counter<"type">;
  readonly stall: Counter;
  // Bound children: a label lookup per message is a hash per message, times a thousand instances.
  readonly messagesIn: { inc(): void };
  readonly messagesOut: { inc(): void };
  readonly health: Gauge;
  readonly advisories: Counter<"type" | "accused">;
}

function swimMetrics(registry: Registry): SwimMetrics {
  const messages = getOrCreate(registry, "dcnet_gossip_swim_messages_total", () => new Counter({ name: "dcnet_gossip_swim_messages_total", help: "SWIM messages (probes, acks, indirect probes, push-pull) by direction", labelNames: ["direction"], registers: [registry] }));
  return {
    messagesIn: messages.labels({ direction: "in" }),
    messagesOut: messages.labels({ direction: "out" }),
    members: getOrCreate(registry, "dcnet_gossip_members", () => new Gauge({ name: "dcnet_gossip_members", help: "Cluster members by state, this node included", labelNames: ["state"], registers: [registry] })),
    events: getOrCreate(registry, "dcnet_gossip_member_events_total", () => new Counter({ name: "dcnet_gossip_member_events_total", help: "Membership events by type", labelNames: ["type"], registers: [registry] })),
    stall: getOrCreate(registry, "dcnet_gossip_event_loop_stall_seconds_total", () => new Counter({ name: "dcnet_gossip_event_loop_stall_seconds_total", help: "Own event-loop stalls seen by the failure detector and excluded from peers' silence", registers: [registry] })),
    advisories: getOrCreate(registry, "dcnet_gossip_swim_advisories_total", () => new Counter({ name: "dcnet_gossip_swim_advisories_total", help: "NATS connect/disconnect advisories about other nodes (gossip.disconnectAdvisories), by type and whether the disconnect accused the node", labelNames: ["type", "accused"], registers: [registry] })),
    health: getOrCreate(registry, "dcnet_gossip_swim_local_health", () => new Gauge({ name: "dcnet_gossip_swim_local_health", help: "Lifeguard local health multiplier: 0 healthy; probe period and timeout stretch by (1 + this)", registers: [registry] })),
  };
}
