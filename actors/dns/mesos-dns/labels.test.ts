// Label mangling tables from upstream labels_test.go (expected-records.md §7) + properties.
import { describe, expect, it } from "@jest/globals";
import fc from "fast-check";
import { hashString } from "./hash.js";
import { mesosDnsDomainFrag, rfc1123, rfc952 } from "./labels.js";

const both: Array<[string, string]> = [
  ["", ""], ["a", "a"], ["-", ""], ["a---", "a"], ["---a---", "a"], ["---a---b", "a---b"],
  ["a.b.c.d.e", "a-b-c-d-e"], ["a.c.d_de.", "a-c-d-de"], ["abc123", "abc123"], ["-abc123", "abc123"],
  ["abc123-", "abc123"], ["abc-123", "abc-123"], ["abc--123", "abc--123"],
  ["r29f.dev.angrypigs", "r29f-dev-angrypigs"], ["hello" + "-".repeat(58) + "f", "hellof"],
];

const only1123: Array<[string, string]> = [
  ["4abc123", "4abc123"], ["-4abc123", "4abc123"],
  ["89fdgsf---gs7-fgs--d7fddg-123", "89fdgsf---gs7-fgs--d7fddg-123"],
  ["89fdgsf---gs7-fgs--d7fddg---123", "89fdgsf---gs7-fgs--d7fddg---123"],
  ["89fdgsf---gs7-fgs--d7fddg-", "89fdgsf---gs7-fgs--d7fddg"],
  ["fd%gsf---gs7-f$gs--d7fddg-123", "fdgsf---gs7-fgs--d7fddg-123"],
  ["fd%gsf---gs7-f$gs--d7fddg123456789012345678901234567890123456789-123", "fdgsf---gs7-fgs--d7fddg1234567890123456789012345678901234567891"],
  ["##fdgsf---gs7-fgs--d7fddg123456789012345678901234567890123456789-", "fdgsf---gs7-fgs--d7fddg123456789012345678901234567890123456789"],
  ["hello" + "-".repeat(56) + "f", "hello" + "-".repeat(56) + "f"],
];

const only952: Array<[string, string]> = [
  ["4abc123", "abc123"], ["-4abc123", "abc123"],
  ["fd%gsf---gs7-f$gs--d7fddg-123", "fdgsf---gs7-fgs--d7fddg1"],
  ["89fdgsf---gs7-fgs--d7fddg-123", "fdgsf---gs7-fgs--d7fddg1"],
  ["89fdgsf---gs7-fgs--d7fddg---123", "fdgsf---gs7-fgs--d7fddg1"],
  ["89fdgsf---gs7-fgs--d7fddg-", "fdgsf---gs7-fgs--d7fddg"],
  ["chronos with a space AND MIXED CASE-2.0.1", "chronoswithaspaceandmixe"],
  ["chronos with a space AND----------MIXED--", "chronoswithaspaceandmixe"],
  ["hello" + "-".repeat(56) + "f", "hellof"],
];

const frags: Array<[string, string]> = [
  ["", ""], [".", ""], ["..", ""], ["...", ""], ["a", "a"], ["abc.", "abc"], [".abc", "abc"],
  ["a.c", "a.c"], [".a.c", "a.c"], ["a.c.", "a.c"], ["a..c", "a.c"], ["ab.cd.efg", "ab.cd.efg"],
  ["a..c.e", "a.c.e"], ["a.c..e", "a.c.e"], ["host.com", "host.com"], ["space space.com", "spacespace.com"],
  ["blah-dash.com", "blah-dash.com"], ["not$1234.com", "not1234.com"], ["(@ host . com", "host.com"],
  ["MiXeDcase.CoM", "mixedcase.com"],
];

describe("labels", () => {
  it.each([...both, ...only1123])("rfc1123(%j) = %j", (input, out) => expect(rfc1123(input)).toBe(out));
  it.each([...both, ...only952])("rfc952(%j) = %j", (input, out) => expect(rfc952(input)).toBe(out));
  it.each(frags)("mesosDnsDomainFrag(%j) = %j under both specs", (input, out) => {
    expect(mesosDnsDomainFrag(input, rfc1123)).toBe(out);
    expect(mesosDnsDomainFrag(input, rfc952)).toBe(out);
  });
  it("mesosDnsDomainFrag cuts each part separately", () => {
    expect(mesosDnsDomainFrag("pod_123$abc.marathon-0.6.0-dev.mesos", rfc952)).toBe("pod-123abc.marathon-0.dev.mesos");
    expect(mesosDnsDomainFrag("pod_123$abc.marathon-0.6.0-dev.mesos", rfc1123)).toBe("pod-123abc.marathon-0.6.0-dev.mesos");
  });
  it("properties: charset, length, first character", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary" }), (s) => {
        const a = rfc952(s);
        const b = rfc1123(s);
        expect(a).toMatch(/^([a-z][a-z0-9-]*)?$/);
        expect(a.length).toBeLessThanOrEqual(24);
        expect(b).toMatch(/^([a-z0-9][a-z0-9-]*)?$/);
        expect(b.length).toBeLessThanOrEqual(63);
      }),
    );
  });
});

describe("hashString", () => {
  it("matches upstream zbase32(sha1) prefixes", () => {
    expect(hashString("test")).toBe("iffe9");
    expect(hashString("nginx.48dccce7-90bc-11e6-ae70-70b3d5800001")).toBe("jhy6r");
  });
});
