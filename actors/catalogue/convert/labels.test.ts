// dcosLabel against mesos_state's own eunit table (dcos/mesos_state src/mesos_state.erl
// remap_test/0 and prop_allow_any_ascii/0), the dcos-net cases the zones and VIP names rely on,
// and a clause-by-clause transcription of label/1 as an oracle.
import { describe, expect, it } from "@jest/globals";
import fc from "fast-check";
import { dcosDomainFrag, dcosLabel } from "./labels.js";

// [input, expected] — remap_test/0, verbatim.
const REMAP: Array<[string, string]> = [
  ["fd%gsf---gs7-f$gs--d7fddg-123", "fdgsf---gs7-fgs--d7fddg-123"],
  ["4abc123", "4abc123"],
  ["89fdgsf---gs7-fgs--d7fddg-123", "89fdgsf---gs7-fgs--d7fddg-123"],
  ["##fdgsf---gs7-fgs--d7fddg123456789012345678901234567890123456789-", "fdgsf---gs7-fgs--d7fddg123456789012345678901234567890123456789"],
  ["fd%gsf---gs7-f$gs--d7fddg123456789012345678901234567890123456789-123", "fdgsf---gs7-fgs--d7fddg1234567890123456789012345678901234567891"],
  ["89fdgsf---gs7-fgs--d7fddg---123", "89fdgsf---gs7-fgs--d7fddg---123"],
  ["%%fdgsf---gs7-fgs--d7fddg123456789012345678901234567890123456789---123", "fdgsf---gs7-fgs--d7fddg1234567890123456789012345678901234567891"],
  ["-4abc123", "4abc123"],
  ["$$fdgsf---gs7-fgs--d7fddg123456789012345678901234567890123456789-123", "fdgsf---gs7-fgs--d7fddg1234567890123456789012345678901234567891"],
  ["89fdgsf---gs7-fgs--d7fddg-", "89fdgsf---gs7-fgs--d7fddg"],
  ["0-0", "0-0"],
  // The table's last line compares the literal with itself; as a label case it must be kept.
  ["a-----------------------------------------------b", "a-----------------------------------------------b"],
];

// Cases the zones depend on (dcos-net.md §2.2, dcos_dns_mesos_tests.erl names, custom zones).
const DCOS: Array<[string, string]> = [
  ["myapp.mygroup", "myapp-mygroup"], // Marathon /mygroup/myapp
  ["none-on-dcos", "none-on-dcos"],
  ["hello-overlay-vip-0-server", "hello-overlay-vip-0-server"],
  ["marathon", "marathon"],
  ["hello-world", "hello-world"],
  ["Chronos With A Space-2.0.1", "chronoswithaspace-2-0-1"], // the framework stays one label
  ["My_Registry", "my-registry"],
  ["_-.", ""],
  ["", ""],
  ["ünïcode", "ncode"],
  ["a.-_b", "a---b"],
];

describe("dcosLabel", () => {
  it.each(REMAP)("mesos_state remap_test: %s", (input, expected) => expect(dcosLabel(input)).toBe(expected));
  it.each(DCOS)("dcos-net name %j → %j", (input, expected) => expect(dcosLabel(input)).toBe(expected));

  it("refills after the 63-character cut with letters and digits only (unlike Mesos-DNS RFC 1123)", () => {
    const input = `${"a".repeat(61)}--b-c`;
    expect(dcosLabel(input)).toBe(`${"a".repeat(61)}bc`);
    // Mesos-DNS's rfc1123 (dns/mesos-dns/labels.ts) keeps the dashes: `a…ab-`.
    const rfc1123 = `${"a".repeat(61)}b-`;
    expect(rfc1123).not.toBe(dcosLabel(input));
  });

  it("prop_allow_any_ascii: any string gives [a-z0-9-]{0,63}, no leading or trailing '-'", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 200 }), (s) => /^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)?$/.test(dcosLabel(s))),
      { numRuns: 1000 },
    );
  });

  it("is idempotent", () => {
    fc.assert(fc.property(fc.string({ maxLength: 120 }), (s) => expect(dcosLabel(dcosLabel(s))).toBe(dcosLabel(s))));
  });

  it("agrees with label/1 transcribed clause by clause over the UTF-8 bytes (Erlang binaries)", () => {
    // dcnet once had two ports of label/1 (the VIP side's and DNS's); they agreed on every input
    // tried, and this keeps the one left honest against the Erlang clauses themselves.
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: "binary", maxLength: 200 }), fc.array(fc.constantFrom(..."aZ09-_.%é😀"), { maxLength: 150 }).map((a) => a.join(""))), (s) => {
        expect(dcosLabel(s)).toBe(erlangLabel(s));
      }),
      { numRuns: 2000 },
    );
  });
});

