// The hot path for answers from our own zones. A reply depends only on the query bytes after the
// id (flags, question as sent, OPT), the transport and the ZoneSet, so those bytes are the key and
// a hit is one Map lookup plus a small copy: no parse, no dns-packet, no encode. A key can only
// match bytes that once parsed as a valid query, so a hit never skips validation it needed.
import type { Rotation } from "./rotate.js";
import type { DnsTransport } from "./types.js";

interface CacheMeta {
  /** Question type, rcode and zone, for metrics on hits. */
  readonly type: string;
  readonly rcode: string;
  readonly zone: string;
}

interface CacheHit extends CacheMeta {
  /** A fresh buffer (safe to hand to an async send) with the query's id in bytes 0–1. */
  readonly reply: Buffer;
}

interface ResponseCacheOptions {
  /** Default 20,000 entries. */
  readonly maxEntries?: number;
  /** Bytes of stored replies (all variants), default 32 MiB. */
  readonly maxBytes?: number;
  /** How a hit picks among stored variants; match the answer rotation. Default round_robin. */
  readonly rotation?: Rotation;
  readonly random?: () => number;
}

interface Entry {
  readonly variants: readonly Buffer[];
  readonly meta: CacheMeta;
  readonly bytes: number;
}

// Real queries are well under this (header + 255-byte name + 4 + a small OPT); bigger ones carry
// padding or cookies that make every key unique, so caching them only evicts useful entries.
const MAX_KEY_BYTES = 512;

export class ResponseCache {
  // One map per transport so the key is the raw byte string itself (no concatenation on a hit);
  // insertion order is age, so the first key of either map is that map's oldest entry.
  readonly #udp = new Map<string, Entry>();
  readonly #tcp = new Map<string, Entry>();
  readonly #maxEntries: number;
  readonly #maxBytes: number;
  readonly #rotation: Rotation;
  readonly #random: () => number;
  #generation = NaN;
  #bytes = 0;
  #hits = 0;
  #misses = 0;

  constructor(opts: ResponseCacheOptions = {}) {
    this.#maxEntries = opts.maxEntries ?? 20_000;
    this.#maxBytes = opts.maxBytes ?? 32 * 1024 * 1024;
    this.#rotation = opts.rotation ?? "round_robin";
    this.#random = opts.random ?? Math.random;
  }

  #map(transport: DnsTransport): Map<string, Entry> {
    return transport === "udp" ? this.#udp : this.#tcp;
  }

  /**
   * Clears everything when `generation` differs from the one the entries were made from. Any
   * difference, not only an increase: a restarted zone source may count from 1 again, and an entry
   * is only ever served under the exact generation it was stored with.
   */
  #sync(generation: number): void {
    if (generation === this.#generation) return;
    this.clear();
    this.#generation = generation;
  }

  get(buf: Buffer, generation: number, transport: DnsTransport): CacheHit | undefined {
    this.#sync(generation);
    if (buf.length < 12 || buf.length > MAX_KEY_BYTES) return undefined;
    // latin1 maps each byte to one UTF-16 unit, so distinct byte strings give distinct keys.
    const entry = this.#map(transport).get(buf.toString("latin1", 2));
    if (!entry) {
      this.#misses++;
      return undefined;
    }
    this.#hits++;
    const n = entry.variants.length;
    const pick = n === 1 ? 0 : this.#rotation === "random" ? Math.floor(this.#random() * n) : buf.readUInt16BE(0) % n;
    const stored = entry.variants[pick] ?? entry.variants[0];
    if (!stored) return undefined;
    const reply = Buffer.allocUnsafe(stored.length);
    stored.copy(reply);
    reply[0] = buf[0] ?? 0;
    reply[1] = buf[1] ?? 0;
    // Built field by field: an object spread here costs more than the rest of the hit together.
    const { type, rcode, zone } = entry.meta;
    return { reply, type, rcode, zone };
  }

  /**
   * Stores the reply to `buf`. With round_robin, `reply` may be the variants from renderVariants
   * (variant i is served to ids ≡ i mod n); one buffer means every hit gets the same order.
   */
  put(buf: Buffer, generation: number, transport: DnsTransport, reply: Buffer | readonly Buffer[], meta: CacheMeta): void {
    this.#sync(generation);
    if (this.#maxEntries === 0 || buf.length < 12 || buf.length > MAX_KEY_BYTES) return;
    const variants = (Buffer.isBuffer(reply) ? [reply] : reply).map((b) => Buffer.from(b));
    if (variants.length === 0) return;
    const key = buf.toString("latin1", 2);
    const bytes = variants.reduce((sum, b) => sum + b.length, key.length * 2);
    if (bytes > this.#maxBytes) return;
    const map = this.#map(transport);
    this.#delete(map, key);
    while (this.size >= this.#maxEntries || this.#bytes + bytes > this.#maxBytes) {
      // Evict from the bigger map: FIFO per transport, and UDP dominates real traffic anyway.
      const from = this.#udp.size >= this.#tcp.size ? this.#udp : this.#tcp;
      const oldest = from.keys().next();
      if (oldest.done) break;
      this.#delete(from, oldest.value);
    }
    map.set(key, { variants, meta, bytes });
    this.#bytes += bytes;
  }

  #delete(map: Map<string, Entry>, key: string): void {
    const e = map.get(key);
    if (!e) return;
    map.delete(key);
    this.#bytes -= e.bytes;
  }

  clear(): void {
    this.#udp.clear();
    this.#tcp.clear();
    this.#bytes = 0;
  }

  get size(): number {
    return this.#udp.size + this.#tcp.size;
  }

  stats(): { entries: number; bytes: number; hits: number; misses: number; generation: number } {
    return { entries: this.size, bytes: this.#bytes, hits: this.#hits, misses: this.#misses, generation: this.#generation };
  }
}
