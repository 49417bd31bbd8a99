import { describe, expect, it } from "@jest/globals";
import { addArgs, delArgs, parseIpAddrJson, planAddresses } from "./addresses.js";

// `ip -j addr show` as iproute2 6.1 prints it (trimmed to the fields read).
const IP_JSON = JSON.stringify([
  { ifindex: 1, ifname: "lo", addr_info: [{ family: "inet", local: "127.0.0.1", prefixlen: 8, label: "lo" }, { family: "inet", local: "198.51.100.1", prefixlen: 32, label: "lo:dcnet" }, { family: "inet", local: "198.51.100.2", prefixlen: 32, label: "lo" }, { family: "inet6", local: "::1", prefixlen: 128 }] },
  { ifindex: 2, ifname: "eth0", addr_info: [{ family: "inet", local: "198.51.100.3", prefixlen: 24, label: "eth0" }, { family: "inet6", local: "fd00:0:0:0::53", prefixlen: 64 }] },
  { ifindex: 3, ifname: "eth1" },
]);

describe("resolver addresses", () => {
  it("reads every address of every interface from ip -j; garbage reads as none", () => {
    const all = parseIpAddrJson(IP_JSON);
    expect(all).toContainEqual({ ifname: "lo", local: "198.51.100.1", prefixlen: 32, label: "lo:dcnet" });
    expect(all).toHaveLength(6);
    expect(parseIpAddrJson("not json")).toEqual([]);
    expect(parseIpAddrJson('{"a":1}')).toEqual([]);
  });

  it("adds what is missing, owns what carries dcnet's label, adopts an operator's, and reports one on another interface as a conflict", () => {
    const plan = planAddresses(["198.51.100.1", "198.51.100.2", "198.51.100.3", "198.51.100.4", "fd00::53"], parseIpAddrJson(IP_JSON));
    expect(plan).toEqual([
      { address: "198.51.100.1", action: "own" },
      { address: "198.51.100.2", action: "adopt" },
      { address: "198.51.100.3", action: "conflict", on: "eth0", prefixlen: 24 },
      { address: "198.51.100.4", action: "add" },
      // the same IPv6 address written another way is the same address
      { address: "fd00::53", action: "conflict", on: "eth0", prefixlen: 64 },
    ]);
  });

  it("IPv4 goes on lo as a labelled /32, IPv6 as a /128 without DAD", () => {
    expect(addArgs("198.51.100.1")).toEqual(["addr", "add", "198.51.100.1/32", "dev", "lo", "label", "lo:dcnet"]);
    expect(addArgs("fd00::53")).toEqual(["-6", "addr", "add", "fd00::53/128", "dev", "lo", "nodad"]);
    expect(delArgs("198.51.100.1")).toEqual(["addr", "del", "198.51.100.1/32", "dev", "lo"]);
  });
});
