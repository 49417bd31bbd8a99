// msgpack bytes <-> envelopes. decode() is the border: it never throws, every failure is a typed DecodeResult.
import { Packr } from "msgpackr";
import { checkShape, ENVELOPE_VERSION, formatIssues, quote, UNKNOWN_KIND, type BodyOf } from "./envelope.js";
import type { DecodeResult, Envelope, KindDef } from "./types.js";

/** Default cap on an encoded message; equals the NATS server's default max_payload. */
export const DEFAULT_MAX_BYTES = 1024 * 1024;

// Plain msgpack (no msgpackr records extension) so programs in any language can speak the protocol.
// Packr with useRecords:false keeps no state between calls, so one instance serves every node in the process.
const packr = new Packr({ useRecords: false });

export interface DecodeOptions {
  /** Messages larger than this are rejected before unpacking. Default DEFAULT_MAX_BYTES. */
  readonly maxBytes?: number;
}

export function encode<B>(def: KindDef<B>, from: string, body: B, now: number = Date.now()): Uint8Array {
  const env: Envelope<B> = { v: ENVELOPE_VERSION, kind: def.kind, from, ts: now, body };
  return packr.pack(env);
}

/**
 * Unpacks and validates an envelope against the accepted kinds. On failure `kind` is the accepted kind the
 * message claimed, or "unknown" (so it is safe as a metric label); the claimed kind is quoted in `message`.
 */
export function decode<D extends KindDef<unknown>>(bytes: Uint8Array, defs: readonly D[], opts: DecodeOptions = {}): DecodeResult<BodyOf<D>> {
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_BYTES;
  if (bytes.length > maxBytes) return reject("too-large", `message is ${bytes.length} bytes; the limit is ${maxBytes}`);
  if (bytes.length === 0) return reject("undecodable", "empty message");
  let value: unknown;
  try {
    value = packr.unpack(bytes);
  } catch (err) {
    return reject("undecodable", `not msgpack: ${err instanceof Error ? err.message.slice(0, 120) : String(err)}`);
  }
  const shape = checkShape(value);
  const find = (kind: string | undefined): D | undefined => (kind === undefined ? undefined : defs.find((d) => d.kind === kind));
  if (!shape.ok) return reject(shape.reason, shape.message, find(shape.kind)?.kind);
  const def = find(shape.raw.kind);
  if (def === undefined) {
    const known = defs.map((d) => d.kind).join("|") || "(none)";
    return reject("unknown-kind", `kind: ${quote(shape.raw.kind)} is not one of ${known}`);
  }
  const parsed = def.schema.safeParse(shape.raw.body);
  if (!parsed.success) return reject("invalid-body", formatIssues(parsed.error.issues), def.kind);
  const env: Envelope<BodyOf<D>> = { ...shape.raw, body: parsed.data as BodyOf<D> };
  return { ok: true, env };
}

function reject(reason: Exclude<DecodeResult<unknown>, { ok: true }>["reason"], message: string, kind?: string): { ok: false; reason: typeof reason; kind: string; message: string } {
  return { ok: false, reason, kind: kind ?? UNKNOWN_KIND, message };
}
