import { describe, expect, it } from "@jest/globals";
import fc from "fast-check";
import { formatIp, parseIp, V6_MAX } from "./ip.js";

/** The platform's serialiser, for comparison (what DNS's canonicalIp uses). */
const urlHost = (s: string) => new URL(`http://[${s}]/`).hostname.slice(1, -1);

describe("parseIp / formatIp", () => {
  it.each([
    ["11.0.0.0", "ip", 0x0b000000n],
    ["11.255.255.254", "ip", 0x0bfffffen],
    ["fd01:c::", "ip6", 0xfd01000c000000000000000000000000n],
    ["fd01:c::ffff:ffff:ffff:ffff", "ip6", 0xfd01000c00000000ffffffffffffffffn],
    ["::", "ip6", 0n],
    ["::ffff:1.2.3.4", "ip6", 0xffff01020304n],
    ["FD01:000C:0:0:0:0:0:1", "ip6", 0xfd01000c000000000000000000000001n],
  ] as const)("%s", (text, family, value) => {
    expect(parseIp(text)).toEqual({ family, value });
  });

  it.each(["", "11.0.0", "11.0.0.256", "011.0.0.1", "1.2.3.4.5", "fd01::c::1", "fd01:c", "1:2:3:4:5:6:7:8:9", "12345::", "::1.2.3", "1.2.3.4::", "g::1", ":1::"])("refuses %j", (text) => {
    expect(parseIp(text)).toBeUndefined();
  });

  it("writes IPv6 in the canonical form (RFC 5952), the same text as the WHATWG URL serialiser", () => {
    expect(formatIp("ip6", 0xfd01000c000000000000000000000000n)).toBe("fd01:c::");
    expect(formatIp("ip6", 0x20010db8000000010000000000000001n)).toBe("2001:db8:0:1::1"); // the first of two equal runs
    expect(formatIp("ip6", 0x20010db8000100000000000100000001n)).toBe("2001:db8:1::1:0:1");
    expect(formatIp("ip6", 0x20010db8000100010001000100010001n)).toBe("2001:db8:1:1:1:1:1:1");
    expect(formatIp("ip6", 0x20010db8000000010001000100010001n)).toBe("2001:db8:0:1:1:1:1:1"); // one zero group stays
    // Groups that are often zero, so the runs and ties come up.
    const group = fc.oneof(fc.constant(0), fc.constant(0), fc.integer({ min: 0, max: 0xffff }));
    fc.assert(
      fc.property(fc.array(group, { minLength: 8, maxLength: 8 }), (gs) => {
        const v = gs.reduce((acc, g) => (acc << 16n) | BigInt(g), 0n);
        const text = formatIp("ip6", v);
        expect(text).toBe(urlHost(text));
        expect(parseIp(text)).toEqual({ family: "ip6", value: v });
      }),
      { numRuns: 2000 },
    );
  });

  it("IPv4 round-trips", () => {
    fc.assert(
      fc.property(fc.ipV4(), (text) => {
        const p = parseIp(text);
        expect(p?.family).toBe("ip");
        expect(formatIp("ip", p!.value)).toBe(text);
      }),
    );
  });

  it("reads any IPv6 text fast-check writes as the URL parser does", () => {
    fc.assert(
      fc.property(fc.ipV6(), (text) => {
        const p = parseIp(text);
        expect(p?.family).toBe("ip6");
        expect(formatIp("ip6", p!.value)).toBe(urlHost(text));
      }),
      { numRuns: 1000 },
    );
  });

  it("refuses values outside the family", () => {
    expect(() => formatIp("ip", 1n << 32n)).toThrow(RangeError);
    expect(() => formatIp("ip6", V6_MAX + 1n)).toThrow(RangeError);
  });
});
