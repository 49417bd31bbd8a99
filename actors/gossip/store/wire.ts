// The store's wire messages (subjects in transport/subjects.ts). Everything a peer sends is checked
// here at the border; identity rules that need the envelope's `from` live in owners.ts.
import { z } from "zod";
import { defineKind } from "../../../transport/index.js";
import { keyStateSchema, parseReplica } from "../crdt/index.js";
import type { KeyState } from "../crdt/types.js";
import { BUCKETS, BUCKET_HASH_PATTERN } from "./buckets.js";

export const MAX_KEY_CHARS = 512;
/** Largest batch or bucket page we send, estimated (estimateBytes); half the 1 MiB NATS max_payload. */
export const MAX_PAYLOAD_BYTES = 512 * 1024;
/** Bounds on array lengths; the byte cap above is the real limit, these stop absurd counts early. */
const MAX_KEYS_PER_MESSAGE = 100_000;

// Printable: no C0/C1 control characters and no DEL (keys show up in logs and CLI output).
// eslint-disable-next-line no-control-regex
const PRINTABLE = /^[^\u0000-\u001f\u007f-\u009f]+$/;

export const keySchema = z.string().min(1).max(MAX_KEY_CHARS).regex(PRINTABLE, "key must be printable");
export const replicaSchema = z
  .string()
  .max(128)
  .refine((r) => parseReplica(r) !== undefined, "not a replica id <node>@<incarnation>");

const keyed = z.strictObject({ key: keySchema, state: keyStateSchema });
export type KeyedState = { readonly key: string; readonly state: KeyState };

export const deltasKind = defineKind(
  "gossip.deltas",
  z.strictObject({ replica: replicaSchema, deltas: z.array(keyed).min(1).max(MAX_KEYS_PER_MESSAGE) }),
);

export const digestKind = defineKind(
  "gossip.digest",
  z.strictObject({
    replica: replicaSchema,
    buckets: z.array(z.string().regex(BUCKET_HASH_PATTERN)).length(BUCKETS),
    keys: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
  }),
);

export const digestRequestKind = defineKind("gossip.digest-request", z.strictObject({ replica: replicaSchema }));

const bucketNumber = z.number().int().min(0).max(BUCKETS - 1);
export const bucketRequestKind = defineKind(
  "gossip.bucket-request",
  z.strictObject({
    buckets: z
      .array(bucketNumber)
      .min(1)
      .max(BUCKETS)
      .refine((b) => new Set(b).size === b.length, "buckets must be distinct"),
    /** Pagination cursor: the last key of the previous page (keys are served in code-unit order). */
    after: keySchema.optional(),
  }),
);

export const bucketReplyKind = defineKind(
  "gossip.bucket-reply",
  z.strictObject({ keys: z.array(keyed).max(MAX_KEYS_PER_MESSAGE), more: z.boolean() }),
);

export type DeltasBody = z.infer<typeof deltasKind.schema>;
export type DigestBody = z.infer<typeof digestKind.schema>;
export type DigestRequestBody = z.infer<typeof digestRequestKind.schema>;
export type BucketRequestBody = z.infer<typeof bucketRequestKind.schema>;
export type BucketReplyBody = z.infer<typeof bucketReplyKind.schema>;

/** Envelope fields and the body's wrapper, over-estimated, so a batch at the cap still fits. */
export const ENVELOPE_OVERHEAD_BYTES = 256;

/**
 * An upper bound of the msgpack size of plain data (what msgpackr emits is never larger): numbers
 * count as float64, headers at their widest. Cheap enough to run on every delta, unlike encoding.
 */
export function estimateBytes(v: unknown): number {
  if (v === null || v === undefined || typeof v === "boolean") return 1;
  if (typeof v === "number") return 9;
  if (typeof v === "string") return 5 + utf8Length(v);
  if (Array.isArray(v)) {
    let n = 5;
    for (const x of v) n += estimateBytes(x);
    return n;
  }
  if (typeof v === "object") {
    let n = 5;
    for (const [k, x] of Object.entries(v)) n += 5 + utf8Length(k) + estimateBytes(x);
    return n;
  }
  return 9;
}

export function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

/** Estimated bytes of one {key, state} item of a batch or page. */
export function keyedBytes(key: string, state: KeyState): number {
  return 12 + 5 + utf8Length(key) + estimateBytes(state);
}