describe("VIP-name vectors (mesos_state remap_test, as the VIP side asserted them)", () => {
  it("mesos_state remap_test vectors", () => {
    expect(dcosLabel("fd%gsf---gs7-f$gs--d7fddg-123")).toBe("fdgsf---gs7-fgs--d7fddg-123");
    expect(dcosLabel("4abc123")).toBe("4abc123");
    expect(dcosLabel("##fdgsf---gs7-fgs--d7fddg123456789012345678901234567890123456789-")).toBe(
      "fdgsf---gs7-fgs--d7fddg123456789012345678901234567890123456789");
    expect(dcosLabel("fd%gsf---gs7-f$gs--d7fddg123456789012345678901234567890123456789-123")).toBe(
      "fdgsf---gs7-fgs--d7fddg1234567890123456789012345678901234567891");
    expect(dcosLabel("89fdgsf---gs7-fgs--d7fddg---123")).toBe("89fdgsf---gs7-fgs--d7fddg---123");
    expect(dcosLabel("%%fdgsf---gs7-fgs--d7fddg123456789012345678901234567890123456789---123")).toBe(
      "fdgsf---gs7-fgs--d7fddg1234567890123456789012345678901234567891");
    expect(dcosLabel("-4abc123")).toBe("4abc123");
    expect(dcosLabel("89fdgsf---gs7-fgs--d7fddg-")).toBe("89fdgsf---gs7-fgs--d7fddg");
    expect(dcosLabel("0-0")).toBe("0-0");
    expect(dcosLabel("My_App.V2")).toBe("my-app-v2");
  });
  it("prop_allow_any_ascii: output is [a-z0-9-]*, ≤ 63 chars, no leading/trailing '-'", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary-ascii" }), (s) => {
        const l = dcosLabel(s);
        expect(l).toMatch(/^([a-z0-9]([a-z0-9-]*[a-z0-9])?)?$/);
        expect(l.length).toBeLessThanOrEqual(63);
      }),
    );
    expect(dcosDomainFrag("a..b.")).toBe("a.b");
  });
});

/**
 * mesos_state:label/1 as its clauses read: label(start|middle|terminate, Bin, Acc), one byte at a
 * time, A-Z lowered first. start skips to the first [a-z0-9]; middle keeps [a-z0-9], turns -_. into
 * `-` and, past 62 characters, strips trailing `-` and goes to terminate; terminate keeps only
 * [a-z0-9] until 63; the end strips trailing `-`.
 */
function erlangLabel(name: string): string {
  const bin = [...new TextEncoder().encode(name)];
  const lower = (c: number): number => (c >= 0x41 && c <= 0x5a ? c + 0x20 : c);
  const alnum = (c: number): boolean => (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39);
  const strip = (acc: string): string => acc.replace(/-+$/, "");
  const go = (phase: "start" | "middle" | "terminate", i: number, acc: string): string => {
    if (i >= bin.length) return strip(acc);
    const c = lower(bin[i] as number);
    switch (phase) {
      case "start":
        return alnum(c) ? go("middle", i, acc) : go("start", i + 1, acc);
      case "middle":
        if (acc.length > 62) return go("terminate", i, strip(acc));
        if (c === 0x2d || c === 0x5f || c === 0x2e) return go("middle", i + 1, `${acc}-`);
        return go("middle", i + 1, alnum(c) ? acc + String.fromCharCode(c) : acc);
      case "terminate":
        if (acc.length === 63) return strip(acc);
        return go("terminate", i + 1, alnum(c) ? acc + String.fromCharCode(c) : acc);
    }
  };
  return go("start", 0, "");
}
