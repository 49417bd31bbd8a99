// Bookkeeping of bucket pulls (anti-entropy repair and the initial sync): which buckets to ask
// which peer for, how many requests are in flight, when the sync is done. No I/O: the actor runs
// the requests (net.ts) and feeds the outcomes back here.
import { diffBuckets } from "./buckets.js";

export type PullPurpose = "sync" | "repair";

export interface PullJob {
  readonly id: number;
  readonly peer: string;
  readonly buckets: readonly number[];
  readonly purpose: PullPurpose;
  /** Cursor: last key of the previous page. */
  after: string | undefined;
  pages: number;
}

export class Pulls {
  readonly #jobs = new Map<number, PullJob>();
  #nextId = 1;

  constructor(private readonly limit: number) {}

  get inFlight(): number {
    return this.#jobs.size;
  }

  get(id: number): PullJob | undefined {
    return this.#jobs.get(id);
  }

  finish(id: number): PullJob | undefined {
    const job = this.#jobs.get(id);
    this.#jobs.delete(id);
    return job;
  }

  /**
   * Jobs for `buckets` from `peer`, skipping buckets already being pulled, spread over the free
   * slots (a slot is one request in flight). A sync may take every slot; with none free, nothing.
   */
  plan(peer: string, buckets: readonly number[], purpose: PullPurpose): PullJob[] {
    const busy = new Set<number>();
    for (const j of this.#jobs.values()) for (const b of j.buckets) busy.add(b);
    const todo = buckets.filter((b) => !busy.has(b));
    const slots = Math.min(this.limit - this.#jobs.size, todo.length);
    if (slots <= 0) return [];
    const per = Math.ceil(todo.length / slots);
    const jobs: PullJob[] = [];
    for (let i = 0; i < todo.length; i += per) {
      const job: PullJob = { id: this.#nextId++, peer, buckets: todo.slice(i, i + per), purpose, after: undefined, pages: 0 };
      this.#jobs.set(job.id, job);
      jobs.push(job);
    }
    return jobs;
  }
}

/**
 * Repair hysteresis: a bucket is pulled from a peer only when the difference has lasted. A difference
 * made by deltas still in flight disappears within milliseconds; pulling it would fetch whole buckets
 * for nothing on every interval of a write burst. A real loss persists. It has lasted when it differed
 * in that peer's previous digest too (small clusters: every peer's digest comes every interval), or
 * when some digest (from any peer) showed the bucket different at least `settleMs` ago and no digest
 * has shown it equal since (large clusters: a given peer's digest comes only every n/fan-in
 * intervals, so waiting for its next one would delay every repair by that much).
 */
export class DiffMemory {
  readonly #last = new Map<string, ReadonlySet<number>>();
  /** bucket → when a digest first showed it different (cleared when one shows it equal, or on a pull). */
  readonly #since = new Map<number, number>();

  constructor(private readonly settleMs = Number.POSITIVE_INFINITY) {}

  /** Buckets whose difference has lasted (see above); remembers the current difference. */
  persistent(peer: string, mine: readonly string[], theirs: readonly string[], now = Date.now()): number[] {
    const diff = diffBuckets(mine, theirs);
    const before = this.#last.get(peer);
    if (diff.length === 0) this.#last.delete(peer);
    else this.#last.set(peer, new Set(diff));
    const differs = new Set(diff);
    for (const b of this.#since.keys()) if (!differs.has(b)) this.#since.delete(b);
    const out: number[] = [];
    for (const b of diff) {
      const since = this.#since.get(b);
      if (since === undefined) this.#since.set(b, now);
      if (before?.has(b) === true || (since !== undefined && now - since >= this.settleMs)) {
        out.push(b);
        // Pulled now: a difference after the pull must last again before the next one.
        this.#since.delete(b);
      }
    }
    return out;
  }

  forget(peer: string): void {
    this.#last.delete(peer);
  }

  get peers(): number {
    return this.#last.size;
  }
}

/**
 * Whether this node publishes its digest this interval: with `live` members (this one included),
 * each publishes with probability fanIn/live, so every node hears about `fanIn` digests per interval
 * whatever the cluster size: anti-entropy costs O(n) deliveries per interval, not n² (1,000 nodes
 * broadcasting every second would be a million digests a second). Up to `fanIn` members all publish
 * every interval, as before.
 */
export function digestTurn(live: number, fanIn: number, random: () => number = Math.random): boolean {
  return live <= fanIn || random() < fanIn / live;
}

/** Where the initial sync stands. Local writes are held until `synced`. */
export type SyncPhase =
  | { readonly kind: "waiting"; readonly since: number }
  | { readonly kind: "pulling"; readonly since: number; readonly peer: string; readonly jobs: Set<number> }
  | { readonly kind: "synced"; readonly since: number; readonly at: number; readonly complete: boolean };
