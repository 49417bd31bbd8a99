import { describe, expect, it } from "@jest/globals";
import { conflictAdvice, portHolders } from "./port-holder.js";

// `ss -H -lnp -u` (iproute2 6.1).
const SS = [
  'UNCONN 0      0         127.0.0.53%lo:53        0.0.0.0:*    users:(("systemd-resolve",pid=411,fd=13))',
  'UNCONN 0      0          198.51.100.2:53        0.0.0.0:*    users:(("dnsmasq",pid=977,fd=4))',
  'UNCONN 0      0               0.0.0.0:5353      0.0.0.0:*    users:(("avahi-daemon",pid=500,fd=12))',
  'UNCONN 0      0                     *:53              *:*    users:(("unbound",pid=12,fd=3))',
  "UNCONN 0      0          198.51.100.1:53        0.0.0.0:*",
].join("\n");

describe("who holds port 53", () => {
  it("finds sockets on the address itself or on a wildcard, with process and pid when ss shows them", () => {
    expect(portHolders(SS, "198.51.100.2", 53)).toEqual([
      { local: "198.51.100.2:53", process: "dnsmasq", pid: 977 },
      { local: "*:53", process: "unbound", pid: 12 },
    ]);
    expect(portHolders(SS, "198.51.100.1", 53)).toEqual([{ local: "*:53", process: "unbound", pid: 12 }, { local: "198.51.100.1:53" }]);
    expect(portHolders(SS, "198.51.100.9", 5353)).toEqual([{ local: "0.0.0.0:5353", process: "avahi-daemon", pid: 500 }]);
  });

  it("the advice names the holder, the address and what to do", () => {
    const text = conflictAdvice("198.51.100.2", 53, "udp", [{ local: "198.51.100.2:53", process: "dnsmasq", pid: 977 }]);
    expect(text).toContain("port 53/udp on resolver address 198.51.100.2 is taken by dnsmasq (pid 977) on 198.51.100.2:53");
    expect(text).toContain("dns.resolver.addresses");
    expect(conflictAdvice("198.51.100.2", 53, "tcp", [])).toContain("another socket");
  });
});
