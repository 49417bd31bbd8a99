// Value identity. Two values are the same set element iff their canonical JSON is equal: object key
// order does not matter, -0 equals 0, and — as in JSON — a non-finite number reads as null, an
// `undefined` array item as null and an `undefined` property as absent. `sameValue` decides that
// without building strings (it runs on every set add/remove over the field's elements).
import type { Value } from "./types.js";

/** The JSON-level kind of a value; anything JSON cannot carry counts as null. */
export type Kind = "null" | "bool" | "num" | "str" | "arr" | "obj";

export function kindOf(v: unknown): Kind {
  switch (typeof v) {
    case "string":
      return "str";
    case "number":
      return Number.isFinite(v) ? "num" : "null";
    case "boolean":
      return "bool";
    case "object":
      if (v === null) return "null";
      return Array.isArray(v) ? "arr" : "obj";
    default:
      return "null";
  }
}

/** Own keys whose value is not undefined, sorted by UTF-16 code units (JSON.stringify skips undefined). */
export function presentKeys(o: Readonly<Record<string, unknown>>): string[] {
  let keys = Object.keys(o);
  for (const k of keys) {
    if (o[k] === undefined) {
      keys = keys.filter((x) => o[x] !== undefined);
      break;
    }
  }
  return keys.length < 2 ? keys : keys.length > 8 ? keys.sort() : insertionSort(keys);
}

/** Objects in values are mostly small; this beats Array.prototype.sort's setup cost there. */
function insertionSort(keys: string[]): string[] {
  for (let i = 1; i < keys.length; i++) {
    const k = keys[i] as string;
    let j = i - 1;
    for (; j >= 0 && (keys[j] as string) > k; j--) keys[j + 1] = keys[j] as string;
    keys[j + 1] = k;
  }
  return keys;
}

/** Stable JSON: object keys sorted, no whitespace. Set-element identity and set read order. */
export function canonicalValue(v: Value): string {
  const parts: string[] = [];
  writeCanonical(v, parts);
  return parts.join("");
}

function writeCanonical(v: unknown, out: string[]): void {
  switch (kindOf(v)) {
    case "null":
      out.push("null");
      return;
    case "bool":
    case "num":
    case "str":
      out.push(JSON.stringify(v));
      return;
    case "arr":
      out.push("[");
      (v as readonly unknown[]).forEach((x, i) => {
        if (i > 0) out.push(",");
        writeCanonical(x, out);
      });
      out.push("]");
      return;
    case "obj":
      writeObject(v as Readonly<Record<string, unknown>>, out);
      return;
  }
}

function writeObject(o: Readonly<Record<string, unknown>>, out: string[]): void {
  out.push("{");
  presentKeys(o).forEach((k, i) => {
    out.push(i > 0 ? "," : "", JSON.stringify(k), ":");
    writeCanonical(o[k], out);
  });
  out.push("}");
}

/** canonicalValue(a) === canonicalValue(b), without building the strings. */
export function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  const ka = kindOf(a);
  if (ka !== kindOf(b)) return false;
  switch (ka) {
    case "null":
      return true;
    case "arr":
      return sameArray(a as readonly unknown[], b as readonly unknown[]);
    case "obj":
      return sameObject(a as Readonly<Record<string, unknown>>, b as Readonly<Record<string, unknown>>);
    default:
      // Equal primitives were caught by ===, and -0 === 0.
      return false;
  }
}

function sameArray(a: readonly unknown[], b: readonly unknown[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!sameValue(a[i], b[i])) return false;
  return true;
}

function sameObject(a: Readonly<Record<string, unknown>>, b: Readonly<Record<string, unknown>>): boolean {
  let count = 0;
  for (const k of Object.keys(a)) {
    const x = a[k];
    if (x === undefined) continue;
    count++;
    const y = Object.hasOwn(b, k) ? b[k] : undefined;
    if (y === undefined || !sameValue(x, y)) return false;
  }
  for (const k of Object.keys(b)) if (b[k] !== undefined) count--;
  return count === 0;
}
