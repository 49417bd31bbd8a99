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
 * Repair hysteresis: a bucket is pulled from a peer only when it differed in that peer's previous
 * digest too. A difference made by deltas still in flight disappears within milliseconds; pulling
 * it would fetch whole buckets for nothing on every interval of a write burst. A real loss persists,
 * so it is repaired on the second digest after it: within about two anti-entropy intervals.
 */
export class DiffMemory {
  readonly #last = new Map<string, ReadonlySet<number>>();

  /** Buckets differing now and in the peer's previous digest; remembers the current difference. */
  persistent(peer: string, mine: readonly string[], theirs: readonly string[]): number[] {
    const now = diffBuckets(mine, theirs);
    const before = this.#last.get(peer);
    if (now.length === 0) this.#last.delete(peer);
    else this.#last.set(peer, new Set(now));
    return before === undefined ? [] : now.filter((b) => before.has(b));
  }

  forget(peer: string): void {
    this.#last.delete(peer);
  }

  get peers(): number {
    return this.#last.size;
  }
}

/** Where the initial sync stands. Local writes are held until `synced`. */
export type SyncPhase =
  | { readonly kind: "waiting"; readonly since: number }
  | { readonly kind: "pulling"; readonly since: number; readonly peer: string; readonly jobs: Set<number> }
  | { readonly kind: "synced"; readonly since: number; readonly at: number; readonly complete: boolean };
