// SWIM failure detector with Lifeguard's refinements. Pure: no timers, no I/O, randomness injected.
// The membership actor feeds it ticks and received messages and sends what it returns.
//
// Per probe period each member pings ONE member (round-robin over a shuffled list), so the load per
// member is constant whatever the cluster size. No ack within the probe timeout: k other members are
// asked to ping it for us (ping-req); still nothing by the end of the period, nor during one more:
// we suspect it. The timeout follows the measured round trip when acks come later than configured.
// A suspicion is gossiped; the suspect refutes it by raising its version (`ver`) and gossiping
// `alive`; unrefuted it becomes dead after a timeout that grows with log10(n) and shrinks with every
// independent confirmation (another member suspecting it on its own). Every change rides on probe
// messages (at most `maxPiggyback` per message, each retransmitted retransmitMult·log10(n+1) times),
// so it reaches every member in O(log n) periods. On join one member swaps its whole list with
// another; periodically two compare digests and swap what differs (push-pull): joins learn the
// cluster from one member, partitions heal.
//
// Lifeguard: a member whose own probes fail (no ack, and fewer nacks from the helpers than expected)
// or that had to refute a suspicion of itself raises its local health multiplier (0..maxLocalHealth):
// its probe period and timeout stretch, so a slow member does not accuse others for its own
// slowness. A stall of its event loop seen by the tick voids the probe in flight and pushes every
// suspicion deadline back by its length (acks that arrived meanwhile were sitting unread).
//
// The bus as a witness (optional): NATS publishes an advisory when a client's connection closes.
// Every member hears it at once, so a crashed member needs neither a failed probe nor gossip to be
// suspected everywhere; it dies `disconnectGraceMs` later unless it is heard from or reconnects.
//
// Identity: `life` is the member's process start time (the contract's `incarnation`: a higher one is
// a restart, `rejoin`); `ver` is SWIM's incarnation number within one life, raised only to refute.
import type { Member, MemberEvent, MemberState } from "./types.js";
import type { Instant } from "./detector.js";
import { TransmitQueue } from "./transmit-queue.js";
import { bucketOfId, differingBuckets, DIGEST_BUCKETS, idHash, memberHash } from "./digest.js";

export type SwimStatus = "alive" | "suspect" | "dead";

/** One member's state as gossiped. `from` names the accuser of a suspect/dead update (confirmations count distinct accusers). */
export interface Update {
  readonly node: string;
  readonly life: number;
  readonly ver: number;
  readonly status: SwimStatus;
  readonly from?: string;
}

export type SwimMessage =
  | { readonly t: "ping"; readonly seq: number; readonly target: string; readonly life: number; readonly ver: number; readonly updates: readonly Update[] }
  | { readonly t: "ack"; readonly seq: number; readonly life: number; readonly ver: number; readonly updates: readonly Update[] }
  | { readonly t: "ping-req"; readonly seq: number; readonly target: string; readonly life: number; readonly ver: number; readonly updates: readonly Update[] }
  | { readonly t: "nack"; readonly seq: number; readonly life: number; readonly ver: number; readonly updates: readonly Update[] }
  /** Push-pull: the sender's whole list (or, with `want`, its entries of the digest buckets that
   * differed); `reply` asks for the receiver's whole list back, `want` for its entries of those buckets. */
  | { readonly t: "sync"; readonly reply: boolean; readonly life: number; readonly ver: number; readonly members: readonly Update[]; readonly want?: readonly number[] }
  /** Push-pull by digest (digest.ts): a receiver whose table differs answers with a `sync` + `want`. */
  | { readonly t: "digest"; readonly life: number; readonly ver: number; readonly buckets: readonly number[] };

/** Where a message goes: one member, or `join` (any one member of the cluster, picked by the bus). */
export interface Send {
  readonly to: string | typeof JOIN;
  readonly msg: SwimMessage;
}

export const JOIN = Symbol("join");

export interface SwimConfig {
  /** Base probe period (ms), stretched by the local health multiplier. */
  readonly probeIntervalMs: number;
  /** Direct ack wait (ms) before indirect probes, stretched like the period; < probeIntervalMs. */
  readonly probeTimeoutMs: number;
  /** Members asked to probe for us (k). */
  readonly indirectProbes: number;
  /** Suspicion timeout floor = suspicionMult · max(1, log10 n) · probeIntervalMs. */
  readonly suspicionMult: number;
  /** Suspicion timeout ceiling = suspicionMaxMult · floor (no confirmations). */
  readonly suspicionMaxMult: number;
  /** Independent confirmations that bring the timeout down to the floor. */
  readonly suspicionConfirmations: number;
  /** Each update is piggybacked retransmitMult · ceil(log10(n+1)) times. */
  readonly retransmitMult: number;
  readonly maxPiggyback: number;
  /** Local health multiplier ceiling (Lifeguard's S). */
  readonly maxLocalHealth: number;
  /** Push-pull with a random known member (dead ones included) or any member the bus picks, alternately, so groups and partitions merge; scaled by log2(n/32). */
  readonly syncIntervalMs: number;
  /** While we know nobody, a join request goes to the bus this often. */
  readonly joinRetryMs: number;
  /** A tick later than expected by more than this is a stall of our own event loop. */
  readonly stallThresholdMs: number;
  readonly tickMs: number;
  /** Dead members leave the table this long after they died. */
  readonly forgetDeadAfterMs: number;
  /** Incarnations (lives) this far ahead of our wall clock are refused. */
  readonly maxClockSkewMs: number;
  /** A member whose connection the bus saw close is dead this long after (connectionClosed), unless heard from. */
  readonly disconnectGraceMs: number;
}

