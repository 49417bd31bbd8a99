// /node/gossip/membership: beats on the heartbeat subject, listens to everyone else's, runs the
// failure detector on a tick and tells watchers about joins, suspicions, deaths and rejoins.
// Everything time-related is stamped where it happens (timer, socket callback) and carried in the
// message, so a busy mailbox never makes a peer look silent.
import { performance } from "node:perf_hooks";
import type { Logger } from "pino";
import { Counter, Gauge, type Registry } from "prom-client";
import type { Config } from "../../../config/index.js";
import type { ActorContext, Behaviour } from "../../../supervisors/index.js";
import { ALL_NODES, ANY, TransportClosedError, type Handler, type TransportSubscription } from "../../../transport/index.js";
import { DEFAULT_FORGET_DEAD_AFTER_MS, FailureDetector, type Instant } from "./detector.js";
import { heartbeatKind, type HeartbeatBody } from "./protocol.js";
import type { Member, MemberEvent, MemberState, MembershipMsg } from "./types.js";
import type { GossipActorDeps } from "../deps.js";
import { getOrCreate } from "../../../observability/metrics.js";
import { tooFarAhead } from "../crdt/index.js";
import { GossipRejects } from "../rejects.js";

export interface MembershipDeps extends GossipActorDeps {
  /** A dead peer leaves the table this long after it died. Default 1 h. */
  readonly forgetDeadAfterMs?: number;
}

/** Messages only the actor sends itself (timers, subscription, connection status). */
export type MembershipInternalMsg =
  | { readonly type: "heartbeat"; readonly from: string; readonly body: HeartbeatBody; readonly at: Instant }
  | { readonly type: "tick"; readonly at: Instant }
  | { readonly type: "connection"; readonly connected: boolean; readonly at: Instant };

export type MembershipActorMsg = MembershipMsg | MembershipInternalMsg;

type Watcher = (ev: MemberEvent) => void;

interface MembershipState {
  readonly detector: FailureDetector;
  readonly watchers: Map<number, Watcher>;
  nextWatchId: number;
  lastStallLogMono: number;
  readonly startedAt: number;
  readonly stop: () => void;
}

const STATES: readonly MemberState[] = ["alive", "suspect", "dead", "unknown"];
const STALL_LOG_INTERVAL_MS = 10_000;

function now(): Instant {
  return { mono: performance.now(), wall: Date.now() };
}

/** Tick often enough that detection is late by at most a fraction of a heartbeat. */
function tickMsFor(cfg: Config["gossip"]): number {
  return Math.max(10, Math.min(100, Math.floor(cfg.heartbeatMs / 2)));
}

