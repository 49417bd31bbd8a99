// The replicated key space of one node: key → KeyState, kept in step with the bucket hashes that
// anti-entropy compares. Empty keys (no live entries, only causal context) stay as tombstones so a
// missed deletion can still be repaired, but they add nothing to the bucket hashes: two nodes that
// forget a tombstone at slightly different times do not pull it back from each other.
import { emptyKey, hashKey, isEmpty, merge } from "../crdt/index.js";
import type { KeyState } from "../crdt/types.js";
import { BucketIndex, bucketOf, keyHash, type KeyHash } from "./buckets.js";
import { ENVELOPE_OVERHEAD_BYTES, keyedBytes, type KeyedState } from "./wire.js";

/**
 * One key. Its bucket-hash contribution is two int32 fields (small integers: no boxed numbers, no
 * object of their own; ~70 bytes a key less at 30,000 keys), `live` false for a tombstone.
 */
interface KeyRecord {
  readonly state: KeyState;
  readonly stateHash: string;
  readonly bucket: number;
  readonly live: boolean;
  /** keyHash's halves as signed int32 (`| 0`); meaningless when not live. */
  readonly hi: number;
  readonly lo: number;
}

/** A record's contribution to its bucket hash; undefined for a tombstone. */
function contribution(rec: KeyRecord | undefined): KeyHash | undefined {
  return rec?.live ? { hi: rec.hi >>> 0, lo: rec.lo >>> 0 } : undefined;
}

/** What a put did to one key. `changed` is false when the state is equal (as a set) to before. */
export interface Change {
  readonly key: string;
  readonly before: KeyState | undefined;
  readonly after: KeyState;
  readonly changed: boolean;
}

export interface Page {
  readonly keys: KeyedState[];
  readonly more: boolean;
}

export class Keyspace {
  readonly #records = new Map<string, KeyRecord>();
  readonly #buckets = new BucketIndex();
  /** Tombstones: key → when it became empty (ms). */
  readonly #empty = new Map<string, number>();

  /** Keys held, tombstones included. */
  get size(): number {
    return this.#records.size;
  }

  /** Keys with live entries. */
  get liveCount(): number {
    return this.#records.size - this.#empty.size;
  }

  get(key: string): KeyState | undefined {
    return this.#records.get(key)?.state;
  }

  /** Replaces a key's state (a local update already merged, or a cleanup result). */
  put(key: string, next: KeyState, now: number): Change {
    const rec = this.#records.get(key);
    if (knowsNothing(next)) {
      // Nothing live and nothing seen (e.g. all its writers were dropped): no tombstone to keep.
      this.delete(key);
      return { key, before: rec?.state, after: next, changed: rec !== undefined };
    }
    const stateHash = hashKey(next);
    if (rec !== undefined && rec.stateHash === stateHash) return { key, before: rec.state, after: rec.state, changed: false };
    const bucket = rec?.bucket ?? bucketOf(key);
    const hash = isEmpty(next) ? undefined : keyHash(key, stateHash);
    const old = contribution(rec);
    if (old !== undefined) this.#buckets.toggle(bucket, old);
    if (hash !== undefined) this.#buckets.toggle(bucket, hash);
    if (rec === undefined) this.#buckets.addMember(bucket, key);
    this.#records.set(key, { state: next, stateHash, bucket, live: hash !== undefined, hi: (hash?.hi ?? 0) | 0, lo: (hash?.lo ?? 0) | 0 });
    if (hash !== undefined) this.#empty.delete(key);
    else if (rec === undefined || rec.live) this.#empty.set(key, now);
    return { key, before: rec?.state, after: next, changed: true };
  }

  /** Merges a state received from a peer (or a local delta) into the key. */
  mergeIn(key: string, incoming: KeyState, now: number): Change {
    const cur = this.#records.get(key)?.state;
    if (cur === undefined) return this.put(key, merge(emptyKey(), incoming), now);
    const next = merge(cur, incoming);
    // merge returns its first argument when the second adds nothing: no rehash for a duplicate.
    return next === cur ? { key, before: cur, after: cur, changed: false } : this.put(key, next, now);
  }

  /** Forgets a key entirely (tombstone expiry). */
  delete(key: string): void {
    const rec = this.#records.get(key);
    if (rec === undefined) return;
    const old = contribution(rec);
    if (old !== undefined) this.#buckets.toggle(rec.bucket, old);
    this.#buckets.removeMember(rec.bucket, key);
    this.#records.delete(key);
    this.#empty.delete(key);
  }

  /** Forgets tombstones older than `ttlMs`; returns their keys. */
  sweep(now: number, ttlMs: number): string[] {
    const gone: string[] = [];
    for (const [key, since] of this.#empty) if (now - since >= ttlMs) gone.push(key);
    for (const key of gone) this.delete(key);
    return gone;
  }

  /** Live keys starting with `prefix`, in code-unit order. */
  liveKeys(prefix: string): string[] {
    const out: string[] = [];
    for (const [key, rec] of this.#records) if (rec.live && key.startsWith(prefix)) out.push(key);
    return out.sort(compareKeys);
  }

  /** Live key → canonical state hash: what a restarted store compares its rebuilt state with. */
  liveHashes(): Map<string, string> {
    const out = new Map<string, string>();
    for (const [key, rec] of this.#records) if (rec.live) out.set(key, rec.stateHash);
    return out;
  }

  /** Every key with its state, for whole-store passes (owner cleanup). */
  *states(): Generator<readonly [string, KeyState]> {
    for (const [key, rec] of this.#records) yield [key, rec.state];
  }

  digest(): readonly string[] {
    return this.#buckets.digest();
  }

  /**
   * One page of the keys (tombstones included: they carry deletions) of some buckets, in key order
   * after the cursor, at most `maxBytes` estimated — but always at least one key, so a page never stalls.
   */
  page(buckets: readonly number[], after: string | undefined, maxBytes: number): Page {
    const keys: string[] = [];
    for (const b of buckets) for (const k of this.#buckets.members(b)) if (after === undefined || compareKeys(k, after) > 0) keys.push(k);
    keys.sort(compareKeys);
    const out: KeyedState[] = [];
    let bytes = ENVELOPE_OVERHEAD_BYTES;
    for (const key of keys) {
      const state = this.#records.get(key)?.state;
      if (state === undefined) continue;
      const size = keyedBytes(key, state);
      if (out.length > 0 && bytes + size > maxBytes) return { keys: out, more: true };
      out.push({ key, state });
      bytes += size;
    }
    return { keys: out, more: false };
  }
}

function knowsNothing(s: KeyState): boolean {
  return s.entries.length === 0 && s.cc.cloud.length === 0 && Object.keys(s.cc.vv).length === 0;
}

export function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
