// The piggyback queue of SWIM: updates waiting to ride on probe messages, each sent a bounded
// number of times, least-sent first and, among equally sent ones, newest first (memberlist's
// TransmitLimitedQueue order). Taking k of them must not walk the queue: in a cold start or a storm
// it holds an entry per member (and one per accuser of each suspect), and every ping, ack and
// ping-req takes from it. So entries sit in buckets by times sent, each bucket ordered by age:
// a take reads from the ends of the lowest buckets, O(k log bucket). Replaced and deleted entries are
// left where they are, skipped when met, and swept out when they outnumber the live ones.

interface Entry<T> {
  readonly key: string;
  readonly value: T;
  sent: number;
  /** Enqueue order: larger is newer. */
  readonly order: number;
  live: boolean;
}

export class TransmitQueue<T> {
  readonly #byKey = new Map<string, Entry<T>>();
  /** buckets[s]: entries sent s times, ascending by order (the newest at the end). */
  #buckets: Entry<T>[][] = [[]];
  #order = 0;
  /** Entries no longer live still sitting in a bucket. */
  #stale = 0;

  get size(): number {
    return this.#byKey.size;
  }

  /** Queues `value` under `key`, replacing (and resetting the count of) an earlier one. */
  set(key: string, value: T): void {
    this.#drop(this.#byKey.get(key));
    const e: Entry<T> = { key, value, sent: 0, order: ++this.#order, live: true };
    this.#byKey.set(key, e);
    (this.#buckets[0] as Entry<T>[]).push(e);
  }

  delete(key: string): void {
    const e = this.#byKey.get(key);
    if (e === undefined) return;
    this.#byKey.delete(key);
    this.#drop(e);
  }

  /** Deletes every entry whose value matches (rare: a walk is fine). */
  deleteWhere(match: (value: T) => boolean): void {
    for (const [key, e] of this.#byKey) {
      if (!match(e.value)) continue;
      this.#byKey.delete(key);
      this.#drop(e);
    }
  }

  /** Up to `k` values, least-sent and newest first; each counts one send and leaves after `limit`. */
  take(k: number, limit: number): T[] {
    if (this.#byKey.size === 0 || k <= 0) return [];
    const picked: Entry<T>[] = [];
    for (let s = 0; s < this.#buckets.length && picked.length < k; s++) {
      const b = this.#buckets[s] as Entry<T>[];
      let i = b.length - 1;
      for (; i >= 0 && picked.length < k; i--) {
        const e = b[i] as Entry<T>;
        if (e.live) picked.push(e);
        else this.#stale -= 1;
      }
      b.length = i + 1;
    }
    const out: T[] = [];
    for (const e of picked) {
      out.push(e.value);
      e.sent += 1;
      if (e.sent >= limit) {
        e.live = false;
        this.#byKey.delete(e.key);
        continue;
      }
      while (this.#buckets.length <= e.sent) this.#buckets.push([]);
      insertByOrder(this.#buckets[e.sent] as Entry<T>[], e);
    }
    return out;
  }

  #drop(e: Entry<T> | undefined): void {
    if (e === undefined || !e.live) return;
    e.live = false;
    this.#stale += 1;
    if (this.#stale > 64 && this.#stale > 2 * this.#byKey.size) {
      this.#buckets = this.#buckets.map((b) => b.filter((x) => x.live));
      this.#stale = 0;
    }
  }
}

function insertByOrder<T>(b: Entry<T>[], e: Entry<T>): void {
  let lo = 0;
  let hi = b.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((b[mid] as Entry<T>).order < e.order) lo = mid + 1;
    else hi = mid;
  }
  if (lo === b.length) b.push(e);
  else b.splice(lo, 0, e);
}
