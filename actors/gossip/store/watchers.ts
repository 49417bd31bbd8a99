// Prefix watchers of the store. Subscribers are called synchronously from the store actor, so the
// events of one key reach a subscriber in the order the store applied them. A subscriber that
// throws is logged and kept: a bug in one consumer must not take the store (and every other
// consumer) down with it.
import type { KeyView } from "../crdt/types.js";
import type { WatchEvent } from "./types.js";

export type Subscriber = (ev: WatchEvent) => void;

export interface WatchErrorSink {
  (info: { readonly id: number; readonly prefix: string; readonly key: string; readonly err: unknown }): void;
}

interface Watch {
  readonly prefix: string;
  readonly subscriber: Subscriber;
}

export class Watchers {
  readonly #watches = new Map<number, Watch>();
  #nextId = 1;

  constructor(private readonly onError: WatchErrorSink) {}

  get size(): number {
    return this.#watches.size;
  }

  add(prefix: string, subscriber: Subscriber): number {
    const id = this.#nextId++;
    this.#watches.set(id, { prefix, subscriber });
    return id;
  }

  remove(id: number): boolean {
    return this.#watches.delete(id);
  }

  /** True if some watch covers `key` (so the caller computes views only when someone listens). */
  covers(key: string): boolean {
    for (const w of this.#watches.values()) if (key.startsWith(w.prefix)) return true;
    return false;
  }

  /** Sends one event to every watch covering its key. */
  notify(ev: WatchEvent): void {
    for (const [id, w] of this.#watches) if (ev.key.startsWith(w.prefix)) this.#call(id, w, ev);
  }

  /** Sends one event to a single watch (the initial snapshot of a new watch). */
  notifyOne(id: number, ev: WatchEvent): void {
    const w = this.#watches.get(id);
    if (w !== undefined) this.#call(id, w, ev);
  }

  #call(id: number, w: Watch, ev: WatchEvent): void {
    try {
      w.subscriber(ev);
    } catch (err) {
      this.onError({ id, prefix: w.prefix, key: ev.key, err });
    }
  }
}

/** Deep equality of two read views (plain data: order of object keys does not matter). */
export function sameView(a: KeyView | undefined, b: KeyView | undefined): boolean {
  return deepEqual(a, b);
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  const rb = b as Record<string, unknown>;
  const ra = a as Record<string, unknown>;
  return ka.every((k) => Object.hasOwn(rb, k) && deepEqual(ra[k], rb[k]));
}