export const SWIM_DEFAULTS = {
  probeIntervalMs: 200,
  probeTimeoutMs: 80,
  indirectProbes: 3,
  suspicionMult: 2,
  suspicionMaxMult: 6,
  suspicionConfirmations: 3,
  retransmitMult: 4,
  maxPiggyback: 16,
  maxLocalHealth: 8,
  syncIntervalMs: 5000,
  joinRetryMs: 500,
  disconnectGraceMs: 500,
} as const;

/** The measured round trip can stretch the probe timeout (and period with it) up to this many times the configured one. */
const MAX_RTT_SCALE = 5;

export type SwimRejectReason = "clock-skew" | "impostor";

export interface SwimOutput {
  readonly sends: Send[];
  readonly events: MemberEvent[];
  readonly rejected: Array<{ readonly reason: SwimRejectReason; readonly message: string }>;
  /** Our own event-loop stall seen by this tick (ms), else 0. */
  stallMs: number;
  readonly forgotten: string[];
}

interface Peer {
  readonly node: string;
  /** idHash(node): the digest bucket and the seed of the member's hash. */
  readonly hash: number;
  life: number;
  ver: number;
  status: SwimStatus;
  /** Our NATS connection is down: we cannot judge, watchers were told `unknown`. */
  unknown: boolean;
  heardWall: number;
  /** When we last heard the member itself (any message of its current life), monotonic ms. */
  heardMono: number;
  sinceMono: number;
  sinceWall: number;
  suspicion?: Suspicion;
  /** Who declared it dead (kept for the lists we hand out in push-pull). */
  accuser?: string;
}

/** The accuser of a suspicion started by the bus's disconnect advisory (never gossiped: every member hears the bus itself). */
export const BUS = "$bus";

interface Suspicion {
  startMono: number;
  /** The bus saw the member's connection close: dead at this time unless heard from (monotonic ms). */
  busDueMono?: number;
  readonly first: string;
  readonly accusers: Set<string>;
  /** Timeout floor/ceiling fixed when the suspicion starts (n at that moment). */
  readonly minMs: number;
  readonly maxMs: number;
}

interface Probe {
  readonly target: string;
  readonly seq: number;
  readonly startMono: number;
  readonly timeoutMono: number;
  readonly endMono: number;
  indirect: boolean;
  acked: boolean;
  nacks: number;
  expectedNacks: number;
  /** A stall of our own happened while it was in flight: its outcome proves nothing. */
  void: boolean;
}

interface Relay {
  readonly requester: string;
  readonly seq: number;
  readonly nackMono: number;
  nacked: boolean;
}

export interface SwimCounters {
  probes: number;
  probesFailed: number;
  indirectProbes: number;
  refutations: number;
  syncs: number;
}

export class Swim {
  readonly #cfg: SwimConfig;
  readonly #self: string;
  readonly #life: number;
  #ver = 0;
  readonly #random: () => number;
  readonly #peers = new Map<string, Peer>();
  readonly #queue = new TransmitQueue<Update>();
  /** node → its queued suspicion keys (`node accuser`). */
  readonly #confirmations = new Map<string, Set<string>>();
  #order: string[] = [];
  #orderAt = 0;
  #seq = 0;
  #sizeAtSync = 0;
  #probe: Probe | undefined;
  /** A probe that failed, judged one (health-stretched) period later by #judgePending. */
  #pendingSuspicion: { readonly target: string; readonly life: number; readonly ver: number; readonly sinceMono: number; readonly dueMono: number } | undefined;
  readonly #relays = new Map<number, Relay>();
  #health = 0;
  #nextProbeMono: number | undefined;
  #nextSyncMono: number | undefined;
  #lastTickMono: number | undefined;
  #nextForgetMono = 0;
  /** No suspicion can expire before this (a lower bound, so a tick need not walk the suspects). */
  #nextAgeMono = 0;
  /** Smoothed round trip of direct probes and its variation (ms): undefined until the first ack. */
  #srtt: number | undefined;
  #rttvar = 0;
  #connected = true;
  /** The next push-pull swaps whole lists (after our connection came back: peers we marked unknown
   * look alive in a digest, and only a whole list from someone who heard them revives them). */
  #fullSyncNext = false;
  readonly #selfHash: number;
  readonly #impostors = new Set<number>();
  /** Members under suspicion and dead ones: ticks look at these, never at the whole table. */
  readonly #suspects = new Set<Peer>();
  readonly #deadSet = new Set<Peer>();
  /** Members marked unknown (our connection dropped) and not heard of since. */
  #unknownCount = 0;
  readonly counters: SwimCounters = { probes: 0, probesFailed: 0, indirectProbes: 0, refutations: 0, syncs: 0 };

  constructor(cfg: SwimConfig, self: string, life: number, random: () => number = Math.random) {
    this.#cfg = cfg;
    this.#self = self;
    this.#life = life;
    this.#random = random;
    this.#selfHash = idHash(self);
  }

  get localHealth(): number {
    return this.#health;
  }

  get ver(): number {
    return this.#ver;
  }

  get connected(): boolean {
    return this.#connected;
  }

  /** Known members that are not dead, this one included: the n that scales timeouts and retransmits. */
  get size(): number {
    return 1 + this.#peers.size - this.#deadSet.size;
  }

