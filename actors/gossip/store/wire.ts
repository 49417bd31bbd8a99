// The store's wire messages (subjects in transport/subjects.ts). Everything a peer sends is checked
// here at the border; identity rules that need the envelope's `from` live in owners.ts.
import { z } from "zod";
import { defineKind } from "../../../transport/index.js";
import type { TraceCarrier } from "../../../transport/trace-headers.js";
import { keyStateSchema, parseReplica } from "../crdt/index.js";
import type { KeyState } from "../crdt/types.js";
import { BUCKETS, BUCKET_HASH_PATTERN } from "./buckets.js";

const MAX_KEY_CHARS = 512;
/** Largest batch or bucket page we send, estimated (estimateBytes); half the 1 MiB NATS max_payload. */
export const MAX_PAYLOAD_BYTES = 512 * 1024;
/** Bounds on array lengths; the byte cap above is the real limit, these stop absurd counts early. */
const MAX_KEYS_PER_MESSAGE = 100_000;

// Printable: no C0/C1 control characters and no DEL (keys show up in logs and CLI output).
// eslint-disable-next-line no-control-regex
const PRINTABLE = /^[^\u0000-\u001f\u007f-\u009f]+$/;

export const keySchema = z.string().min(1).max(MAX_KEY_CHARS).regex(PRINTABLE, "key must be printable");
const replicaSchema = z
  .string()
  .max(128)
  .refine((r) => parseReplica(r) !== undefined, "not a replica id <node>@<incarnation>");

const keyed = z.strictObject({ key: keySchema, state: keyStateSchema });
export type KeyedState = { readonly key: string; readonly state: KeyState };

/** W3C traceparent as OTel writes it (version 00: 55 characters); version ff and all-zero ids are invalid. */
const TRACEPARENT = /^(?!ff)[0-9a-f]{2}-(?!0{32})[0-9a-f]{32}-(?!0{16})[0-9a-f]{16}-[0-9a-f]{2}$/;
/** W3C's bound on the tracestate a vendor must propagate, and the most OTel ever serializes. */
export const MAX_TRACESTATE_CHARS = 512;
// tracestate is printable ASCII (W3C); anything else in it is a broken or hostile peer.
const TRACESTATE = /^[\x20-\x7e]+$/;

const traceCarrierSchema = z.strictObject({
  traceparent: z.string().length(55).regex(TRACEPARENT),
  tracestate: z.string().max(MAX_TRACESTATE_CHARS).regex(TRACESTATE).optional(),
});

/**
 * A delta on the wire: the key, its delta state, and the trace context of the write that made it when that
 * write was traced (absent otherwise: untraced writes cost nothing extra). Per key, not per batch: one batch
 * carries the writes of many writers.
 */
const keyedDelta = z.strictObject({ key: keySchema, state: keyStateSchema, trace: traceCarrierSchema.optional() });
export type KeyedDelta = KeyedState & { readonly trace?: TraceCarrier };

export const deltasKind = defineKind(
  "gossip.deltas",
  z.strictObject({ replica: replicaSchema, deltas: z.array(keyedDelta).min(1).max(MAX_KEYS_PER_MESSAGE) }),
  // The batch only carries changes; each traced one gets its own publish and arrival spans in its
  // writer's trace (writes.ts, repair.ts), so the batch's own spans are background.
  { background: true },
);

/**
 * A writer's carrier as peers will accept it (traceCarrierSchema), or undefined. Checked when the write is
 * applied, not at the border: a carrier peers refuse would take its whole batch down with it. Tracing is best
 * effort, so a bad tracestate is dropped and a bad traceparent drops the carrier; the write goes on regardless.
 */
export function checkedTrace(c: TraceCarrier | undefined): TraceCarrier | undefined {
  if (c === undefined) return undefined;
  const parent: unknown = c.traceparent;
  if (typeof parent !== "string" || !TRACEPARENT.test(parent)) return undefined;
  const state: unknown = c.tracestate;
  const stateOk = typeof state === "string" && state.length <= MAX_TRACESTATE_CHARS && TRACESTATE.test(state);
  // The common case (what injectCarrier returns) is kept as is: no copy per write.
  if (Object.keys(c).length === (state === undefined ? 1 : 2) && (state === undefined || stateOk)) return c;
  return stateOk ? { traceparent: parent, tracestate: state } : { traceparent: parent };
}

export const digestKind = defineKind(
  "gossip.digest",
  z.strictObject({
    replica: replicaSchema,
    // One check over the 64 hashes instead of a string schema with a regex per element: this runs
    // for every digest heard (16 a second per node), and was half of a digest's validation time.
    buckets: z
      .array(z.string())
      .length(BUCKETS)
      .refine((hs) => hs.every((h) => BUCKET_HASH_PATTERN.test(h)), `every bucket hash is ${BUCKET_HASH_PATTERN.source}`),
    keys: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
  }),
  { background: true },
);

export const digestRequestKind = defineKind("gossip.digest-request", z.strictObject({ replica: replicaSchema }), { background: true });

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
  { background: true },
);

export const bucketReplyKind = defineKind(
  "gossip.bucket-reply",
  z.strictObject({ keys: z.array(keyed).max(MAX_KEYS_PER_MESSAGE), more: z.boolean() }),
);

export type DeltasBody = z.infer<typeof deltasKind.schema>;
export type DigestBody = z.infer<typeof digestKind.schema>;
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

function utf8Length(s: string): number {
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

/** The "trace" field name, as estimateBytes counts a string. */
const TRACE_FIELD_BYTES = 5 + "trace".length;

/** Estimated bytes of one {key, state} item of a page, or {key, state, trace?} item of a batch. */
export function keyedBytes(key: string, state: KeyState, trace?: TraceCarrier): number {
  const bytes = 12 + 5 + utf8Length(key) + estimateBytes(state);
  return trace === undefined ? bytes : bytes + TRACE_FIELD_BYTES + estimateBytes(trace);
}
