import { describe, it, expect } from "@jest/globals";
import fc from "fast-check";
import { canonicalIp, firstCidr, inCidr, ipCache, isIpv4, parseCidr, type Cidr } from "./ip.js";

describe("canonicalIp", () => {
  it("gives the kernel's text: IPv4 as is, IPv6 compressed lower case", () => {
    expect(canonicalIp("11.0.0.1")).toEqual({ family: "ip", text: "11.0.0.1" });
    expect(canonicalIp("FD01:000C:0:0::0001")).toEqual({ family: "ip6", text: "fd01:c::1" });
    expect(canonicalIp("::ffff:1.2.3.4")).toEqual({ family: "ip6", text: "::ffff:102:304" });
  });
  it.each(["011.0.0.1", "11.0.0.256", "11.0.0", "1.2.3.4.", ".1.2.3.4", "1..2.3", "1.2.3.4.5", "fd01::1::2", "x", "", "1.2.3.4/8"])("rejects %j", (s) => {
    expect(canonicalIp(s)).toBeUndefined();
    expect(ipCache()(s)).toBeUndefined();
  });
});

/** Reference: the address as a BigInt. */
function big(text: string): bigint {
  if (!text.includes(":")) return text.split(".").reduce((a, o) => (a << 8n) | BigInt(o), 0n);
  const [h = "", t] = text.split("::");
  const hs = h ? h.split(":") : [];
  const ts = t ? t.split(":") : [];
  return [...hs, ...Array<string>(8 - hs.length - ts.length).fill("0"), ...ts].reduce((a, g) => (a << 16n) | BigInt(parseInt(g, 16)), 0n);
}

describe("isIpv4", () => {
  it("agrees with a strict dotted-quad regex on every string", () => {
    const strict = /^(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(\.(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}$/;
    fc.assert(fc.property(fc.oneof(fc.ipV4(), fc.ipV4Extended(), fc.stringMatching(/^[0-9.]{0,16}$/), fc.string()), (s) => expect(isIpv4(s)).toBe(strict.test(s))));
  });
});

describe("inCidr", () => {
  it("tests the prefix only", () => {
    const overlay = parseCidr("9.0.0.0/8") as Cidr;
    const vtep = parseCidr("44.128.0.0/20") as Cidr;
    expect(inCidr("9.255.1.1", overlay)).toBe(true);
    expect(inCidr("10.0.0.1", overlay)).toBe(false);
    expect(inCidr("44.128.15.255", vtep)).toBe(true);
    expect(inCidr("44.128.16.0", vtep)).toBe(false);
    expect(firstCidr("fd01:c::1", [overlay, parseCidr("fd01:c::/64") as Cidr])?.text).toBe("fd01:c::/64");
    expect(inCidr("fd01:c:0:1::1", parseCidr("fd01:c::/64") as Cidr)).toBe(false);
  });
  it("agrees with a BigInt reference for every prefix length", () => {
    fc.assert(
      fc.property(fc.oneof(fc.ipV4(), fc.ipV6()), fc.oneof(fc.ipV4(), fc.ipV6()), fc.integer({ min: 0, max: 128 }), (a, net, bits) => {
        const ip = canonicalIp(a);
        const n = canonicalIp(net);
        if (!ip || !n) return;
        const max = n.family === "ip" ? 32 : 128;
        const c = parseCidr(`${n.text}/${Math.min(bits, max)}`) as Cidr;
        const shift = BigInt(max - Math.min(bits, max));
        const want = ip.family === n.family && big(ip.text) >> shift === big(n.text) >> shift;
        expect(inCidr(ip.text, c)).toBe(want);
      }),
    );
  });
  it("rejects malformed CIDRs", () => {
    for (const c of ["9.0.0.0/33", "9.0.0.0/x", "nine/8", "fd01::/129"]) expect(parseCidr(c)).toBeUndefined();
  });
});
