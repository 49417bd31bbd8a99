// Canonical hash of a key state, for anti-entropy digests. The store rehashes a key on every
// change, so this streams the canonical form through a small 64-bit hash (two 32-bit
// multiply-rotate lanes, MurmurHash3's finaliser) instead of building JSON; it allocates only the
// sorted keys of objects in values, and the result.
// Not cryptographic, and need not be: it detects divergence between cooperating nodes (a collision
// only delays a repair until the key changes again), and any node could write garbage anyway.
// Measured: a 10-field key hashes in ~1.7 µs; node:crypto SHA-1 over the same parts takes ~5 µs
// streamed (~2.4 µs over one pre-joined string, before the cost of building it).
import { canonical } from "./kernel.js";
import type { Dot, Entry, KeyState } from "./types.js";
import { kindOf, presentKeys } from "./value.js";

// Scratch view for reading a double's bits; used synchronously only, so sharing it is safe.
const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);

// Type tags keep different shapes apart in the stream (e.g. "1" vs 1, [] vs {}).
const Tag = { Null: 1, False: 2, True: 3, Num: 4, Str: 5, Arr: 6, Obj: 7, Lww: 8, Set: 9, Vv: 10, Cloud: 11 } as const;

class Hasher {
  private h1 = 0x9747b28c;
  private h2 = 0x2f2d6b1d;

  // Per 32-bit word and lane: combine, multiply by an odd constant, rotate (the rotation brings the
  // well-mixed high bits down). The lanes combine differently (xor / add) so that they fail apart;
  // digest() avalanches both. About 3x cheaper than full MurmurHash3 rounds, measured.
  word(w: number): void {
    const a = Math.imul(this.h1 ^ w, 0x9e3779b1);
    this.h1 = (a << 15) | (a >>> 17);
    const b = Math.imul((this.h2 + w) | 0, 0x85ebca77);
    this.h2 = (b << 13) | (b >>> 19);
  }

  /** Length first, so that concatenations cannot collide ("ab","c" vs "a","bc"). Two chars a word. */
  str(s: string): void {
    const n = s.length;
    this.word(n);
    let h1 = this.h1;
    let h2 = this.h2;
    let i = 0;
    for (; i + 1 < n; i += 2) {
      const w = s.charCodeAt(i) | (s.charCodeAt(i + 1) << 16);
      const a = Math.imul(h1 ^ w, 0x9e3779b1);
      h1 = (a << 15) | (a >>> 17);
      const b = Math.imul((h2 + w) | 0, 0x85ebca77);
      h2 = (b << 13) | (b >>> 19);
    }
    this.h1 = h1;
    this.h2 = h2;
    if (i < n) this.word(s.charCodeAt(i));
  }

  /** A double by its bits; -0 is 0 (canonical JSON writes both as 0). */
  num(x: number): void {
    f64[0] = x === 0 ? 0 : x;
    this.word(u32[0] as number);
    this.word(u32[1] as number);
  }

  digest(): string {
    const a = fmix(this.h1 ^ Math.imul(this.h2, 0x27d4eb2d));
    const b = fmix(this.h2 ^ Math.imul(a, 0x165667b1));
    return hex8(a) + hex8(b);
  }
}

function fmix(h0: number): number {
  let h = h0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

function hex8(x: number): string {
  return x.toString(16).padStart(8, "0");
}

/** Same stream for values with equal canonical JSON (see value.ts). */
function hashValue(h: Hasher, v: unknown): void {
  switch (kindOf(v)) {
    case "null":
      return h.word(Tag.Null);
    case "bool":
      return h.word(v === true ? Tag.True : Tag.False);
    case "num":
      h.word(Tag.Num);
      return h.num(v as number);
    case "str":
      h.word(Tag.Str);
      return h.str(v as string);
    case "arr": {
      const a = v as readonly unknown[];
      h.word(Tag.Arr);
      h.word(a.length);
      for (const x of a) hashValue(h, x);
      return;
    }
    case "obj": {
      const o = v as Readonly<Record<string, unknown>>;
      const keys = presentKeys(o);
      h.word(Tag.Obj);
      h.word(keys.length);
      for (const k of keys) {
        h.str(k);
        hashValue(h, o[k]);
      }
      return;
    }
  }
}

function hashDot(h: Hasher, d: Dot): void {
  h.str(d.r);
  h.num(d.n);
}

function hashEntry(h: Hasher, e: Entry): void {
  h.str(e.f);
  if (e.k === "lww") {
    h.word(Tag.Lww);
    hashValue(h, e.v);
    h.num(e.ts.t);
    h.num(e.ts.c);
    h.str(e.ts.r);
  } else {
    h.word(Tag.Set);
    hashValue(h, e.e);
  }
}

/** 16 hex digits. Equal for equal states (equalStates), whatever the order of entries, cloud or vv keys. */
export function hashKey(s0: KeyState): string {
  const s = canonical(s0);
  const h = new Hasher();
  h.word(s.entries.length);
  for (const [dot, e] of s.entries) {
    hashDot(h, dot);
    hashEntry(h, e);
  }
  const replicas = Object.keys(s.cc.vv).sort();
  h.word(Tag.Vv);
  h.word(replicas.length);
  for (const r of replicas) hashDot(h, { r, n: s.cc.vv[r] as number });
  h.word(Tag.Cloud);
  h.word(s.cc.cloud.length);
  for (const d of s.cc.cloud) hashDot(h, d);
  return h.digest();
}
