// Ownership: every entry belongs to the node in its dot's replica (`<node>@<incarnation>`). This
// module decides which replicas are gone for good and when to drop them, and checks that a peer
// only ships entries it owns. Incarnations only grow (process start time), so "X's incarnations
// below n are dead" is one number per node: the dead set.
import { dropReplicas, parseReplica } from "../crdt/index.js";
import type { KeyState, ReplicaId } from "../crdt/types.js";
import type { Member, MemberEvent } from "../membership/types.js";

export interface ParsedReplica {
  readonly node: string;
  readonly incarnation: number;
}

// Replica ids are few (writers × restarts) and parsed on every merge: parse each once.
const PARSED_CACHE_MAX = 10_000;
const parsed = new Map<ReplicaId, ParsedReplica | null>();

export function parseCached(r: ReplicaId): ParsedReplica | undefined {
  let p = parsed.get(r);
  if (p === undefined) {
    p = parseReplica(r) ?? null;
    if (parsed.size >= PARSED_CACHE_MAX) parsed.clear();
    parsed.set(r, p);
  }
  return p ?? undefined;
}

/** True when the state has an entry or causal-context knowledge of a replica matching `pred`. */
export function mentions(s: KeyState, pred: (r: ReplicaId) => boolean): boolean {
  for (const [dot] of s.entries) if (pred(dot.r)) return true;
  for (const r of Object.keys(s.cc.vv)) if (pred(r)) return true;
  for (const dot of s.cc.cloud) if (pred(dot.r)) return true;
  return false;
}

/**
 * Identity rule for deltas: a batch sent by node `from` may only carry entries whose dot belongs to
 * one of `from`'s replicas (removals of other nodes' entries travel as causal context, which is
 * fine). Returns the first foreign replica, or undefined when the state is `from`'s own.
 */
export function foreignReplica(from: string, s: KeyState): ReplicaId | undefined {
  for (const [dot] of s.entries) if (parseCached(dot.r)?.node !== from) return dot.r;
  return undefined;
}

/** A planned removal: every replica of `node` with an incarnation below `below`. */
export interface Drop {
  readonly node: string;
  readonly below: number;
}

interface Planned extends Drop {
  readonly dueAt: number;
  /** Set for a `dead` event: cancelled if the node turns out alive with this same incarnation. */
  readonly deadIncarnation?: number;
  /** Taken out of its node's list (cancelled or superseded): skipped when the queue reaches it. */
  gone?: boolean;
}

export function dropPredicate(drops: readonly Drop[]): (r: ReplicaId) => boolean {
  return (r) => {
    const p = parseCached(r);
    return p !== undefined && drops.some((d) => d.node === p.node && p.incarnation < d.below);
  };
}

/**
 * The dead set plus the removals waiting out `deadGraceMs`. Whenever a node's current incarnation
 * is known (join, alive, rejoin, the initial member list, this node itself), its older incarnations
 * are dead processes: their entries are dropped after the grace, which gives the new incarnation
 * time to re-assert what is still true. A `dead` node's own incarnation is dropped after the grace
 * unless it is heard alive again with the same incarnation.
 */
export class Ownership {
  readonly #dead = new Map<string, number>();
  /**
   * By node: every member event touches only its node's plans. (One flat list made each event a
   * scan of every node's plans: at 1,000 nodes a start-up's 1,000 joins cost a million steps per
   * store, which the profile of 1,000 stores in 4 processes put at 4 % of the CPU.)
   */
  readonly #planned = new Map<string, Planned[]>();
  /**
   * Every plan in order of dueAt, so a call of due() costs the plans that fell due, not a walk of
   * all of them (a start-up's thousand joins plan a thousand removals; owners' timers ask every
   * 250 ms, in each of a thousand stores in bench/propagation). Plans come with dueAt = now + grace,
   * so each is appended at the end, save when the clock steps back.
   */
  #queue: Planned[] = [];
  #head = 0;

  constructor(private readonly graceMs: number) {}

  /** node → incarnations below this are dead. */
  get dead(): ReadonlyMap<string, number> {
    return this.#dead;
  }

