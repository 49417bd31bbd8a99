// Canonical hash of a key state, for anti-entropy digests. The store rehashes a key on every change,
// so this streams the canonical form through a small 64-bit hash (two 32-bit MurmurHash3-style
// lanes) instead of building JSON: no allocation besides sorted object keys and the result.
// Not cryptographic, and need not be: it detects divergence between cooperating nodes (a collision
// only delays a repair until the key changes again); any node could write garbage anyway.
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

  word(w: number): void {
    let k = Math.imul(w, 0xcc9e2d51);
    k = Math.imul((k << 15) | (k >>> 17), 0x1b873593);
    this.h1 ^= k;
    this.h1 = Math.imul((this.h1 << 13) | (this.h1 >>> 19), 5) + 0xe6546b64;
    let m = Math.imul(w ^ 0x5bd1e995, 0x85ebca6b);
    m = Math.imul((m << 13) | (m >>> 19), 0xc2b2ae35);
    this.h2 ^= m;
    this.h2 = Math.imul((this.h2 << 17) | (this.h2 >>> 15), 9) + 0x38b34ae5;
  }

  /** Length first, so that concatenations cannot collide ("ab","c" vs "a","bc"). */
  str(s: string): void {
    const n = s.length;
    this.word(n);
    let i = 0;
    for (; i + 1 < n; i += 2) this.word(s.charCodeAt(i) | (s.charCodeAt(i + 1) << 16));
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
