// `thisnode.thisdcos.directory`: each node answers with its own addresses (dcos-net
// dcos_net_node.erl push_dns_records/2), so the zone is local and differs from node to node.
import { ZoneBuilder, type ZoneOptions } from "./builder.js";
import type { Zone } from "./types.js";

export const THISNODE_ORIGIN = "thisnode.thisdcos.directory";

interface ThisnodeInput {
  /** The node's private IP; the apex has no address while it is unknown. */
  readonly privateIp?: string;
  readonly publicIps: readonly string[];
}

/** Apex A/AAAA = private IP; `public.thisnode.thisdcos.directory` A/AAAA = every public IP. */
export function thisnodeZone(input: ThisnodeInput, opts: ZoneOptions = {}): Zone {
  const b = ZoneBuilder.dcos(THISNODE_ORIGIN, opts);
  if (input.privateIp !== undefined) b.addAddress(THISNODE_ORIGIN, input.privateIp);
  for (const ip of input.publicIps) b.addAddress(`public.${THISNODE_ORIGIN}`, ip);
  return b.build();
}
