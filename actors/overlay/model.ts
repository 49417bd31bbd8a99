// The overlay's pure vocabulary (its light door, actors/README.md): a node's overlay facts as the
// store carries them, and the names and numbers DC/OS gave the `dcos` overlay (dcos-net.md §4,
// dataplane.md §2). The renderer (render/), the actors, the CNI plugin and the admin ops speak these.

/** The VXLAN device, its VNI and UDP port (DC/OS: vtep1024, 1024, 64000). */
export const VTEP_DEVICE = "vtep1024";
export const VNI = 1024;
export const VXLAN_PORT = 64000;
/** Bridges of a node's subnet: CNI containers on the first half, Docker (CNM) on the second, as DC/OS. */
export const CNI_BRIDGE = "m-dcos";
export const DOCKER_BRIDGE = "d-dcos";
/** VXLAN costs 50 bytes of the underlay's MTU (IPv4 outer header). */
export const VXLAN_OVERHEAD = 50;

/** The JetStream KV bucket of the nodes' subnets and VTEP addresses (overlay.bucket's default); node credentials are granted it. */
export const OVERLAY_BUCKET = "dcnet-overlay";

/** Store key prefix of the overlay facts: `overlay/<node>` (fields: `overlay`, an LWW NodeOverlay). */
export const OVERLAY_PREFIX = "overlay/";

/**
 * One node's overlay facts, replicated to every node: what a peer needs to reach this node's
 * containers (1 neighbour + 1 FDB entry + 1 route per subnet, as flannel and dcos-net program).
 */
export interface NodeOverlay {
  readonly node: string;
  /** Underlay address the VXLAN packets go to. */
  readonly agentIp: string;
  /** This node's VTEP address (in the VTEP subnet, e.g. 44.128.0.7) and MAC (70:b3:d5:…). */
  readonly vtepIp: string;
  readonly vtepMac: string;
  readonly vtepIp6?: string;
  /** This node's subnets of the overlay: `9.0.7.0/24`, `fd01:b::7:0:0:0/80`. */
  readonly subnet: string;
  readonly subnet6?: string;
}

/** What this node's kernel must hold for the overlay: its own devices, then one entry set per peer. */
export interface OverlayDesired {
  readonly vtep: {
    readonly name: string;
    readonly vni: number;
    readonly port: number;
    /** Underlay source address. */
    readonly local: string;
    readonly mac: string;
    readonly mtu: number;
    /** `44.128.0.7/20`, `fd01:a::7/64`. */
    readonly addr: string;
    readonly addr6?: string;
  };
  /** m-dcos (first half of the subnet) and d-dcos (second half): gateway address with prefix. */
  readonly bridges: ReadonlyArray<{ readonly name: string; readonly addr: string; readonly addr6?: string; readonly mtu: number }>;
  /** By node id. */
  readonly peers: ReadonlyMap<string, NodeOverlay>;
  /**
   * With overlay.directRouting: this node's underlay device and its subnet. A peer whose underlay
   * address is on that subnet has its subnet of the underlay's family routed to that address over
   * the device, not over VXLAN (flannel's DirectRouting). Absent: every peer over VXLAN.
   */
  readonly direct?: DirectRouting;
}

export interface DirectRouting {
  readonly dev: string;
  /** `10.99.0.0/24`: network address and length. */
  readonly net: string;
}

/**
 * Routing protocol number of the overlay's routes over the underlay device (`proto 77`): the
 * read-back lists that device's routes with it, so it sees ours and never the host's own.
 * Unassigned in rtnetlink.h and iproute2's rt_protos.
 */
export const DIRECT_ROUTE_PROTO = 77;
