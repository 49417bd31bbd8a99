// dcosLabel against mesos_state's own eunit table (dcos/mesos_state src/mesos_state.erl
// remap_test/0 and prop_allow_any_ascii/0) plus the dcos-net cases the zones rely on.
import { describe, expect, it } from "@jest/globals";
import fc from "fast-check";
import { dcosLabel } from "./labels.js";
import { rfc1123 } from "../mesos-dns/labels.js";

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
    expect(rfc1123(input)).not.toBe(dcosLabel(input));
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
});
