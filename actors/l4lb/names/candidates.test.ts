import { describe, expect, it } from "@jest/globals";
import fc from "fast-check";
import { allocationName } from "../model.js";
import { candidates, candidatesFor, parseAllocationName, startOffset } from "./candidates.js";
import { parseIp } from "../../../config/ip.js";
import { parseNamedRange, type NamedRange } from "./range.js";

const V4 = parseNamedRange({ min: "11.0.0.0", max: "11.255.255.254" });
const V6 = parseNamedRange({ min: "fd01:c::", max: "fd01:c::ffff:ffff:ffff:ffff" });

function take(it: Iterable<string>, n: number): string[] {
  const out: string[] = [];
  for (const x of it) {
    if (out.length >= n) break;
    out.push(x);
  }
  return out;
}

const inside = (r: NamedRange, text: string): boolean => {
  const p = parseIp(text);
  return p !== undefined && p.family === r.family && p.value >= r.min && p.value <= r.max;
};

/** A small range anywhere in either family (min ≤ max, at most 300 addresses). */
const smallRange = fc
  .tuple(fc.boolean(), fc.bigInt({ min: 0n, max: 2n ** 32n - 301n }), fc.integer({ min: 0, max: 299 }), fc.bigInt({ min: 0n, max: 2n ** 96n - 1n }))
  .map(([six, lo, span, hi]): NamedRange => (six ? { family: "ip6", min: (hi << 32n) + lo, max: (hi << 32n) + lo + BigInt(span) } : { family: "ip", min: lo, max: lo + BigInt(span) }));

describe("named-VIP candidates", () => {
  it("starts IPv6 where dcos-net does (its test vector: qux.ipv6 → fd01:c::6d6d:9c64:fd19:f251)", () => {
    expect(take(candidates("qux.ipv6", V6), 3)).toEqual(["fd01:c::6d6d:9c64:fd19:f251", "fd01:c::6d6d:9c64:fd19:f252", "fd01:c::6d6d:9c64:fd19:f253"]);
  });

  it("walks the whole range once from a start that depends on the name, wrapping at the end", () => {
    const r = parseNamedRange({ min: "11.0.0.0", max: "11.0.0.9" });
    const all = [...candidates("foo.bar", r)];
    expect(all).toHaveLength(10);
    expect(new Set(all).size).toBe(10);
    const start = Number(startOffset("foo.bar", r));
    expect(all[0]).toBe(`11.0.0.${start}`);
    expect(all[10 - start]).toBe("11.0.0.0"); // wrapped
    // Different names start in different places (not every name at min).
    expect(new Set(["a", "b", "c", "d", "e", "f"].map((n) => take(candidates(n, V4), 1)[0])).size).toBeGreaterThan(4);
  });

  it("every candidate is inside the range, none repeats within the first k, and the same name gives the same sequence", () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 60 }), fc.boolean(), fc.integer({ min: 1, max: 500 }), (name, six, k) => {
        const r = six ? V6 : V4;
        const first = take(candidates(name, r), k);
        expect(first).toHaveLength(k);
        expect(first.every((c) => inside(r, c))).toBe(true);
        expect(new Set(first).size).toBe(k);
        expect(take(candidates(name, r), k)).toEqual(first);
      }),
      { numRuns: 300 },
    );
  });

  it("in any small range, yields every address exactly once", () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 30 }), smallRange, (name, r) => {
        const all = [...candidates(name, r)];
        expect(all).toHaveLength(Number(r.max - r.min + 1n));
        expect(new Set(all).size).toBe(all.length);
        expect(all.every((c) => inside(r, c))).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it("is lazy: a 2^64 range gives its first candidates without walking the rest (an eager list would never finish)", () => {
    const gen = candidates("app.marathon", V6);
    expect(gen.next().done).toBe(false);
    expect(gen.next().value).toMatch(/^fd01:c::/);
  });

  it("maps allocation names to their family's range, and refuses what is not one", () => {
    const ranges = { v4: V4, v6: V6 };
    expect(parseAllocationName(allocationName("mygroupmyapp.marathon", "ip"))).toEqual({ family: "ip", dnsName: "mygroupmyapp.marathon" });
    expect(parseAllocationName(allocationName("qux.ipv6", "ip6"))).toEqual({ family: "ip6", dnsName: "qux.ipv6" });
    expect(take(candidatesFor("v6:qux.ipv6", ranges)!, 1)).toEqual(["fd01:c::6d6d:9c64:fd19:f251"]);
    expect(take(candidatesFor("v4:qux.ipv6", ranges)!, 1)[0]).toMatch(/^11\./);
    for (const bad of ["qux.ipv6", "v5:x", "v4:", "ip:x"]) {
      expect(parseAllocationName(bad)).toBeUndefined();
      expect(candidatesFor(bad, ranges)).toBeUndefined();
    }
  });
});
