import { describe, expect, it } from "@jest/globals";
import fc from "fast-check";
import type { Value } from "./types.js";
import { canonicalValue, sameValue } from "./value.js";

// Reference: JSON with keys sorted by code units. (JSON.stringify of a key-sorted copy is not one:
// JavaScript lists integer-like keys first whatever the insertion order.)
function reference(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(reference).join(",")}]`;
  if (v === null || typeof v !== "object") return JSON.stringify(v);
  const o = v as Record<string, unknown>;
  return `{${Object.keys(o)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${reference(o[k])}`)
    .join(",")}}`;
}

function shuffleKeys(v: Value): Value {
  if (Array.isArray(v)) return v.map(shuffleKeys);
  if (v === null || typeof v !== "object") return v;
  const o = v as { readonly [k: string]: Value };
  return Object.fromEntries(Object.keys(o).reverse().map((k) => [k, shuffleKeys(o[k] as Value)]));
}

const json = fc.jsonValue({ maxDepth: 4 }) as fc.Arbitrary<Value>;

describe("canonicalValue", () => {
  it("is JSON with object keys sorted by code units, and parses back to the value", () => {
    fc.assert(
      fc.property(json, (v) => {
        expect(canonicalValue(v)).toBe(reference(v));
        expect(JSON.parse(canonicalValue(v))).toEqual(JSON.parse(JSON.stringify(v))); // -0 reads as 0
      }),
    );
    expect(canonicalValue({ b: 1, "10": 2, a: 3, "9": 4 })).toBe('{"10":2,"9":4,"a":3,"b":1}');
  });

  it("ignores key order", () => {
    fc.assert(fc.property(json, (v) => canonicalValue(shuffleKeys(v)) === canonicalValue(v)));
  });

  it("follows JSON for what JSON cannot carry", () => {
    const odd = { a: undefined, b: [undefined, NaN, Infinity], c: -0 } as unknown as Value;
    expect(canonicalValue(odd)).toBe('{"b":[null,null,null],"c":0}');
  });
});

describe("sameValue", () => {
  it("agrees with canonicalValue equality", () => {
    const pair = fc.oneof(
      fc.tuple(json, json),
      json.map((v) => [v, shuffleKeys(v)] as const),
      fc.constantFrom<readonly [unknown, unknown]>([0, -0], [null, undefined], [NaN, null], [{ a: undefined }, {}], [{ a: null }, {}], [[undefined], [null]], [1, "1"], [[], {}]),
    );
    fc.assert(fc.property(pair, ([a, b]) => sameValue(a, b) === (canonicalValue(a as Value) === canonicalValue(b as Value))));
  });
});
