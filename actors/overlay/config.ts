// The `overlay` section of a node's config: owned here, composed by actors/node/config.ts. A light
// module (zod only), never the overlay runtime. Each key's `.describe()` is its line in docs/config.md.
// Defaults are DC/OS's `dcos` overlay (dcos-net.md §4).
import { z } from "zod";
import { OVERLAY_BUCKET } from "./model.js";

export const overlayConfigSection = z
  .strictObject({
    enabled: z
      .boolean()
      .default(false)
      .meta({ env: "DCNET_OVERLAY_ENABLED" })
      .describe("Run the overlay on this node: claim its subnet and VTEP, program VXLAN to every peer, serve the dcnet-cni plugin's network (env DCNET_OVERLAY_ENABLED). Off by default: it creates devices and routes in the host's network namespace; needs root."),
    name: z.string().regex(/^[a-z][a-z0-9-]{0,14}$/).default("dcos").describe("Overlay (CNI network) name."),
    subnet: z.cidrv4().default("9.0.0.0/8").describe("The overlay's IPv4 space; each node gets one subnet of it."),
    prefix: z.number().int().min(8).max(30).default(24).describe("Prefix length of a node's subnet (its first half for CNI containers on m-dcos, the second for Docker on d-dcos)."),
    vtepSubnet: z.cidrv4().default("44.128.0.0/20").describe("Addresses of the nodes' VTEPs (one each)."),
    ipv6: z.boolean().default(true).describe("Also give each node an IPv6 subnet and VTEP address (DC/OS's dcos6)."),
    subnet6: z.cidrv6().default("fd01:b::/64").describe("The overlay's IPv6 space; each node gets one subnet of it."),
    prefix6: z.number().int().min(64).max(120).default(80).describe("Prefix length of a node's IPv6 subnet (halved for m-dcos and d-dcos like the IPv4 one)."),
    vtepSubnet6: z.cidrv6().default("fd01:a::/64").describe("IPv6 addresses of the nodes' VTEPs."),
    macPrefix: z.string().regex(/^[0-9a-f]{2}:[0-9a-f]{2}:[0-9a-f]{2}$/).default("70:b3:d5").describe("First three bytes of a VTEP's MAC; the last three are the low 24 bits of its VTEP address, so unique VTEP addresses give unique MACs."),
    mtu: z.number().int().min(576).max(9000).optional().describe("Overlay MTU; default the underlay interface's MTU minus 50 (VXLAN over IPv4)."),
    directRouting: z
      .boolean()
      .default(false)
      .describe(
        "Route to peers whose underlay address is on this node's underlay subnet straight over the underlay, without VXLAN (flannel's DirectRouting, Calico's CrossSubnet): no encapsulation per packet; peers elsewhere, and IPv6 subnets over an IPv4 underlay, keep VXLAN. Only where the underlay delivers packets addressed to and from container addresses (a plain L2 segment; not a cloud network that checks source addresses), and set alike on every node.",
      ),
    bucket: z.string().regex(/^[-\w]+$/).default(OVERLAY_BUCKET).describe("JetStream KV bucket of the nodes' subnets and VTEP addresses (CP: no two nodes ever get the same)."),
    replicas: z.union([z.literal(1), z.literal(3), z.literal(5)]).default(1).describe("Replicas of that bucket when this node creates it: 3 in production clusters."),
    releaseGraceMs: z.number().int().positive().default(7 * 24 * 3_600_000).describe("A node absent from the overlay this long (ms; default 7 days) has its subnet and VTEP released for others; until then no node gets them (dcos-net's module never released them)."),
    releaseSweepMs: z.number().int().positive().default(60_000).describe("How often (ms) a node looks for departed nodes' allocations to release."),
    reconcileMs: z.number().int().positive().default(30_000).describe("Read the VXLAN device, neighbours, FDB and routes back this often (ms) and repair drift (dcos-net: 5 min)."),
    cniConfDir: z.string().min(1).default("/etc/cni/net.d").describe("Where the node writes the dcnet-cni network config (`<name>.conflist`) for container runtimes."),
    cniStateDir: z.string().min(1).default("/var/lib/dcnet/cni").describe("Where dcnet-cni keeps its address leases."),
    cniSocket: z.string().min(1).max(107).optional().describe("Unix socket (root-only) on which the node answers dcnet-cni calls handed over by the compiled plugin front end (dist/cni-shim/dcnet-cni), so an ADD does not start Node.js; default `<cniStateDir>/cni.sock`. The front end looks there (the default cniStateDir) or in its DCNET_CNI_SOCKET environment variable, and runs the Node.js plugin itself when no node answers."),
    docker: z.string().min(1).optional().describe("Docker Engine API socket (e.g. /var/run/docker.sock). When set, the node creates the Docker network `<name>` (bridge d-dcos, the second half of its subnet, the overlay MTU) so `docker run --network <name>` containers join the overlay, as DC/OS did; unset: no Docker network."),
  })
  .prefault({});

declare module "../../config/index.js" {
  interface ConfigSections {
    overlay: z.output<typeof overlayConfigSection>;
  }
}