  /** Probe period as our local health stretches it. */
  probePeriodMs(): number {
    return this.#basePeriodMs() * (1 + this.#health);
  }

  /** The direct-ack wait before health stretches it: the configured one, or the measured round trip
   * (srtt + 4·rttvar, as TCP's RTO) when acks take longer, up to maxRttScale times the configured. */
  #baseTimeoutMs(): number {
    const rto = this.#srtt === undefined ? 0 : this.#srtt + 4 * this.#rttvar;
    return Math.min(this.#cfg.probeTimeoutMs * MAX_RTT_SCALE, Math.max(this.#cfg.probeTimeoutMs, rto));
  }

  /** The period keeps its configured ratio to the timeout, so an indirect probe (two round trips) still fits. */
  #basePeriodMs(): number {
    return Math.max(this.#cfg.probeIntervalMs, (this.#baseTimeoutMs() * this.#cfg.probeIntervalMs) / this.#cfg.probeTimeoutMs);
  }

  /** A direct ack's round trip, smoothed as RFC 6298 does. */
  #sampleRtt(rtt: number): void {
    if (this.#srtt === undefined) {
      // No variation assumed yet (RFC 6298 starts at rtt/2): the configured timeout is the floor anyway,
      // and a cluster that answers as configured must probe at the configured rate from the start.
      this.#srtt = rtt;
      return;
    }
    this.#rttvar = 0.75 * this.#rttvar + 0.25 * Math.abs(this.#srtt - rtt);
    this.#srtt = 0.875 * this.#srtt + 0.125 * rtt;
  }

  tick(at: Instant): SwimOutput {
    const out = output();
    const late = this.#lastTickMono === undefined ? 0 : at.mono - this.#lastTickMono - this.#cfg.tickMs;
    this.#lastTickMono = at.mono;
    if (late > this.#cfg.stallThresholdMs) this.#stalled(late, out);
    // Forgetting is minutes-scale housekeeping: once a second, not a walk of the dead on every tick.
    if (at.mono >= this.#nextForgetMono) {
      this.#nextForgetMono = at.mono + 1000;
      this.#forget(at, out);
    }
    if (!this.#connected) return out;
    this.#expireRelays(at, out);
    this.#ageSuspicions(at, out);
    this.#judgePending(at, out);
    const probe = this.#probe;
    if (probe !== undefined && !probe.acked && !probe.indirect && !probe.void && at.mono >= probe.timeoutMono) this.#indirect(probe, at, out);
    if (this.#nextProbeMono === undefined || at.mono >= this.#nextProbeMono) {
      this.#finishProbe(at, out);
      this.#startProbe(at, out);
      this.#nextProbeMono = at.mono + this.probePeriodMs();
    }
    if (this.#nextSyncMono === undefined || at.mono >= this.#nextSyncMono) {
      this.#sync(out);
      // Alone, or the table grew by more than a tenth since the last swap (a cold start, a healed
      // partition): swap again soon; a steady cluster swaps rarely.
      // Counted over every known member, dead ones too, so flapping under load does not look like growth;
      // and never faster than a quarter period: whole lists are the most expensive messages there are.
      const growing = this.#peers.size > 1.1 * this.#sizeAtSync;
      this.#sizeAtSync = this.#peers.size;
      const period = this.#syncPeriodMs();
      this.#nextSyncMono = at.mono + (this.#peers.size === 0 ? this.#cfg.joinRetryMs : growing ? Math.max(this.#cfg.joinRetryMs, period / 4) : period);
    }
    return out;
  }

  receive(from: string, msg: SwimMessage, at: Instant): SwimOutput {
    const out = output();
    if (from === this.#self) return out;
    if (!this.#connected) return out;
    if (msg.life - at.wall > this.#cfg.maxClockSkewMs) {
      out.rejected.push({ reason: "clock-skew", message: `swim ${msg.t} from ${from}: incarnation ${msg.life} is ${msg.life - at.wall} ms ahead of this node's clock (limit ${this.#cfg.maxClockSkewMs} ms)` });
      return out;
    }
    // Any message is its sender's own word that it is alive at (life, ver).
    this.#apply({ node: from, life: msg.life, ver: msg.ver, status: "alive" }, at, out, true);
    const p = this.#peers.get(from);
    if (p !== undefined && p.life === msg.life) {
      p.heardWall = at.wall;
      p.heardMono = at.mono;
      // Its own message after its connection closed: it reconnected, the bus's word no longer holds.
      if (p.suspicion?.busDueMono !== undefined) this.#withdrawBus(p, at, out);
    }
    if (msg.t === "digest") {
      const differ = differingBuckets(this.#digest(), msg.buckets);
      if (differ.length > 0) out.sends.push({ to: from, msg: { t: "sync", reply: false, life: this.#life, ver: this.#ver, members: this.#list(differ), want: differ } });
      return out;
    }
    if (msg.t === "sync") {
      this.#merge(msg.members, at, out, true);
      if (msg.reply) out.sends.push({ to: from, msg: { t: "sync", reply: false, life: this.#life, ver: this.#ver, members: this.#list() } });
      else if (msg.want !== undefined && msg.want.length > 0) out.sends.push({ to: from, msg: { t: "sync", reply: false, life: this.#life, ver: this.#ver, members: this.#list(msg.want) } });
      return out;
    }
    this.#merge(msg.updates, at, out);
    switch (msg.t) {
      case "ping": {
        // A ping meant for an earlier process with our id is answered anyway: we are that node now.
        const ack = this.#stamp({ t: "ack", seq: msg.seq });
        // The sender is alive but we hold it suspect or dead at its own version: tell it in the ack
        // (as the buddy system does for suspects we probe), so it refutes now instead of whenever
        // the gossip reaches it; nobody probes a member they hold dead, so its own pings are the way.
        if (p !== undefined && p.status !== "alive" && p.life === msg.life && p.ver >= msg.ver) {
          ack.updates.unshift({ node: from, life: p.life, ver: p.ver, status: p.status, from: p.suspicion?.first ?? p.accuser ?? this.#self });
          if (ack.updates.length > this.#cfg.maxPiggyback) ack.updates.pop();
        }
        out.sends.push({ to: from, msg: ack });
        return out;
      }
      case "ping-req": {
        const seq = ++this.#seq;
        this.#relays.set(seq, { requester: from, seq: msg.seq, nackMono: at.mono + 0.8 * this.#baseTimeoutMs() * (1 + this.#health), nacked: false });
        out.sends.push({ to: msg.target, msg: this.#stamp({ t: "ping", seq, target: msg.target }) });
        return out;
      }
      case "ack": {
        const relay = this.#relays.get(msg.seq);
        if (relay !== undefined) {
          this.#relays.delete(msg.seq);
          out.sends.push({ to: relay.requester, msg: this.#stamp({ t: "ack", seq: relay.seq }) });
          return out;
        }
        const probe = this.#probe;
        if (probe !== undefined && probe.seq === msg.seq && !probe.acked) {
          probe.acked = true;
          // The target's own ack (not one relayed by a helper, two hops): a round-trip sample, late ones included, so the timeout follows a loaded cluster.
          if (from === probe.target && !probe.void) this.#sampleRtt(at.mono - probe.startMono);
          if (this.#health > 0) {
            this.#health -= 1;
            // Healthier: suspicions run out sooner than the bound assumed.
            this.#nextAgeMono = 0;
          }
        }
        return out;
      }
      case "nack": {
        const probe = this.#probe;
        if (probe !== undefined && probe.seq === msg.seq) probe.nacks += 1;
        return out;
      }
    }
  }

  /** Our own connection to the bus changed. Lost: live peers become unknown (never dead). Back: push-pull at once. */
  setConnected(connected: boolean, at: Instant): MemberEvent[] {
    if (connected === this.#connected) return [];
    this.#connected = connected;
    const events: MemberEvent[] = [];
    this.#probe = undefined;
    this.#relays.clear();
    if (connected) {
      // Time spent cut off is nobody's silence: suspicions restart, a sync brings the table up to date.
      for (const p of this.#suspects) if (p.suspicion !== undefined) p.suspicion.startMono = at.mono;
      this.#nextSyncMono = at.mono;
      this.#fullSyncNext = true;
      this.#nextProbeMono = at.mono + this.probePeriodMs();
      return events;
    }
    for (const p of this.#peers.values()) {
      if (p.status === "dead" || p.unknown) continue;
      p.unknown = true;
      this.#unknownCount += 1;
      enter(p, at);
      events.push({ type: "unknown", node: p.node, incarnation: p.life });
    }
    return events;
  }

  /**
   * The bus saw `node`'s connection close (a NATS disconnect advisory of a closed or broken socket:
   * its process exited or its host reset the connection). A member alive to us becomes suspect at
   * once, dead `disconnectGraceMs` later unless it is heard from or its connection opens again
   * (a reconnect after a network blip). Not gossiped: every member hears the bus itself. A member
   * we already suspect keeps its suspicion, with the bus as one more accuser and its deadline as
   * another way to die.
   */
  connectionClosed(node: string, at: Instant): SwimOutput {
    const out = output();
    const p = this.#peers.get(node);
    if (!this.#connected || p === undefined || p.status === "dead" || p.unknown) return out;
    const due = at.mono + this.#cfg.disconnectGraceMs;
    if (p.status === "alive") {
      this.#setStatus(p, "suspect");
      const minMs = this.#cfg.disconnectGraceMs;
      p.suspicion = { startMono: at.mono, first: BUS, accusers: new Set([BUS]), minMs, maxMs: minMs };
      enter(p, at);
      out.events.push({ type: "suspect", node: p.node, incarnation: p.life });
    }
    const s = p.suspicion as Suspicion;
    // One more witness of a suspicion already held (it also shortens the probes' timeout).
    s.accusers.add(BUS);
    s.busDueMono = Math.min(s.busDueMono ?? Infinity, due);
    this.#nextAgeMono = Math.min(this.#nextAgeMono, due);
    return out;
  }

  /** The bus saw `node` connect (again): a suspicion the bus started is withdrawn; a dead member waits for its own word. */
  connectionOpened(node: string, at: Instant): SwimOutput {
    const out = output();
    const p = this.#peers.get(node);
    if (p?.suspicion?.busDueMono !== undefined) this.#withdrawBus(p, at, out);
    return out;
  }

  #withdrawBus(p: Peer, at: Instant, out: SwimOutput): void {
    const s = p.suspicion as Suspicion;
    delete s.busDueMono;
    if (!onlyBus(s)) {
      s.accusers.delete(BUS);
      return;
    }
    // Only the bus accused it: alive again at the same version, nothing to refute.
    this.#setStatus(p, "alive");
    enter(p, at);
    out.events.push({ type: "alive", node: p.node, incarnation: p.life });
  }

  members(): Member[] {
    return [...this.#peers.values()].sort((a, b) => (a.node < b.node ? -1 : a.node > b.node ? 1 : 0)).map(toMember);
  }

  member(node: string): Member | undefined {
    const p = this.#peers.get(node);
    return p === undefined ? undefined : toMember(p);
  }

  /** From the suspect and dead sets (the metrics ask every second, a thousand instances per bench
   * process); a walk of the table only while our reconnect has left some members unknown. */
  counts(): Record<MemberState, number> {
    const out: Record<MemberState, number> = { alive: 0, suspect: 0, dead: 0, unknown: 0 };
    if (this.#unknownCount > 0) {
      for (const p of this.#peers.values()) out[stateOf(p)] += 1;
      return out;
    }
    // #setStatus keeps both sets exact: their sizes are the counts.
    out.suspect = this.#suspects.size;
    out.dead = this.#deadSet.size;
    out.alive = this.#peers.size - out.dead - out.suspect;
    return out;
  }

  #known(p: Peer): void {
    if (!p.unknown) return;
    p.unknown = false;
    this.#unknownCount -= 1;
  }

  /** Updates waiting to be piggybacked (bounded by the number of members: one per member). */
  get queued(): number {
    return this.#queue.size;
  }

  // ---- probing ----

  #startProbe(at: Instant, out: SwimOutput): void {
    const target = this.#nextTarget();
    if (target === undefined) return;
    const seq = ++this.#seq;
    const scale = 1 + this.#health;
    this.#probe = { target, seq, startMono: at.mono, timeoutMono: at.mono + this.#baseTimeoutMs() * scale, endMono: at.mono + this.#basePeriodMs() * scale, indirect: false, acked: false, nacks: 0, expectedNacks: 0, void: false };
    this.counters.probes += 1;
    const ping = this.#stamp({ t: "ping", seq, target });
    const p = this.#peers.get(target);
    // Lifeguard's buddy system: a suspect we probe hears of its suspicion at once and can refute it.
    // Not a suspicion only the bus raised: its ack withdraws that, and a refutation would go to everyone.
    if (p?.status === "suspect" && !onlyBus(p.suspicion)) ping.updates.unshift({ node: target, life: p.life, ver: p.ver, status: "suspect", from: this.#self });
    if (ping.updates.length > this.#cfg.maxPiggyback) ping.updates.pop();
    out.sends.push({ to: target, msg: ping });
  }

  #indirect(probe: Probe, _at: Instant, out: SwimOutput): void {
    probe.indirect = true;
    const helpers = this.#pick(this.#cfg.indirectProbes, (p) => p.status === "alive" && !p.unknown && p.node !== probe.target);
    probe.expectedNacks = helpers.length;
    this.counters.indirectProbes += helpers.length;
    for (const h of helpers) out.sends.push({ to: h, msg: this.#stamp({ t: "ping-req", seq: probe.seq, target: probe.target }) });
  }

  /** A failed probe becomes a suspicion only if the target stayed silent one more period (as our
   * health stretches it: one base period proved too short at 1,000 instances on 2 cores). A
   * target whose process stalled answers late (its ack, a ping of its own): it was slow, not dead,
   * and one accusation costs a suspicion and a refutation sent to every member. Where hundreds of
   * members share a process (bench/membership), one stall would otherwise accuse all of them at once. */
  #judgePending(at: Instant, out: SwimOutput, now = false): void {
    const pending = this.#pendingSuspicion;
    if (pending === undefined || (!now && at.mono < pending.dueMono)) return;
    this.#pendingSuspicion = undefined;
    const p = this.#peers.get(pending.target);
    // Suspect meanwhile (told by others): our failed probe is one more independent confirmation.
    if (p !== undefined && p.status !== "dead" && p.life === pending.life && p.heardMono < pending.sinceMono) {
      this.#apply({ node: p.node, life: p.life, ver: Math.max(p.ver, pending.ver), status: "suspect", from: this.#self }, at, out, false);
    }
  }

  #finishProbe(at: Instant, out: SwimOutput): void {
    // A judgement still pending (health stretched our period past it) is made before a new one replaces it.
    this.#judgePending(at, out, true);
    const probe = this.#probe;
    this.#probe = undefined;
    if (probe === undefined || probe.acked || probe.void) return;
    this.counters.probesFailed += 1;
    // Lifeguard: helpers that did not even nack point at us, not at the target. Unlike memberlist, a
    // failed probe that every helper nacked still counts 1: a prober that keeps failing probes slows
    // down, which is what stops a storm of suspicions on a saturated machine from feeding itself.
    const missing = probe.expectedNacks - probe.nacks;
    this.#health = Math.min(this.#cfg.maxLocalHealth, this.#health + Math.max(1, missing));
    const p = this.#peers.get(probe.target);
    if (p === undefined || p.status === "dead") return;
    // Even a confirmation of others' suspicion waits: confirmations shorten the suspicion timeout,
    // and after a stall the accused answer late, all at once.
    this.#pendingSuspicion = { target: p.node, life: p.life, ver: p.ver, sinceMono: probe.startMono, dueMono: at.mono + this.probePeriodMs() };
  }

  #nextTarget(): string | undefined {
    for (let tries = 0; tries < 2; tries++) {
      while (this.#orderAt < this.#order.length) {
        const node = this.#order[this.#orderAt++] as string;
        const p = this.#peers.get(node);
        if (p !== undefined && p.status !== "dead") return node;
      }
      // One pass done: a fresh shuffle (memberlist's round-robin bounds the time to probe any member).
      this.#order = shuffle(
        [...this.#peers.values()].filter((p) => p.status !== "dead").map((p) => p.node),
        this.#random,
      );
      this.#orderAt = 0;
      if (this.#order.length === 0) return undefined;
    }
    return undefined;
  }

  #expireRelays(at: Instant, out: SwimOutput): void {
    for (const [seq, r] of this.#relays) {
      if (!r.nacked && at.mono >= r.nackMono) {
        r.nacked = true;
        out.sends.push({ to: r.requester, msg: this.#stamp({ t: "nack", seq: r.seq }) });
      }
      // An ack later than two periods is useless to the requester.
      if (at.mono >= r.nackMono + 2 * this.probePeriodMs()) this.#relays.delete(seq);
    }
  }

  // ---- suspicion ----

  #suspicionTimeoutMs(s: Suspicion): number {
    const k = this.#cfg.suspicionConfirmations;
    const confirmations = Math.max(0, s.accusers.size - 1);
    if (k <= 0) return s.minMs;
    const frac = Math.log(confirmations + 1) / Math.log(k + 1);
    return Math.max(s.minMs, s.maxMs - frac * (s.maxMs - s.minMs));
  }

  /** When a suspicion turns into a death: an unhealthy member (its own probes failing: it may be the
   * one cut off) waits (1 + health) times longer. */
  #expiresMono(s: Suspicion): number {
    const own = onlyBus(s) ? Infinity : s.startMono + this.#suspicionTimeoutMs(s) * (1 + this.#health);
    // The bus's deadline is not stretched by our health: it is the server's word, not our probes'.
    return Math.min(own, s.busDueMono ?? Infinity);
  }

  #ageSuspicions(at: Instant, out: SwimOutput): void {
    // In a storm hundreds are suspect on every member: walk them only when one may be due.
    if (at.mono < this.#nextAgeMono) return;
    this.#nextAgeMono = Infinity;
    let next = Infinity;
    // (Deleting the current element while iterating a Set is safe: no copy per tick.)
    for (const p of this.#suspects) {
      const s = p.suspicion;
      if (p.status !== "suspect" || s === undefined) {
        this.#suspects.delete(p);
        continue;
      }
      const due = this.#expiresMono(s);
      if (at.mono < due) {
        next = Math.min(next, due);
        continue;
      }
      this.#apply({ node: p.node, life: p.life, ver: p.ver, status: "dead", from: this.#self }, at, out, false);
    }
    this.#nextAgeMono = Math.min(this.#nextAgeMono, next);
  }

  #stalled(stallMs: number, out: SwimOutput): void {
    out.stallMs = stallMs;
    // Acks that arrived meanwhile sat unread: the probe in flight proves nothing, suspicions wait longer.
    if (this.#probe !== undefined) this.#probe.void = true;
    for (const p of this.#suspects) {
      const s = p.suspicion;
      if (s === undefined) continue;
      s.startMono += stallMs;
      if (s.busDueMono !== undefined) s.busDueMono += stallMs;
    }
  }

  // ---- merging updates ----

  #merge(updates: readonly Update[], at: Instant, out: SwimOutput, fromSync = false): void {
    for (const u of updates) {
      if (u.life - at.wall > this.#cfg.maxClockSkewMs) {
        out.rejected.push({ reason: "clock-skew", message: `swim update about ${u.node}: incarnation ${u.life} is ${u.life - at.wall} ms ahead of this node's clock (limit ${this.#cfg.maxClockSkewMs} ms)` });
        continue;
      }
      // A whole list may come from a node that was cut off and took the rest for dead: its "dead"
      // is only a suspicion here (as memberlist does), which a live member refutes in time.
      this.#apply(fromSync && u.status === "dead" ? { ...u, status: "suspect" } : u, at, out, false, fromSync);
    }
  }

  /** Applies one update by SWIM's precedence; `direct` = the member's own word (its message), never re-gossiped as is. */
  #apply(u: Update, at: Instant, out: SwimOutput, direct: boolean, fromSync = false): void {
    if (u.node === this.#self) return this.#aboutSelf(u, out);
    const p = this.#peers.get(u.node);
    if (p === undefined) {
      if (u.status === "dead") {
        // A member that died before we heard of it (a cold start, a join racing a death) may still
        // own facts our store holds: it is recorded dead (so a stale `alive` of that life cannot bring
        // it back), watchers are told (suspect, dead: the store drops its facts after the grace), and
        // the word is passed on like any death.
        const gone: Peer = { node: u.node, hash: idHash(u.node), life: u.life, ver: u.ver, status: "alive", unknown: false, heardWall: 0, heardMono: -1, sinceMono: at.mono, sinceWall: at.wall };
        this.#peers.set(u.node, gone);
        this.#dead(gone, u, at, out);
        return;
      }
      const fresh: Peer = { node: u.node, hash: idHash(u.node), life: u.life, ver: u.ver, status: "alive", unknown: false, heardWall: at.wall, heardMono: at.mono, sinceMono: at.mono, sinceWall: at.wall };
      this.#peers.set(u.node, fresh);
      // A random place in the probe order, so a new member is probed within one pass.
      this.#order.splice(this.#orderAt + Math.floor(this.#random() * (this.#order.length - this.#orderAt + 1)), 0, u.node);
      out.events.push({ type: "join", node: u.node, incarnation: u.life });
      // Learnt from a whole list it is news to us, hardly to the cluster: not re-gossiped (a backlog of
      // old joins would delay fresh suspicions). At a cold start push-pull runs faster instead (#sync).
      if (!fromSync) this.#enqueue({ node: u.node, life: u.life, ver: u.ver, status: "alive" });
      if (u.status === "suspect") this.#suspect(fresh, u, at, out);
      return;
    }
    if (u.life < p.life) return;
    if (u.life > p.life) {
      const previous = p.life;
      p.life = u.life;
      p.ver = u.ver;
      this.#setStatus(p, "alive");
      this.#known(p);
      enter(p, at);
      out.events.push({ type: "rejoin", node: p.node, incarnation: p.life, previous });
      this.#enqueue({ node: p.node, life: p.life, ver: p.ver, status: "alive" });
      if (u.status === "suspect") this.#suspect(p, u, at, out);
      else if (u.status === "dead") this.#dead(p, u, at, out);
      return;
    }
    switch (u.status) {
      case "alive": {
        const newer = u.ver > p.ver;
        if (!newer && !(u.ver === p.ver && p.status === "alive" && p.unknown)) return;
        const was = stateOf(p);
        p.ver = Math.max(p.ver, u.ver);
        this.#setStatus(p, "alive");
        this.#known(p);
        if (was !== "alive") {
          enter(p, at);
          out.events.push({ type: "alive", node: p.node, incarnation: p.life });
        }
        if (newer && !direct) this.#enqueue({ node: p.node, life: p.life, ver: p.ver, status: "alive" });
        else if (newer && was !== "alive") this.#enqueue({ node: p.node, life: p.life, ver: p.ver, status: "alive" });
        return;
      }
      case "suspect":
        if (u.ver < p.ver || p.status === "dead") return;
        this.#suspect(p, u, at, out);
        return;
      case "dead":
        if (u.ver < p.ver || p.status === "dead") return;
        this.#dead(p, u, at, out);
        return;
    }
  }

  #suspect(p: Peer, u: Update, at: Instant, out: SwimOutput): void {
    const accuser = u.from ?? "?";
    if (p.status === "suspect" && u.ver === p.ver && p.suspicion !== undefined) {
      // An independent confirmation: the timeout shortens, and others should count it too.
      if (p.suspicion.accusers.has(accuser)) return;
      p.suspicion.accusers.add(accuser);
      this.#nextAgeMono = Math.min(this.#nextAgeMono, this.#expiresMono(p.suspicion));
      this.#enqueue({ node: p.node, life: p.life, ver: p.ver, status: "suspect", from: accuser });
      return;
    }
    const n = this.size;
    const minMs = this.#cfg.suspicionMult * Math.max(1, Math.log10(n)) * this.#basePeriodMs();
    p.ver = u.ver;
    this.#setStatus(p, "suspect");
    p.suspicion = { startMono: at.mono, first: accuser, accusers: new Set([accuser]), minMs, maxMs: this.#cfg.suspicionMaxMult * minMs };
    this.#nextAgeMono = Math.min(this.#nextAgeMono, this.#expiresMono(p.suspicion));
    enter(p, at);
    out.events.push({ type: "suspect", node: p.node, incarnation: p.life });
    this.#enqueue({ node: p.node, life: p.life, ver: p.ver, status: "suspect", from: accuser });
  }

  #dead(p: Peer, u: Update, at: Instant, out: SwimOutput): void {
    // Watchers always see suspect before dead.
    if (p.status === "alive") {
      p.status = "suspect";
      out.events.push({ type: "suspect", node: p.node, incarnation: p.life });
    }
    p.ver = u.ver;
    this.#setStatus(p, "dead");
    p.accuser = u.from ?? this.#self;
    this.#known(p);
    enter(p, at);
    out.events.push({ type: "dead", node: p.node, incarnation: p.life });
    this.#enqueue({ node: p.node, life: p.life, ver: p.ver, status: "dead", from: u.from ?? this.#self });
  }

  /** The one place a status changes, so the suspect and dead sets stay exact. */
  #setStatus(p: Peer, status: SwimStatus): void {
    p.status = status;
    if (status === "suspect") this.#suspects.add(p);
    else {
      this.#suspects.delete(p);
      delete p.suspicion;
    }
    if (status === "dead") this.#deadSet.add(p);
    else this.#deadSet.delete(p);
  }

  #aboutSelf(u: Update, out: SwimOutput): void {
    if (u.life > this.#life) {
      if (!this.#impostors.has(u.life)) {
        this.#impostors.add(u.life);
        out.rejected.push({ reason: "impostor", message: `another process uses this node's id (incarnation ${u.life}, ours ${this.#life})` });
      }
      return;
    }
    if (u.life < this.#life || u.status === "alive" || u.ver < this.#ver) return;
    if (u.status === "dead") {
      // We were declared dead: we were the cut-off side, and the deaths we declared meanwhile are
      // probably the cut, not the others. They are not spread any further.
      this.#queue.deleteWhere((q) => q.status === "dead" && q.from === this.#self);
    }
    // Refute: a higher version of our own `alive` overrides every suspicion of the old one.
    this.#ver = u.ver + 1;
    this.counters.refutations += 1;
    this.#health = Math.min(this.#cfg.maxLocalHealth, this.#health + 1);
    this.#enqueue({ node: this.#self, life: this.#life, ver: this.#ver, status: "alive" });
  }

  // ---- dissemination ----

  #enqueue(u: Update): void {
    if (u.status === "suspect" && u.from !== undefined) {
      // Each accuser's suspicion travels on its own: receivers count distinct accusers.
      const key = `${u.node} ${u.from}`;
      this.#queue.set(key, u);
      const keys = this.#confirmations.get(u.node) ?? new Set<string>();
      keys.add(key);
      this.#confirmations.set(u.node, keys);
      return;
    }
    this.#queue.set(u.node, u);
    // A newer word about a node makes its older suspicions moot.
    const keys = this.#confirmations.get(u.node);
    if (keys !== undefined) {
      for (const key of keys) this.#queue.delete(key);
      this.#confirmations.delete(u.node);
    }
  }

  #piggyback(): Update[] {
    // Least-sent first, newest first among equals: a fresh update spreads before old ones finish their rounds.
    return this.#queue.take(this.#cfg.maxPiggyback, this.#cfg.retransmitMult * Math.ceil(Math.log10(this.size + 1)));
  }

  #stamp<M extends { t: "ping" | "ack" | "ping-req" | "nack" }>(m: M): M & { life: number; ver: number; updates: Update[] } {
    return { ...m, life: this.#life, ver: this.#ver, updates: this.#piggyback() };
  }

  /** Our table (this member included), or only its entries in the given digest buckets. */
  #list(buckets?: readonly number[]): Update[] {
    const only = buckets === undefined ? undefined : new Set(buckets);
    const list: Update[] = only === undefined || only.has(bucketOfId(this.#selfHash)) ? [{ node: this.#self, life: this.#life, ver: this.#ver, status: "alive" }] : [];
    // A suspicion keeps its first accuser: relaying it must not count as confirming it.
    for (const p of this.#peers.values()) if (only === undefined || only.has(bucketOfId(p.hash))) list.push({ node: p.node, life: p.life, ver: p.ver, status: p.status, ...(p.status === "alive" ? {} : { from: p.suspicion?.first ?? p.accuser ?? this.#self }) });
    return list;
  }

  #syncPeriodMs(): number {
    return this.#cfg.syncIntervalMs * Math.max(1, Math.ceil(Math.log2(this.size / 32)));
  }

  #sync(out: SwimOutput): void {
    this.counters.syncs += 1;
    const all = [...this.#peers.keys()];
    // Every other swap goes to whoever the bus picks, not to a member we know: groups that formed
    // apart (members started together, each joined through a different one) find each other.
    const to = all.length === 0 || this.counters.syncs % 2 === 0 ? JOIN : (all[Math.floor(this.#random() * all.length)] as string);
    // A join (we know nobody) or a reconnect swaps whole lists; otherwise a digest, answered with what differs.
    if (all.length === 0 || this.#fullSyncNext) {
      this.#fullSyncNext = false;
      out.sends.push({ to, msg: { t: "sync", reply: true, life: this.#life, ver: this.#ver, members: this.#list() } });
    } else out.sends.push({ to, msg: { t: "digest", life: this.#life, ver: this.#ver, buckets: this.#digest() } });
  }

  /** The table's digest (digest.ts), as #list would hand it out. O(n) integer work: computed per push-pull, never per probe. */
  #digest(): number[] {
    const d = new Uint32Array(DIGEST_BUCKETS);
    d[bucketOfId(this.#selfHash)] = memberHash(this.#selfHash, this.#life, this.#ver, "alive");
    for (const p of this.#peers.values()) {
      const b = bucketOfId(p.hash);
      d[b] = (d[b] as number) ^ memberHash(p.hash, p.life, p.ver, p.status);
    }
    return Array.from(d);
  }

  #forget(at: Instant, out: SwimOutput): void {
    for (const p of this.#deadSet) {
      if (at.mono - p.sinceMono > this.#cfg.forgetDeadAfterMs) {
        this.#deadSet.delete(p);
        this.#peers.delete(p.node);
        this.#queue.delete(p.node);
        out.forgotten.push(p.node);
      }
    }
  }

  /** Up to `k` distinct random members matching `ok`: sampled from the probe order (every member
   * not dead), a walk of the whole table only when sampling finds too few (a small or dying cluster). */
  #pick(k: number, ok: (p: Peer) => boolean): string[] {
    const order = this.#order;
    const found = new Set<string>();
    for (let tries = 0; tries < 4 * k && found.size < k && order.length > 4 * k; tries++) {
      const node = order[Math.floor(this.#random() * order.length)] as string;
      const p = this.#peers.get(node);
      if (p !== undefined && ok(p)) found.add(node);
    }
    if (found.size === k) return [...found];
    const candidates = [...this.#peers.values()].filter(ok).map((p) => p.node);
    return shuffle(candidates, this.#random).slice(0, k);
  }
}

function onlyBus(s: Suspicion | undefined): boolean {
  return s !== undefined && s.accusers.size === 1 && s.accusers.has(BUS);
}

function output(): SwimOutput {
  return { sends: [], events: [], rejected: [], stallMs: 0, forgotten: [] };
}

function enter(p: Peer, at: Instant): void {
  p.sinceMono = at.mono;
  p.sinceWall = at.wall;
}

function stateOf(p: Peer): MemberState {
  if (p.status === "dead") return "dead";
  return p.unknown ? "unknown" : p.status;
}

function toMember(p: Peer): Member {
  return { node: p.node, incarnation: p.life, state: stateOf(p), lastHeardAt: p.heardWall, since: p.sinceWall, self: false };
}

function shuffle<T>(xs: T[], random: () => number): T[] {
  for (let i = xs.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [xs[i], xs[j]] = [xs[j] as T, xs[i] as T];
  }
  return xs;
}
