// The network config the node writes for container runtimes (`<cniConfDir>/<name>.conflist`): the
// dcnet-cni plugin on bridge m-dcos with the first half of this node's subnets (v4 and v6), the overlay's MTU,
// and the port-mapping capability (bridge mode). Pure: the applier writes what this returns.
import { formatIp } from "../../config/ip.js";
import type { Config } from "../../config/index.js";
import { CNI_BRIDGE, type NodeOverlay } from "./model.js";
import { parseCidr, parseCidr4 } from "./alloc.js";

/** The result's `dns` for containers: the resolver addresses (glibc reads 3), search, options; none when dns.resolver is off. */
export function containerDns(dns: Config["dns"] | undefined): { nameservers: string[]; search?: string[]; options?: string[] } | undefined {
  if (!dns?.enabled || !dns.resolver.enabled) return undefined;
  return {
    nameservers: dns.resolver.addresses.slice(0, 3),
    ...(dns.resolvConf.search.length > 0 ? { search: [...dns.resolvConf.search] } : {}),
    ...(dns.resolvConf.options.length > 0 ? { options: [...dns.resolvConf.options] } : {}),
  };
}

export function cniNetworkConfig(cfg: Config["overlay"], own: NodeOverlay, mtu: number, dnsCfg?: Config["dns"]): Record<string, unknown> {
  const dns = containerDns(dnsCfg);
  const net = parseCidr4(own.subnet);
  const half = net ? net.prefix + 1 : 25;
  const base = net ? net.base : 0n;
  // IPv6 likewise: the first half of the node's /80 for containers, its first address the gateway.
  const net6 = own.subnet6 ? parseCidr(own.subnet6) : undefined;
  const v6 = net6 ? { subnet6: `${formatIp("ip6", net6.base)}/${net6.prefix + 1}`, gateway6: formatIp("ip6", net6.base + 1n) } : {};
  return {
    cniVersion: "1.0.0",
    name: cfg.name,
    plugins: [
      {
        type: "dcnet-cni",
        bridge: CNI_BRIDGE,
        subnet: `${formatIp("ip", base)}/${half}`,
        gateway: formatIp("ip", base + 1n),
        ...v6,
        mtu,
        dataDir: `${cfg.cniStateDir}/${cfg.name}`,
        ...(dns ? { dns } : {}),
        capabilities: { portMappings: true },
      },
    ],
  };
}
