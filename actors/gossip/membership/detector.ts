// Failure detector: one state machine per peer, driven by heartbeats and ticks stamped with local
// time. Pure: no timers, no I/O; the membership actor feeds it and turns its events into messages.
//
//   (new) ──hb──▶ alive ──silent > suspect──▶ suspect ──silent > dead──▶ dead ──forgetDeadAfterMs──▶ (gone)
//                   ▲  ◀──────────── hb, same incarnation (alive) ─────────┘
//                   └── hb, higher incarnation (rejoin), from any state
//   our connection lost: alive|suspect ──▶ unknown (never dead); reconnect: every silence restarts at 0
//
// "Silent" is measured on our monotonic clock minus our own stalls: when a tick arrives late (the
// event loop was blocked), the delay is added to every peer's allowance, because heartbeats that
// arrived meanwhile were sitting unread in the socket.
import type { Member, MemberEvent, MemberState } from "./types.js";

export interface DetectorConfig {
  /** Silence (ms, stalls excluded) after which a peer is suspect. */
  readonly suspectAfterMs: number;
  /** Silence (ms, stalls excluded) after which a peer is dead. */
  readonly deadAfterMs: number;
  /** The interval the caller ticks at; a later tick means our own event loop stalled. */
  readonly tickMs: number;
  /** A tick later than tickMs by more than this counts as a stall (smaller lateness is scheduling noise). */
  readonly stallThresholdMs: number;
  /** A dead peer is removed from the table this long after it died, so the table stays bounded. */
  readonly forgetDeadAfterMs: number;
}

/** One moment on two clocks: `mono` (never jumps) measures silence; `wall` is what members report. */
export interface Instant {
  readonly mono: number;
  readonly wall: number;
}

export interface Heartbeat {
  readonly node: string;
  readonly incarnation: number;
  /** The sender's heartbeat interval: a peer that beats slowly is given proportionally longer. */
  readonly intervalMs: number;
}

export type HeardOutcome =
  | { readonly kind: "event"; readonly event: MemberEvent }
  /** A heartbeat from a peer already alive at this incarnation: only its silence restarts. */
  | { readonly kind: "refreshed" }
  /** Older incarnation than the one we know: a delayed message from before a restart. */
  | { readonly kind: "stale"; readonly current: number }
  /** Heard while we consider ourselves disconnected; the reconnect resets every peer anyway. */
  | { readonly kind: "ignored-disconnected" };

export interface TickResult {
  readonly events: readonly MemberEvent[];
  /** How late this tick was when that counts as a stall (added to every peer's allowance), else 0. */
  readonly stallMs: number;
  /** Dead peers removed from the table by this tick. */
  readonly forgotten: readonly string[];
}

/** Silence thresholds are never shorter than this many of the peer's own heartbeat intervals. */
const MIN_SUSPECT_BEATS = 4;
const MIN_DEAD_BEATS = 8;
export const DEFAULT_FORGET_DEAD_AFTER_MS = 3_600_000;

interface Peer {
  node: string;
  incarnation: number;
  state: MemberState;
  intervalMs: number;
  heardMono: number;
  heardWall: number;
  /** Our own stalls since this peer was last heard, subtracted from its silence. */
  allowanceMs: number;
  sinceMono: number;
  sinceWall: number;
}

export class FailureDetector {
  readonly #cfg: DetectorConfig;
  readonly #peers = new Map<string, Peer>();
  #connected = true;
  #lastTickMono: number | undefined;

  constructor(cfg: DetectorConfig) {
    this.#cfg = cfg;
  }

  get connected(): boolean {
    return this.#connected;
  }

