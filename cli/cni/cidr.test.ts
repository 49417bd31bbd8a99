import { describe, it, expect } from "@jest/globals";
import { cidrText, derivedMacs, hostRange, parseCidr, poolSize, type Cidr } from "./cidr.js";

const c = (s: string, f: "ip" | "ip6" = "ip"): Cidr => {
  const r = parseCidr(s, f);
  if (typeof r === "string") throw new Error(r);
  return r;
};

describe("cni cidr", () => {
  it("parses and prints subnets; refuses host bits, wrong family, long prefixes", () => {
    expect(cidrText(c("9.0.7.0/25"))).toBe("9.0.7.0/25");
    expect(cidrText(c("fd01:b::7:0:0:0/81", "ip6"))).toBe("fd01:b:0:0:7::/81");
    expect(parseCidr("9.0.7.1/24", "ip")).toMatch(/host bits/);
    expect(parseCidr("9.0.7.0/33", "ip")).toMatch(/longer than 32/);
    expect(parseCidr("9.0.7.0/24", "ip6")).toMatch(/IPv6/);
    expect(parseCidr("9.0.7.0", "ip")).toMatch(/IPv4/);
  });

  it("a container may get neither the network, the broadcast nor the gateway address", () => {
    const net = c("9.0.7.0/25");
    expect(hostRange(net)).toEqual({ first: 0x09000701n, last: 0x0900077en });
    expect(poolSize(net, 0x09000701n)).toBe(125n);
    expect(poolSize(c("9.0.7.0/29"), 0x09000701n)).toBe(5n);
    // IPv6 has no broadcast address.
    expect(poolSize(c("fd00::/126", "ip6"), 1n << 120n)).toBe(3n);
  });

  it("MACs derive from the IPv4 address: unicast, locally administered, host end never below the container's", () => {
    expect(derivedMacs(0x09000705n)).toEqual({ container: "0a:58:09:00:07:05", host: "fe:58:09:00:07:05" });
  });
});
