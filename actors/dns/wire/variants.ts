// Every answer order a cached entry should cycle through, rendered once on a miss so that hits
// keep the rotation without parsing or encoding (dcos-dns rotates by message id).
import type { ZoneSet } from "../zones/types.js";
import { answerQuery, type Answered, type AnswerOptions } from "./answer.js";
import { encodeResponse, type EncodeOptions } from "./encode.js";
import type { ParsedQuery } from "./types.js";

interface VariantOptions extends AnswerOptions, Omit<EncodeOptions, "query" | "noOpt"> {
  /** Most variants stored per query; default 16. */
  readonly maxVariants?: number;
}

/**
 * Encoded replies for ResponseCache.put. With n = min(answered.variants, maxVariants) variants,
 * variant i is the answer for a message id ≡ i (mod n); exact round-robin when every RRset size
 * divides n, otherwise n evenly spaced rotations. For random rotation, n independent shuffles.
 */
/** The most rotations of one answer the response cache keeps. */
export const MAX_VARIANTS = 16;

export function renderVariants(zones: ZoneSet, query: ParsedQuery, answered: Answered, opts: VariantOptions): Buffer[] {
  const encode = (a: Answered): Buffer => encodeResponse(a.packet, { ...opts, query, noOpt: a.noOpt });
  const n = Math.min(answered.variants, opts.maxVariants ?? MAX_VARIANTS);
  if (n <= 1 || (opts.rotation ?? "round_robin") === "off") return [encode(answered)];
  const out: Buffer[] = [];
  for (let i = 0; i < n; i++) {
    const key = Math.floor((i * answered.variants) / n);
    const a = answerQuery(zones, { ...query, id: key }, opts);
    if (a.kind !== "answer") return [encode(answered)];
    out.push(encode(a));
  }
  return out;
}
