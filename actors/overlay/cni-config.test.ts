import { describe, expect, it } from "@jest/globals";
import { validateConfig } from "../node/config.js";
import { cniNetworkConfig } from "./cni-config.js";

describe("CNI network config", () => {
  it("gives dcnet-cni the first half of the node's subnets, their gateways, the MTU and the lease folder", () => {
    const cfg = validateConfig({ id: "n1", overlay: { enabled: true } }).overlay;
    const conf = cniNetworkConfig(cfg, { node: "n1", agentIp: "10.0.0.1", vtepIp: "44.128.0.7", vtepMac: "70:b3:d5:80:00:07", subnet: "9.0.7.0/24", subnet6: "fd01:b:0:0:7::/80", vtepIp6: "fd01:a::7" }, 1450);
    expect(conf).toEqual({
      cniVersion: "1.0.0",
      name: "dcos",
      plugins: [{ type: "dcnet-cni", bridge: "m-dcos", subnet: "9.0.7.0/25", gateway: "9.0.7.1", subnet6: "fd01:b:0:0:7::/81", gateway6: "fd01:b::7:0:0:1", mtu: 1450, dataDir: "/var/lib/dcnet/cni/dcos", capabilities: { portMappings: true } }],
    });
  });

  it("with dns.resolver on, carries dns: the resolver addresses (3 at most), search and options, which dcnet-cni returns in its result", () => {
    const full = validateConfig({ id: "n1", overlay: { enabled: true }, dns: { resolver: { enabled: true, addresses: ["198.51.100.1", "198.51.100.2", "198.51.100.3", "198.51.100.4"] }, resolvConf: { search: ["marathon.l4lb.thisdcos.directory"], options: ["timeout:1"] } } });
    const own = { node: "n1", agentIp: "10.0.0.1", vtepIp: "44.128.0.7", vtepMac: "70:b3:d5:80:00:07", subnet: "9.0.7.0/24" };
    const plugin = (cniNetworkConfig(full.overlay, own, 1450, full.dns).plugins as Array<Record<string, unknown>>)[0];
    expect(plugin?.dns).toEqual({ nameservers: ["198.51.100.1", "198.51.100.2", "198.51.100.3"], search: ["marathon.l4lb.thisdcos.directory"], options: ["timeout:1"] });
    const off = validateConfig({ id: "n1", overlay: { enabled: true } });
    expect((cniNetworkConfig(off.overlay, own, 1450, off.dns).plugins as Array<Record<string, unknown>>)[0]).not.toHaveProperty("dns");
  });
});
