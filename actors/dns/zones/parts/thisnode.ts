// The `thisnode.thisdcos.directory` zone part: this node's own addresses, fixed by config and the
// address the node found, so it watches nothing and is built once per zone actor incarnation.
import { THISNODE_ORIGIN, thisnodeZone } from "../thisnode.js";
import type { ZonePart } from "../part.js";

interface ThisnodePartOptions {
  /** `dns.thisnode.ip`: overrides the address the node found (`ctx.nodeIp`). */
  readonly ip?: string | undefined;
  readonly publicIps: readonly string[];
}

export function thisnodePart(o: ThisnodePartOptions): ZonePart<undefined> {
  return {
    name: "thisnode",
    origins: [THISNODE_ORIGIN],
    watch: [],
    init: () => undefined,
    fold: () => false,
    build(_state, ctx) {
      const ip = o.ip ?? ctx.nodeIp;
      return [thisnodeZone({ ...(ip ? { privateIp: ip } : {}), publicIps: [...o.publicIps] }, ctx.defaults)];
    },
  };
}
