// Message kinds and the structural check of a decoded envelope (no msgpack here: see codec.ts).
import type { z } from "zod";
import { InvalidKindError } from "./errors.js";
import { ID_PATTERN } from "./subjects.js";
import type { KindDef, RejectReason } from "./types.js";

export const ENVELOPE_VERSION = 1 as const;
/** Metric/log label for a kind we could not read or do not know; keeps label cardinality bounded. */
export const UNKNOWN_KIND = "unknown";
/** Dotted lower-case words: "admin.ping", "admin.log-level", "gossip.delta". */
const KIND_PATTERN = /^[a-z][a-z0-9-]*(\.[a-z][a-z0-9-]*){0,7}$/;

export function defineKind<B>(kind: string, schema: z.ZodType<B>, opts: { readonly background?: boolean } = {}): KindDef<B> {
  if (!KIND_PATTERN.test(kind) || kind.length > 128 || kind === UNKNOWN_KIND) throw new InvalidKindError(kind);
  return Object.freeze(opts.background === true ? { kind, schema, background: true } : { kind, schema });
}

/** Body type of a KindDef, or of a union of them. */
export type BodyOf<D> = D extends KindDef<infer B> ? B : never;

/** An envelope whose header is valid but whose body is not yet checked against the kind's schema. */
export interface RawEnvelope {
  readonly v: typeof ENVELOPE_VERSION;
  readonly kind: string;
  readonly from: string;
  readonly ts: number;
  readonly body: unknown;
}

export type ShapeResult =
  | { readonly ok: true; readonly raw: RawEnvelope }
  | { readonly ok: false; readonly reason: RejectReason; readonly message: string; readonly kind?: string };

const fail = (reason: RejectReason, message: string, kind?: string): ShapeResult =>
  kind === undefined ? { ok: false, reason, message } : { ok: false, reason, message, kind };

function typeName(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  if (value instanceof Uint8Array) return "binary";
  if (value instanceof Date) return "timestamp";
  return typeof value;
}

/** Shows attacker-controlled text in a log line without letting it flood or break the line. */
export function quote(value: string, max = 64): string {
  return JSON.stringify(value.length > max ? `${value.slice(0, max)}…` : value);
}

/** Checks the envelope header fields of a decoded msgpack value. Extra fields are tolerated (forward compatibility). */
export function checkShape(value: unknown): ShapeResult {
  if (typeName(value) !== "object") return fail("not-an-envelope", `expected a map {v, kind, from, ts, body}, got ${typeName(value)}`);
  const o = value as Record<string, unknown>;
  const kind = typeof o.kind === "string" ? o.kind : undefined;
  if (!Object.hasOwn(o, "v")) return fail("not-an-envelope", "v: missing", kind);
  if (typeof o.v !== "number") return fail("not-an-envelope", `v: expected a number, got ${typeName(o.v)}`, kind);
  if (o.v !== ENVELOPE_VERSION) return fail("unknown-version", `v: ${o.v} is not a known envelope version (known: ${ENVELOPE_VERSION})`, kind);
  if (kind === undefined) return fail("not-an-envelope", `kind: expected a string, got ${typeName(o.kind)}`);
  if (typeof o.from !== "string") return fail("not-an-envelope", `from: expected a string, got ${typeName(o.from)}`, kind);
  if (!ID_PATTERN.test(o.from)) return fail("not-an-envelope", `from: ${quote(o.from)} is not a node id (${ID_PATTERN.source})`, kind);
  if (typeof o.ts !== "number" || !Number.isFinite(o.ts)) return fail("not-an-envelope", `ts: expected a finite number, got ${typeName(o.ts)}`, kind);
  if (!Object.hasOwn(o, "body")) return fail("not-an-envelope", "body: missing", kind);
  return { ok: true, raw: { v: ENVELOPE_VERSION, kind, from: o.from, ts: o.ts, body: o.body } };
}

/** `body.level: Invalid option: expected one of "trace"|"debug"` — the first few zod issues, each with its path. */
export function formatIssues(issues: readonly z.core.$ZodIssue[], max = 3): string {
  const shown = issues.slice(0, max).map((i) => `${formatPath(i.path)}: ${i.message}`);
  const more = issues.length > max ? ` (+${issues.length - max} more)` : "";
  return shown.join("; ") + more;
}

function formatPath(path: readonly PropertyKey[]): string {
  let out = "body";
  for (const key of path) out += typeof key === "number" ? `[${key}]` : `.${String(key)}`;
  return out;
}
