// Anti-entropy buckets: every key lives in bucket fnv1a(key) % 64; a bucket's hash is the XOR of its
// live keys' hash(key ‖ hashKey(state)), so one key change updates it in O(1) and two nodes compare
// their whole store with 64 strings. Hashes are FNV-1a over UTF-8 so another implementation can
// compute the same digest.

export const BUCKETS = 64;
/** Hash of a bucket with no live keys (XOR identity). */
export const EMPTY_BUCKET = "0000000000000000";
/** Two bucket hashes as the wire carries them: 16 lower-case hex digits. */
export const BUCKET_HASH_PATTERN = /^[0-9a-f]{16}$/;

/** A 64-bit key hash as two unsigned 32-bit halves (no BigInt on the hot path). */
export interface KeyHash {
  readonly hi: number;
  readonly lo: number;
}

/** Calls `emit` with each UTF-8 byte of `s` (lone surrogates become U+FFFD, as TextEncoder does). */
function eachUtf8Byte(s: string, emit: (byte: number) => void): void {
  for (let i = 0; i < s.length; i++) {
    let c = s.charCodeAt(i);
    if (c < 0x80) {
      emit(c);
      continue;
    }
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
        i++;
      }
    }
    if (c >= 0xd800 && c <= 0xdfff) c = 0xfffd;
    if (c < 0x800) {
      emit(0xc0 | (c >> 6));
    } else if (c < 0x10000) {
      emit(0xe0 | (c >> 12));
      emit(0x80 | ((c >> 6) & 0x3f));
    } else {
      emit(0xf0 | (c >> 18));
      emit(0x80 | ((c >> 12) & 0x3f));
      emit(0x80 | ((c >> 6) & 0x3f));
    }
    emit(0x80 | (c & 0x3f));
  }
}

/** 32-bit FNV-1a of the UTF-8 bytes of `s`. */
export function fnv1a32(s: string): number {
  let h = 0x811c9dc5;
  eachUtf8Byte(s, (b) => {
    h = Math.imul(h ^ b, 0x01000193);
  });
  return h >>> 0;
}

export function bucketOf(key: string): number {
  return fnv1a32(key) % BUCKETS;
}

/**
 * 64-bit FNV-1a of the UTF-8 bytes of `s`, computed in four 16-bit limbs. The prime is 2^40 + 0x1b3,
 * so h·prime = h·0x1b3 + (h << 40): the shift only feeds limbs 0 and 1 into limbs 2 and 3 (by 8 bits).
 */
export function fnv1a64(s: string): KeyHash {
  let v0 = 0x2325, v1 = 0x8422, v2 = 0x9ce4, v3 = 0xcbf2;
  eachUtf8Byte(s, (b) => {
    v0 ^= b;
    const t0 = v0 * 0x1b3;
    let t1 = v1 * 0x1b3;
    let t2 = v2 * 0x1b3 + (v0 << 8);
    const t3 = v3 * 0x1b3 + (v1 << 8);
    t1 += t0 >>> 16;
    v0 = t0 & 0xffff;
    t2 += t1 >>> 16;
    v1 = t1 & 0xffff;
    v3 = (t3 + (t2 >>> 16)) & 0xffff;
    v2 = t2 & 0xffff;
  });
  return { hi: ((v3 << 16) | v2) >>> 0, lo: ((v1 << 16) | v0) >>> 0 };
}

/** The hash a live key contributes to its bucket. */
export function keyHash(key: string, stateHash: string): KeyHash {
  return fnv1a64(`${key}\u0000${stateHash}`);
}

export function hex64(h: KeyHash): string {
  return h.hi.toString(16).padStart(8, "0") + h.lo.toString(16).padStart(8, "0");
}

/** Buckets whose hashes differ, ascending. A malformed peer digest (wrong length) differs everywhere. */
export function diffBuckets(mine: readonly string[], theirs: readonly string[]): number[] {
  const out: number[] = [];
  for (let b = 0; b < BUCKETS; b++) if (mine[b] !== theirs[b]) out.push(b);
  return out;
}

/** XOR-accumulated bucket hashes plus the keys (live or tombstoned) of each bucket, for serving pulls. */
export class BucketIndex {
  readonly #hashes = new Uint32Array(BUCKETS * 2);
  readonly #members: Set<string>[] = Array.from({ length: BUCKETS }, () => new Set<string>());
  /**
   * The digest as last computed, until a bucket changes. Every peer digest heard is compared with
   * ours (16 a second at any cluster size): rebuilding its 64 hex strings each time was 8 % of a
   * store's CPU and much of its garbage in the 500-store bench, where the keys rarely change.
   */
  #digest: readonly string[] | undefined;

  /** XORs a key hash into (or, applied again, out of) its bucket. */
  toggle(bucket: number, h: KeyHash): void {
    this.#hashes[bucket * 2] = (this.#hashes[bucket * 2] ?? 0) ^ h.hi;
    this.#hashes[bucket * 2 + 1] = (this.#hashes[bucket * 2 + 1] ?? 0) ^ h.lo;
    this.#digest = undefined;
  }

  addMember(bucket: number, key: string): void {
    this.#members[bucket]?.add(key);
  }

  removeMember(bucket: number, key: string): void {
    this.#members[bucket]?.delete(key);
  }

  members(bucket: number): ReadonlySet<string> {
    return this.#members[bucket] ?? new Set();
  }

  hash(bucket: number): string {
    return hex64({ hi: this.#hashes[bucket * 2] ?? 0, lo: this.#hashes[bucket * 2 + 1] ?? 0 });
  }

  digest(): readonly string[] {
    this.#digest ??= Object.freeze(Array.from({ length: BUCKETS }, (_, b) => this.hash(b)));
    return this.#digest;
  }
}