  get planned(): readonly Drop[] {
    return [...this.#planned.values()].flat();
  }

  isDead(r: ReplicaId): boolean {
    if (this.#dead.size === 0) return false;
    const p = parseCached(r);
    if (p === undefined) return false;
    const below = this.#dead.get(p.node);
    return below !== undefined && p.incarnation < below;
  }

  /** Removes dead replicas' entries and knowledge from a state received from a peer. */
  filter(s: KeyState): KeyState {
    if (this.#dead.size === 0) return s;
    const dead = (r: ReplicaId): boolean => this.isDead(r);
    return mentions(s, dead) ? dropReplicas(s, dead) : s;
  }

  /** This node starts as incarnation `incarnation`: its older incarnations are dead. */
  self(node: string, incarnation: number, now: number): void {
    this.#plan({ node, below: incarnation, dueAt: this.#dueAt(now) });
  }

  members(list: readonly Member[], now: number): void {
    for (const m of list) {
      if (m.self) continue;
      if (m.state === "dead") this.event({ type: "dead", node: m.node, incarnation: m.incarnation }, now);
      else this.#plan({ node: m.node, below: m.incarnation, dueAt: this.#dueAt(now) });
    }
  }

  event(ev: MemberEvent, now: number): void {
    const dueAt = this.#dueAt(now);
    switch (ev.type) {
      case "dead":
        return this.#plan({ node: ev.node, below: ev.incarnation + 1, dueAt, deadIncarnation: ev.incarnation });
      case "alive":
      case "join": {
        // Back with the same incarnation before the grace ran out: nothing of it is dropped.
        const list = this.#planned.get(ev.node);
        if (list?.some((p) => p.deadIncarnation === ev.incarnation)) {
          for (const p of list) if (p.deadIncarnation === ev.incarnation) p.gone = true;
          this.#set(ev.node, list.filter((p) => p.deadIncarnation !== ev.incarnation));
        }
        // Back after the grace (a partition longer than deadGraceMs, not a restart): this
        // incarnation is alive after all. Stop filtering it; anti-entropy then restores its
        // entries here (and ours there), since no causal context covers them any more.
        if (this.#dead.get(ev.node) === ev.incarnation + 1) this.#dead.set(ev.node, ev.incarnation);
        return this.#plan({ node: ev.node, below: ev.incarnation, dueAt });
      }
      case "rejoin":
        return this.#plan({ node: ev.node, below: ev.incarnation, dueAt });
      case "suspect":
      case "unknown":
        return;
    }
  }

  /** Earliest time a planned removal falls due, if any. */
  nextDueAt(): number | undefined {
    this.#skipGone();
    return this.#queue[this.#head]?.dueAt;
  }

  /** Removals due at `now`; they enter the dead set (so late messages from them are filtered). */
  due(now: number): Drop[] {
    const drops: Drop[] = [];
    for (this.#skipGone(); this.#head < this.#queue.length; this.#skipGone()) {
      const p = this.#queue[this.#head] as Planned;
      if (p.dueAt > now) break;
      this.#head += 1;
      const list = this.#planned.get(p.node) ?? [];
      this.#set(p.node, list.filter((q) => q !== p));
      if (p.below <= (this.#dead.get(p.node) ?? -Infinity)) continue;
      this.#dead.set(p.node, p.below);
      drops.push({ node: p.node, below: p.below });
    }
    // Drop the consumed front now and then, not on every call.
    if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
      this.#queue = this.#queue.slice(this.#head);
      this.#head = 0;
    }
    return drops;
  }

  #skipGone(): void {
    while (this.#head < this.#queue.length && (this.#queue[this.#head] as Planned).gone === true) this.#head += 1;
  }

  #dueAt(now: number): number {
    return now + this.graceMs;
  }

  #set(node: string, list: Planned[]): void {
    if (list.length === 0) this.#planned.delete(node);
    else this.#planned.set(node, list);
  }

  #plan(p: Planned): void {
    // Already covered by the dead set or by a removal planned no later: nothing new to do.
    if (p.below <= (this.#dead.get(p.node) ?? -Infinity)) return;
    const list = this.#planned.get(p.node) ?? [];
    if (list.some((q) => q.below >= p.below && q.dueAt <= p.dueAt && q.deadIncarnation === undefined)) return;
    list.push(p);
    this.#planned.set(p.node, list);
    let i = this.#queue.length;
    while (i > this.#head && (this.#queue[i - 1] as Planned).dueAt > p.dueAt) i -= 1;
    this.#queue.splice(i, 0, p);
  }
}
