import { describe, expect, it } from "@jest/globals";
import { z } from "zod";
import { isUpstream, parseUpstream, parseUpstreams, sameAddress, upstreamError, UpstreamParseError } from "./upstream.js";

describe("parseUpstream", () => {
  it.each([
    ["10.0.0.1", { host: "10.0.0.1", port: 53, family: 4, key: "10.0.0.1:53" }],
    [" 10.0.0.1:5353 ", { host: "10.0.0.1", port: 5353, family: 4, key: "10.0.0.1:5353" }],
    ["[2001:DB8::1]:5353", { host: "2001:db8::1", port: 5353, family: 6, key: "[2001:db8::1]:5353" }],
    ["[::1]", { host: "::1", port: 53, family: 6, key: "[::1]:53" }],
    ["2001:db8::1", { host: "2001:db8::1", port: 53, family: 6, key: "[2001:db8::1]:53" }],
  ])("%j", (input, out) => expect(parseUpstream(input)).toEqual(out));

  it.each([
    ["", /empty/],
    ["dns.example.com", /not an IP address/],
    ["dns.example.com:53", /not an IPv4 address/],
    ["10.0.0.1:0", /out of range/],
    ["10.0.0.1:65536", /out of range/],
    ["10.0.0.1:", /not a number/],
    ["10.0.0.1:5x", /not a number/],
    ["10.0.0.256", /not an IP address|not an IPv4/],
    ["[2001:db8::1", /missing "\]"/],
    ["[10.0.0.1]:53", /not an IPv6 address/],
    ["[::1]x", /expected ":port"/],
    ["[::1]:", /not a number/],
    ["1.2.3.4:53:53", /IPv6 with a port/],
  ])("rejects %j", (input, message) => {
    expect(() => parseUpstream(input)).toThrow(UpstreamParseError);
    expect(() => parseUpstream(input)).toThrow(message);
  });

  it("rejects duplicates in a list, however spelled", () => {
    expect(parseUpstreams(["10.0.0.1", "10.0.0.2:53"]).map((u) => u.key)).toEqual(["10.0.0.1:53", "10.0.0.2:53"]);
    expect(() => parseUpstreams(["10.0.0.1", "10.0.0.1:53"])).toThrow(/duplicate of 10.0.0.1:53/);
    expect(() => parseUpstreams(["[::1]", "::1"])).toThrow(/duplicate/);
  });
});

describe("validator", () => {
  it("returns a message or undefined", () => {
    expect(upstreamError("10.0.0.1:53")).toBeUndefined();
    expect(upstreamError("nope")).toMatch(/"nope"/);
    expect(isUpstream("[::1]:53")).toBe(true);
    expect(isUpstream("::1:53:x")).toBe(false);
  });

  it("plugs into zod", () => {
    const schema = z.array(
      z.string().superRefine((s, ctx) => {
        const message = upstreamError(s);
        if (message !== undefined) ctx.addIssue({ code: "custom", message });
      }),
    );
    expect(schema.safeParse(["10.0.0.1", "[::1]:5353"]).success).toBe(true);
    const bad = schema.safeParse(["10.0.0.1", "resolver.local"]);
    expect(bad.success).toBe(false);
    expect(bad.error?.issues[0]?.message).toMatch(/hostnames are not accepted/);
    expect(bad.error?.issues[0]?.path).toEqual([1]);
  });
});

describe("sameAddress", () => {
  it("compares IPv6 spellings, IPv4 exactly", () => {
    expect(sameAddress(parseUpstream("[2001:db8::1]:53"), "2001:db8:0:0:0:0:0:1")).toBe(true);
    expect(sameAddress(parseUpstream("[2001:db8::1]:53"), "2001:DB8::1")).toBe(true);
    expect(sameAddress(parseUpstream("[::ffff:1.2.3.4]:53"), "::ffff:102:304")).toBe(true);
    expect(sameAddress(parseUpstream("[2001:db8::1]:53"), "2001:db8::2")).toBe(false);
    expect(sameAddress(parseUpstream("10.0.0.1"), "10.0.0.1")).toBe(true);
    expect(sameAddress(parseUpstream("10.0.0.1"), "10.0.0.2")).toBe(false);
  });
});
