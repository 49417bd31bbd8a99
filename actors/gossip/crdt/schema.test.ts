import { describe, expect, it } from "@jest/globals";
import fc from "fast-check";
import { equalStates, isCanonical } from "./kernel.js";
import { KEY_STATE_LIMITS, keyStateSchema } from "./schema.js";
import { scramble, stateArb } from "../../../testkit/gossip/crdt.js";

const dot = { r: "a@1", n: 1 };
const lww = { f: "x", k: "lww", v: 1, ts: { t: 1, c: 0, r: "a@1" } };
const valid = { entries: [[dot, lww]], cc: { vv: { "a@1": 1 }, cloud: [] } };
const withEntry = (entry: unknown, d: unknown = dot) => ({ ...valid, entries: [[d, entry]] });
const withValue = (v: unknown) => withEntry({ ...lww, v });
function nest(depth: number): unknown {
  let v: unknown = 1;
  for (let i = 0; i < depth; i++) v = [v];
  return v;
}

describe("keyStateSchema", () => {
  it("accepts every state the module builds, also scrambled and sent through JSON, and returns it canonical", () => {
    fc.assert(
      fc.property(stateArb, fc.array(fc.nat(), { minLength: 1, maxLength: 5 }), (s, rnd) => {
        const wire: unknown = JSON.parse(JSON.stringify(scramble(s, rnd)));
        const parsed = keyStateSchema.parse(wire);
        expect(isCanonical(parsed)).toBe(true);
        expect(equalStates(parsed, s)).toBe(true);
      }),
    );
  });

  const rejected: readonly (readonly [string, unknown, readonly (string | number)[]])[] = [
    ["not an object", 42, []],
    ["no cc", { entries: [] }, ["cc"]],
    ["entries not an array", { ...valid, entries: {} }, ["entries"]],
    ["entry not a pair", { ...valid, entries: [[dot]] }, ["entries", 0]],
    ["entry with an extra item", { ...valid, entries: [[dot, lww, 1]] }, ["entries", 0]],
    ["empty replica", withEntry(lww, { r: "", n: 1 }), ["entries", 0, 0, "r"]],
    ["replica too long", withEntry(lww, { r: "r".repeat(201), n: 1 }), ["entries", 0, 0, "r"]],
    ["dot counter 0", withEntry(lww, { r: "a@1", n: 0 }), ["entries", 0, 0, "n"]],
    ["dot counter not an integer", withEntry(lww, { r: "a@1", n: 1.5 }), ["entries", 0, 0, "n"]],
    ["dot counter a string", withEntry(lww, { r: "a@1", n: "1" }), ["entries", 0, 0, "n"]],
    ["unknown entry kind", withEntry({ f: "x", k: "map" }), ["entries", 0, 1, "k"]],
    ["empty field name", withEntry({ ...lww, f: "" }), ["entries", 0, 1, "f"]],
    ["field name too long", withEntry({ ...lww, f: "f".repeat(129) }), ["entries", 0, 1, "f"]],
    ["register without value", withEntry({ f: "x", k: "lww", ts: lww.ts }), ["entries", 0, 1, "v"]],
    ["register without stamp", withEntry({ f: "x", k: "lww", v: 1 }), ["entries", 0, 1, "ts"]],
    ["stamp counter negative", withEntry({ ...lww, ts: { t: 1, c: -1, r: "a@1" } }), ["entries", 0, 1, "ts", "c"]],
    ["set entry without element", withEntry({ f: "x", k: "set" }), ["entries", 0, 1, "e"]],
    ["value NaN", withValue(NaN), ["entries", 0, 1, "v"]],
    ["value Infinity deep inside", withValue({ a: [1, { b: Infinity }] }), ["entries", 0, 1, "v", "a", 1, "b"]],
    ["value undefined in an array", withValue([1, undefined]), ["entries", 0, 1, "v", 1]],
    ["value a bytes buffer", withValue(new Uint8Array(2)), ["entries", 0, 1, "v"]],
    ["value a Date", withValue(new Date(0)), ["entries", 0, 1, "v"]],
    ["value a bigint", withValue(1n), ["entries", 0, 1, "v"]],
    ["value nested 17 deep", withValue(nest(17)), ["entries", 0, 1, "v", ...new Array<number>(16).fill(0)]],
    ["string over 64 KiB", withValue("s".repeat(KEY_STATE_LIMITS.stringChars + 1)), ["entries", 0, 1, "v"]],
    ["too many entries", { ...valid, entries: new Array(KEY_STATE_LIMITS.entries + 1).fill([dot, lww]) }, ["entries"]],
    ["cloud too large", { ...valid, cc: { vv: {}, cloud: new Array(KEY_STATE_LIMITS.cloud + 1).fill({ r: "a@1", n: 3 }) } }, ["cc", "cloud"]],
    ["too many replicas in vv", { entries: [], cc: { vv: Object.fromEntries(Array.from({ length: KEY_STATE_LIMITS.vvReplicas + 1 }, (_, i) => [`r${i}`, 1])), cloud: [] } }, ["cc", "vv"]],
    ["vv counter 0", { ...valid, cc: { vv: { "a@1": 1, b: 0 }, cloud: [] } }, ["cc", "vv", "b"]],
    ["vv replica __proto__", { entries: [], cc: { vv: JSON.parse('{"__proto__": 1}') as unknown, cloud: [] } }, ["cc", "vv", "__proto__"]],
    ["cloud dot malformed", { ...valid, cc: { vv: { "a@1": 1 }, cloud: [{ r: "b", n: -2 }] } }, ["cc", "cloud", 0, "n"]],
    ["entry dot outside the context", { ...valid, cc: { vv: {}, cloud: [] } }, ["entries", 0, 0]],
    ["duplicate entry dot", { ...valid, entries: [[dot, lww], [dot, { f: "y", k: "set", e: 1 }]] }, ["entries", 1, 0]],
  ];

  it.each(rejected)("rejects %s, naming the path", (_name, input, path) => {
    const r = keyStateSchema.safeParse(input);
    expect(r.success).toBe(false);
    expect(r.error?.issues.map((i) => i.path)).toContainEqual(path);
  });

  it("checks sizes before members (a huge hostile array costs no per-item work)", () => {
    const huge = { ...valid, entries: new Array(1_000_000).fill([dot, lww]) };
    const t = performance.now();
    expect(keyStateSchema.safeParse(huge).success).toBe(false);
    expect(performance.now() - t).toBeLessThan(200);
  });

  it("never throws on 1,000 random JSON-ish values, nor on random edits of valid states", () => {
    const anything = fc.oneof(fc.jsonValue(), fc.anything({ withBigInt: true, withDate: true, withTypedArray: true, withNullPrototype: true, withMap: true }));
    const edited = fc.tuple(stateArb, fc.jsonValue(), fc.array(fc.nat(), { maxLength: 4 })).map(([s, junk, path]) => plant(JSON.parse(JSON.stringify(s)), junk, path));
    fc.assert(
      fc.property(fc.oneof(anything, edited), (v) => {
        expect(() => keyStateSchema.safeParse(v)).not.toThrow();
      }),
      { numRuns: 1000 },
    );
  });
});

/** Replaces the node found by following `path` (indices modulo the keys there) with `junk`. */
function plant(root: unknown, junk: unknown, path: readonly number[]): unknown {
  let node = root;
  for (const [i, step] of path.entries()) {
    if (node === null || typeof node !== "object") break;
    const o = node as Record<string, unknown>;
    const keys = Object.keys(o);
    if (keys.length === 0) break;
    const k = keys[step % keys.length] as string;
    if (i === path.length - 1) o[k] = junk;
    else node = o[k];
  }
  return root;
}