  heard(hb: Heartbeat, at: Instant): HeardOutcome {
    if (!this.#connected) return { kind: "ignored-disconnected" };
    const p = this.#peers.get(hb.node);
    if (p === undefined) {
      this.#peers.set(hb.node, { node: hb.node, incarnation: hb.incarnation, state: "alive", intervalMs: hb.intervalMs, heardMono: at.mono, heardWall: at.wall, allowanceMs: 0, sinceMono: at.mono, sinceWall: at.wall });
      return { kind: "event", event: { type: "join", node: hb.node, incarnation: hb.incarnation } };
    }
    if (hb.incarnation < p.incarnation) return { kind: "stale", current: p.incarnation };
    const previous = p.incarnation;
    const wasAlive = p.state === "alive";
    p.heardMono = at.mono;
    p.heardWall = at.wall;
    p.allowanceMs = 0;
    p.intervalMs = hb.intervalMs;
    if (hb.incarnation > previous) {
      // A restart, possibly faster than we could notice it died: the old incarnation's facts are gone.
      p.incarnation = hb.incarnation;
      this.#enter(p, "alive", at);
      return { kind: "event", event: { type: "rejoin", node: p.node, incarnation: p.incarnation, previous } };
    }
    if (wasAlive) return { kind: "refreshed" };
    this.#enter(p, "alive", at);
    return { kind: "event", event: { type: "alive", node: p.node, incarnation: p.incarnation } };
  }

  tick(at: Instant): TickResult {
    const late = this.#lastTickMono === undefined ? 0 : at.mono - this.#lastTickMono - this.#cfg.tickMs;
    this.#lastTickMono = at.mono;
    const stallMs = late > this.#cfg.stallThresholdMs ? late : 0;
    const events: MemberEvent[] = [];
    const forgotten: string[] = [];
    for (const p of this.#peers.values()) {
      if (p.state === "dead") {
        if (at.mono - p.sinceMono > this.#cfg.forgetDeadAfterMs) forgotten.push(p.node);
        continue;
      }
      // While we are cut off, nobody's silence means anything: peers stay unknown until we reconnect.
      if (!this.#connected) continue;
      p.allowanceMs += stallMs;
      this.#age(p, at, events);
    }
    for (const node of forgotten) this.#peers.delete(node);
    return { events, stallMs, forgotten };
  }

  /** Our own connection to the bus changed. Lost: live peers become unknown. Back: every silence restarts. */
  setConnected(connected: boolean, at: Instant): readonly MemberEvent[] {
    if (connected === this.#connected) return [];
    this.#connected = connected;
    const events: MemberEvent[] = [];
    for (const p of this.#peers.values()) {
      if (p.state === "dead") continue;
      if (connected) {
        p.heardMono = at.mono;
        p.allowanceMs = 0;
      } else if (p.state !== "unknown") {
        this.#enter(p, "unknown", at);
        events.push({ type: "unknown", node: p.node, incarnation: p.incarnation });
      }
    }
    return events;
  }

  /** Peers sorted by node id, so every caller (CLI tables, tests) sees one stable order. */
  members(): Member[] {
    return [...this.#peers.values()].sort((a, b) => (a.node < b.node ? -1 : a.node > b.node ? 1 : 0)).map((p) => ({ node: p.node, incarnation: p.incarnation, state: p.state, lastHeardAt: p.heardWall, since: p.sinceWall, self: false }));
  }

  member(node: string): Member | undefined {
    const p = this.#peers.get(node);
    return p === undefined ? undefined : { node: p.node, incarnation: p.incarnation, state: p.state, lastHeardAt: p.heardWall, since: p.sinceWall, self: false };
  }

  /** Silence of a peer as the detector judges it (stalls excluded), for logs. */
  silenceMs(node: string, at: Instant): number | undefined {
    const p = this.#peers.get(node);
    return p === undefined ? undefined : at.mono - p.heardMono - p.allowanceMs;
  }

  counts(): Record<MemberState, number> {
    const out: Record<MemberState, number> = { alive: 0, suspect: 0, dead: 0, unknown: 0 };
    for (const p of this.#peers.values()) out[p.state] += 1;
    return out;
  }

  #age(p: Peer, at: Instant, events: MemberEvent[]): void {
    const silent = at.mono - p.heardMono - p.allowanceMs;
    const suspectAfter = Math.max(this.#cfg.suspectAfterMs, MIN_SUSPECT_BEATS * p.intervalMs);
    const deadAfter = Math.max(this.#cfg.deadAfterMs, MIN_DEAD_BEATS * p.intervalMs, suspectAfter);
    // Watchers always see suspect before dead, even when one tick crosses both thresholds.
    if (silent > suspectAfter && (p.state === "alive" || p.state === "unknown")) {
      this.#enter(p, "suspect", at);
      events.push({ type: "suspect", node: p.node, incarnation: p.incarnation });
    }
    if (silent > deadAfter && p.state === "suspect") {
      this.#enter(p, "dead", at);
      events.push({ type: "dead", node: p.node, incarnation: p.incarnation });
    }
  }

  #enter(p: Peer, state: MemberState, at: Instant): void {
    p.state = state;
    p.sinceMono = at.mono;
    p.sinceWall = at.wall;
  }
}