export function membershipBehaviour(deps: MembershipDeps): Behaviour<MembershipState, MembershipActorMsg> {
  const m = membershipMetrics(deps.metrics);
  const rejects = new GossipRejects(deps.metrics, deps.logger);
  const log = deps.logger;
  return {
    init(ctx) {
      const tickMs = tickMsFor(deps.config);
      const detector = new FailureDetector({
        suspectAfterMs: deps.config.suspectAfterMs,
        deadAfterMs: deps.config.deadAfterMs,
        tickMs,
        stallThresholdMs: tickMs / 2,
        forgetDeadAfterMs: deps.forgetDeadAfterMs ?? DEFAULT_FORGET_DEAD_AFTER_MS,
      });
      const stop = start(deps, ctx, tickMs, rejects);
      const state: MembershipState = { detector, watchers: new Map(), nextWatchId: 1, lastStallLogMono: -Infinity, startedAt: Date.now(), stop };
      if (deps.transport.status().state !== "connected") detector.setConnected(false, now());
      updateGauge(m.members, detector);
      log.info({ node: deps.nodeId, incarnation: deps.incarnation, heartbeatMs: deps.config.heartbeatMs, suspectAfterMs: deps.config.suspectAfterMs, deadAfterMs: deps.config.deadAfterMs }, "membership started");
      return state;
    },
    handle(s, msg) {
      switch (msg.type) {
        case "heartbeat": {
          const out = s.detector.heard({ node: msg.from, incarnation: msg.body.incarnation, intervalMs: msg.body.intervalMs }, msg.at);
          if (out.kind === "event") emit(s, [out.event], deps, m);
          else if (out.kind === "stale") log.debug({ node: msg.from, incarnation: msg.body.incarnation, current: out.current }, "stale heartbeat ignored");
          return s;
        }
        case "tick": {
          const out = s.detector.tick(msg.at);
          if (out.stallMs > 0) noteStall(s, out.stallMs, msg.at, deps, m);
          for (const node of out.forgotten) log.info({ node }, "dead member forgotten");
          emit(s, out.events, deps, m);
          if (out.forgotten.length > 0) updateGauge(m.members, s.detector);
          return s;
        }
        case "connection":
          emit(s, s.detector.setConnected(msg.connected, msg.at), deps, m);
          return s;
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
    // Several a second per peer and almost always nothing new; a member event they cause is told to
    // the watchers, whose turns then start traces of their own.
    background: (msg) => msg.type === "heartbeat" || msg.type === "tick",
  };
}

/** What arrives on the heartbeat subject: checked here, stamped with its arrival time, told to the actor. */
function heartbeatHandler(deps: MembershipDeps, ctx: ActorContext<MembershipActorMsg>, rejects: GossipRejects): Handler<HeartbeatBody> {
  const { transport, nodeId, incarnation, logger: log } = deps;
  const impostors = new Set<number>();
  return (env, msg) => {
    const at = now();
    if (env.from === nodeId) {
      // Our own beat comes back to us; one with another incarnation means two processes share our id.
      if (env.body.incarnation !== incarnation && !impostors.has(env.body.incarnation)) {
        impostors.add(env.body.incarnation);
        log.error({ node: nodeId, incarnation, other: env.body.incarnation }, "another process sends heartbeats with this node's id");
      }
      return;
    }
    if (env.from === ALL_NODES) {
      transport.rejects.record({ kind: heartbeatKind.kind, reason: "not-an-envelope", message: `from: ${JSON.stringify(ALL_NODES)} is reserved and never a node`, subject: msg.subject });
      return;
    }
    // Incarnations are start times: one far in the future would make every node take the sender
    // for rejoined, then ignore its real heartbeats as stale.
    const limit = deps.config.maxClockSkewMs;
    if (tooFarAhead(env.body.incarnation, at.wall, limit)) {
      rejects.record("clock-skew", env.from, `heartbeat from ${env.from}: incarnation ${env.body.incarnation} is ${env.body.incarnation - at.wall} ms ahead of this node's clock (limit ${limit} ms)`);
      return;
    }
    ctx.self.tell({ type: "heartbeat", from: env.from, body: env.body, at });
  };
}

/** Timers, the heartbeat subscription and the status listener; returns the function that undoes them. */
function start(deps: MembershipDeps, ctx: ActorContext<MembershipActorMsg>, tickMs: number, rejects: GossipRejects): () => void {
  const { transport, nodeId, incarnation } = deps;
  // A heartbeat names its sender in the subject's last token; `from` must say the same (transport
  // rejects it otherwise, as forged-sender), and NATS permissions let a node beat only under its own.
  const sub: TransportSubscription = transport.subscribe(transport.subjects.gossipHeartbeat(ANY), [heartbeatKind], heartbeatHandler(deps, ctx, rejects), { senderToken: "last" });
  const offStatus = transport.onStatus((st) => ctx.self.tell({ type: "connection", connected: st.state === "connected", at: now() }));
  let seq = 0;
  const beat = (): void => {
    // Publishing while cut off would only queue stale beats in the client's reconnect buffer.
    if (transport.status().state !== "connected") return;
    try {
      transport.publish(transport.subjects.gossipHeartbeat(nodeId), heartbeatKind, { incarnation, seq: seq++, intervalMs: deps.config.heartbeatMs });
    } catch (err) {
      // Closed/draining: the node is shutting down and terminate() is about to clear this timer.
      if (err instanceof TransportClosedError) return;
      ctx.fail(err);
    }
  };
  beat();
  const beating = setInterval(beat, deps.config.heartbeatMs);
  const ticking = setInterval(() => ctx.self.tell({ type: "tick", at: now() }), tickMs);
  return () => {
    clearInterval(beating);
    clearInterval(ticking);
    offStatus();
    sub.unsubscribe();
  };
}

function members(s: MembershipState, deps: MembershipDeps): Member[] {
  const self: Member = { node: deps.nodeId, incarnation: deps.incarnation, state: "alive", lastHeardAt: 0, since: s.startedAt, self: true };
  return [self, ...s.detector.members()];
}

interface MembershipMetrics {
  readonly members: Gauge<"state">;
  readonly events: Counter<"type">;
  readonly stall: Counter;
}

function emit(s: MembershipState, events: readonly MemberEvent[], deps: MembershipDeps, m: MembershipMetrics): void {
  if (events.length === 0) return;
  for (const ev of events) {
    m.events.inc({ type: ev.type });
    logEvent(deps.logger, ev, s.detector);
    for (const [id, watcher] of s.watchers) {
      try {
        watcher(ev);
      } catch (err) {
        // A broken watcher is its owner's bug; membership keeps serving everyone else.
        deps.logger.error({ err, watcher: id, event: ev.type, node: ev.node }, "member watcher threw");
      }
    }
  }
  updateGauge(m.members, s.detector);
}

function logEvent(log: Logger, ev: MemberEvent, detector: FailureDetector): void {
  const fields = { node: ev.node, incarnation: ev.incarnation, ...(ev.type === "rejoin" ? { previous: ev.previous } : {}) };
  switch (ev.type) {
    case "join":
    case "alive":
    case "rejoin":
      log.info(fields, `member ${ev.type}`);
      return;
    case "suspect":
    case "dead":
      log.warn({ ...fields, silentMs: Math.round(detector.silenceMs(ev.node, now()) ?? 0) }, `member ${ev.type}`);
      return;
    case "unknown":
      log.warn(fields, "member unknown: our NATS connection is down");
      return;
  }
}

function noteStall(s: MembershipState, stallMs: number, at: Instant, deps: MembershipDeps, m: MembershipMetrics): void {
  m.stall.inc(stallMs / 1000);
  if (at.mono - s.lastStallLogMono < STALL_LOG_INTERVAL_MS) return;
  s.lastStallLogMono = at.mono;
  deps.logger.warn({ stallMs: Math.round(stallMs) }, "event loop stalled; peers' silence allowance extended by the stall");
}

function updateGauge(g: Gauge<"state">, detector: FailureDetector): void {
  const counts = detector.counts();
  // This node is a member too, and always alive to itself.
  for (const st of STATES) g.set({ state: st }, counts[st] + (st === "alive" ? 1 : 0));
}

function membershipMetrics(registry: Registry): MembershipMetrics {
  return {
    members: getOrCreate(registry, "dcnet_gossip_members", () => new Gauge({ name: "dcnet_gossip_members", help: "Cluster members by state, this node included", labelNames: ["state"], registers: [registry] })),
    events: getOrCreate(registry, "dcnet_gossip_member_events_total", () => new Counter({ name: "dcnet_gossip_member_events_total", help: "Membership events by type", labelNames: ["type"], registers: [registry] })),
    stall: getOrCreate(registry, "dcnet_gossip_event_loop_stall_seconds_total", () => new Counter({ name: "dcnet_gossip_event_loop_stall_seconds_total", help: "Own event-loop stalls seen by the failure detector and excluded from peers' silence", registers: [registry] })),
  };
}
