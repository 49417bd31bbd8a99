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
});
