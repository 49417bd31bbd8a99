// Digests of a SWIM member table, so the periodic push-pull swaps only what differs. A full list at
// 1,000 members is ~40 KB to encode, validate and merge on both sides; every member swapping one
// every sync period is a million entries per period cluster-wide, most of them already agreed. A
// digest is DIGEST_BUCKETS 32-bit XORs of per-member hashes (members bucketed by their id); the
// receiver answers with its entries of the buckets that differ and asks for the sender's, so a
// converged cluster swaps ~600 bytes per pair, a cold start or a healed partition what it lacks.
import { fnv1a32 } from "../store/buckets.js";
import type { SwimStatus } from "./swim.js";

export const DIGEST_BUCKETS = 128;

const STATUS_CODE: Record<SwimStatus, number> = { alive: 1, suspect: 2, dead: 3 };

/** The id's own hash: computed once per member, it also picks the bucket. */
export function idHash(node: string): number {
  return fnv1a32(node);
}

export function bucketOfId(hash: number): number {
  return hash % DIGEST_BUCKETS;
}

/** A member's (life, ver, status) under its id hash. Mixed to the end (murmur3's fmix32) because bucket values are XORs: similar inputs must not cancel. */
export function memberHash(id: number, life: number, ver: number, status: SwimStatus): number {
  let h = id;
  h = Math.imul(h ^ (life >>> 0), 0x01000193);
  h = Math.imul(h ^ Math.floor(life / 4294967296), 0x01000193);
  h = Math.imul(h ^ ver, 0x01000193);
  h = Math.imul(h ^ STATUS_CODE[status], 0x01000193);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Buckets whose values differ (a digest of another length differs everywhere). */
export function differingBuckets(mine: readonly number[], theirs: readonly number[]): number[] {
  const out: number[] = [];
  for (let b = 0; b < DIGEST_BUCKETS; b++) if (theirs.length !== DIGEST_BUCKETS || mine[b] !== theirs[b]) out.push(b);
  return out;
}
