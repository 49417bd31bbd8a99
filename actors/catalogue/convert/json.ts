// Defensive readers for untrusted Mesos JSON: every accessor returns undefined (or []) instead of
// throwing, so a malformed object can only ever become a ConversionProblem (mesos-tasks.ts), never an exception.
import { z } from "zod";

export type JsonObject = Record<string, unknown>;

export function isObject(v: unknown): v is JsonObject {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Walk `path` through nested objects; undefined as soon as a step is not an object. */
export function get(v: unknown, ...path: string[]): unknown {
  let cur = v;
  for (const key of path) {
    if (!isObject(cur) || !Object.hasOwn(cur, key)) return undefined;
    cur = cur[key];
  }
  return cur;
}

/** A non-empty string, else undefined. */
export function nonEmptyString(v: unknown): string | undefined {
  return typeof v === "string" && v.length > 0 ? v : undefined;
}

/** The array itself, or [] for anything else. */
export function asArray(v: unknown): readonly unknown[] {
  return Array.isArray(v) ? v : [];
}

/** A safe integer, else undefined. */
export function int(v: unknown): number | undefined {
  return typeof v === "number" && Number.isSafeInteger(v) ? v : undefined;
}

const ipv4 = z.ipv4();
const ipv6 = z.ipv6();

type IpFamily = 4 | 6;

/** 4 or 6 when `s` is an IP literal the Task model accepts, else undefined. */
export function ipFamily(s: unknown): IpFamily | undefined {
  if (typeof s !== "string" || s.length > 45) return undefined;
  // Cheap shape tests first: zod's IPv6 check costs ~10 µs and most inputs are names.
  if (/^[0-9.]+$/.test(s)) return ipv4.safeParse(s).success ? 4 : undefined;
  if (s.includes(":") && /^[0-9a-fA-F:.]+$/.test(s)) return ipv6.safeParse(s).success ? 6 : undefined;
  return undefined;
}

/** A short, bounded rendering of any JSON value for ConversionProblem messages. */
export function show(v: unknown): string {
  let s: string;
  try {
    s = typeof v === "string" ? JSON.stringify(v) : (JSON.stringify(v) ?? String(v));
  } catch {
    s = "<unprintable>";
  }
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}
