// A deterministic simulated network of Swim instances on a virtual clock: the unit tests and the
// pure bench of swim.ts run 1,000 members in it without NATS, timers or threads.
import { JOIN, Swim, SWIM_DEFAULTS, type SwimConfig, type SwimMessage, type Update } from "./swim.js";
import type { MemberEvent } from "./types.js";

/** mulberry32: small, fast, seedable; good enough to shuffle probe orders reproducibly. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface SimNode {
  readonly id: string;
  swim: Swim;
  life: number;
  /** Killed: neither ticks nor receives nor sends. */
  down: boolean;
  /** Extra delay (ms) on every message to and from it: a loaded node. */
  slowMs: number;
  /** Nodes in different groups cannot reach each other. */
  group: number;
  readonly events: Array<{ at: number; ev: MemberEvent }>;
  sent: number;
}

interface InFlight {
  readonly at: number;
  readonly from: string;
  readonly to: string;
  readonly msg: SwimMessage;
}

export const SIM_CONFIG: SwimConfig = {
  ...SWIM_DEFAULTS,
  stallThresholdMs: 25,
  tickMs: 20,
  forgetDeadAfterMs: 3_600_000,
  maxClockSkewMs: 60_000,
};

export class Sim {
  now = 0;
  readonly nodes = new Map<string, SimNode>();
  readonly random: () => number;
  #queue: InFlight[] = [];
  readonly cfg: SwimConfig;
  /** Largest piggyback count seen on one message (a bound the tests check). */
  maxUpdatesPerMessage = 0;

  constructor(seed: number, cfg: SwimConfig = SIM_CONFIG) {
    this.random = seeded(seed);
    this.cfg = cfg;
  }

  add(id: string, life = 1_000): SimNode {
    const node: SimNode = { id, swim: new Swim(this.cfg, id, life, seeded(Math.floor(this.random() * 2 ** 32))), life, down: false, slowMs: 0, group: 0, events: [], sent: 0 };
    this.nodes.set(id, node);
    return node;
  }

  /** n members that already know each other (as after a join and one push-pull), so tests start from a steady cluster. */
  static steady(n: number, seed: number, cfg: SwimConfig = SIM_CONFIG): Sim {
    const sim = new Sim(seed, cfg);
    for (let i = 0; i < n; i++) sim.add(`n${i}`);
    const list: Update[] = [...sim.nodes.values()].map((x) => ({ node: x.id, life: x.life, ver: 0, status: "alive" }));
    for (const x of sim.nodes.values()) {
      const from = x.id === "n0" ? "n1" : "n0";
      x.swim.receive(from, { t: "sync", reply: false, life: 1_000, ver: 0, members: list }, { mono: 0, wall: 0 });
      x.events.length = 0;
    }
    return sim;
  }

  restart(id: string, life: number): SimNode {
    const old = this.nodes.get(id);
    const node = this.add(id, life);
    if (old) node.events.push(...old.events);
    return node;
  }

  /** Runs the cluster until `until` ms of virtual time, ticking every node every tickMs. */
  run(forMs: number): void {
    const end = this.now + forMs;
    while (this.now < end) {
      this.now += this.cfg.tickMs;
      this.#deliver();
      for (const n of this.nodes.values()) {
        if (n.down) continue;
        const out = n.swim.tick({ mono: this.now, wall: this.now });
        this.#handle(n, out.sends, out.events);
      }
    }
    this.#deliver();
  }

  /**
   * The bus's word about `id`'s connection (a NATS connect/disconnect advisory), heard by every live
   * member `delayMs` later, each on its own (the server publishes it to all of them).
   */
  advise(id: string, type: "closed" | "opened", delayMs = 2): void {
    this.run(delayMs);
    for (const n of this.nodes.values()) {
      if (n.down || n.id === id) continue;
      const at = { mono: this.now, wall: this.now };
      const out = type === "closed" ? n.swim.connectionClosed(id, at) : n.swim.connectionOpened(id, at);
      this.#handle(n, out.sends, out.events);
    }
  }

  /** Ticks one node late (its event loop blocked for `ms`), the others on time. */
  stall(id: string, ms: number): void {
    const n = this.nodes.get(id) as SimNode;
    n.down = true;
    this.run(ms);
    n.down = false;
    // What arrived meanwhile was queued for it: deliver now, then its late tick.
    const out = n.swim.tick({ mono: this.now, wall: this.now });
    this.#handle(n, out.sends, out.events);
  }

  #handle(n: SimNode, sends: ReturnType<Swim["tick"]>["sends"], events: readonly MemberEvent[]): void {
    for (const ev of events) n.events.push({ at: this.now, ev });
    for (const s of sends) {
      n.sent += 1;
      const count = "updates" in s.msg ? s.msg.updates.length : 0;
      this.maxUpdatesPerMessage = Math.max(this.maxUpdatesPerMessage, count);
      let to: string;
      if (s.to === JOIN) {
        const reachable = [...this.nodes.values()].filter((x) => !x.down && x.group === n.group);
        to = (reachable[Math.floor(this.random() * reachable.length)] as SimNode).id;
      } else to = s.to;
      const dest = this.nodes.get(to);
      const latency = 0.5 + this.random() * 2 + n.slowMs + (dest?.slowMs ?? 0);
      this.#queue.push({ at: this.now + latency, from: n.id, to, msg: s.msg });
    }
  }

  #deliver(): void {
    for (;;) {
      const due = this.#queue.filter((m) => m.at <= this.now).sort((a, b) => a.at - b.at);
      if (due.length === 0) return;
      this.#queue = this.#queue.filter((m) => m.at > this.now);
      for (const m of due) {
        const from = this.nodes.get(m.from);
        const to = this.nodes.get(m.to);
        if (!to || !from || to.down || from.group !== to.group) continue;
        const out = to.swim.receive(m.from, m.msg, { mono: this.now, wall: this.now });
        this.#handle(to, out.sends, out.events);
      }
    }
  }

  /** Events of a type about `about` seen by live nodes other than `about`. */
  seen(type: MemberEvent["type"], about: string): Array<{ by: string; at: number }> {
    const out: Array<{ by: string; at: number }> = [];
    for (const n of this.nodes.values()) {
      if (n.id === about || n.down) continue;
      const e = n.events.find((x) => x.ev.type === type && x.ev.node === about);
      if (e) out.push({ by: n.id, at: e.at });
    }
    return out;
  }

  /** Dead events about nodes that were never killed. */
  falseDeaths(killed: ReadonlySet<string> = new Set()): number {
    let count = 0;
    for (const n of this.nodes.values()) for (const e of n.events) if (e.ev.type === "dead" && !killed.has(e.ev.node)) count += 1;
    return count;
  }
}
