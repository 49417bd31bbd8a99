// The `l4lb` section of a node's config: owned here, composed by actors/node/config.ts. A light
// module (zod only), never the L4LB runtime. Each key's `.describe()` is its line in docs/config.md.
import { z } from "zod";
import { NAMED_VIP_BUCKET } from "./names/bucket.js";
import { namedRangeProblem } from "./names/range.js";

const cidr = z.union([z.cidrv4(), z.cidrv6()]);

const range = (min: string, max: string, what: string, family: "ip" | "ip6") =>
  z
    .strictObject({ min: z.string().min(2).describe("First address of the range."), max: z.string().min(2).describe("Last address of the range.") })
    .superRefine((r, ctx) => {
      const problem = namedRangeProblem(r, family);
      if (problem) ctx.addIssue({ code: "custom", message: problem });
    })
    .default({ min, max })
    .describe(`${what} (inclusive, dcos-net min/max_named_ip${what.includes("IPv6") ? "6" : ""}).`);

export const l4lbConfigSection = z
  .strictObject({
    enabled: z
      .boolean()
      .default(false)
      .meta({ env: "DCNET_L4LB_ENABLED" })
      .describe(
        "Program this node's kernel (nftables) so connections to VIPs go straight to a backend (flag --l4lb, env DCNET_L4LB_ENABLED). Off by default, unlike dcos-net's enable_lb: it rewrites the host's NAT, so a node turns it on on purpose; needs root (CAP_NET_ADMIN), nft and conntrack.",
      ),
    selection: z.enum(["random", "source-hash"]).default("random").describe("How a new connection picks a serving backend: `random` (numgen) or `source-hash` (jhash of the client address: one client, one backend while the set is unchanged)."),
    maxBackends: z.number().int().min(1).max(256).default(64).describe("Most serving backends per VIP (one shared nft chain per count); a VIP with more is skipped with a logged, counted reason."),
    ipv6: z.boolean().default(true).describe("Program IPv6 VIPs and backends (dcos-net enable_ipv6)."),
    forbidden: z
      .array(cidr)
      .default(["9.0.0.0/8", "44.128.0.0/20"])
      .describe("No VIP may be inside these ranges (the overlay's container subnets and VTEP addresses: a VIP there would capture container traffic); such a VIP is skipped with a logged, counted reason."),
    namedV4: range("11.0.0.0", "11.255.255.254", "Addresses named VIPs get, IPv4", "ip"),
    namedV6: range("fd01:c::", "fd01:c::ffff:ffff:ffff:ffff", "Addresses named VIPs get, IPv6", "ip6"),
    bucket: z.string().regex(/^[-\w]+$/).default(NAMED_VIP_BUCKET).describe("JetStream KV bucket holding named-VIP addresses (cluster-wide, CP: every node gets the same address); node credentials are granted this name (`dcnet creds`), so a cluster that changes it must grant the new one."),
    replicas: z.union([z.literal(1), z.literal(3), z.literal(5)]).default(1).describe("Replicas of that bucket when this node creates it: 3 in production clusters, 1 on one server."),
    releaseGraceMs: z.number().int().nonnegative().default(300_000).describe("A named VIP's address is released this long (ms) after the VIP last had backends, so tasks restarting keep their VIP's address (dcos-net frees it at once)."),
    reconcileMs: z.number().int().positive().default(30_000).describe("Read the kernel's L4LB tables back this often (ms), compare with the desired state and repair drift (dcos-net: 30 s, and it never read IPVS back)."),
    conntrackFlush: z.boolean().default(true).describe("Delete conntrack entries of removed backends (UDP: every backend leaving the serving set; TCP: backends gone), so clients fail over in one round trip."),
    nft: z.string().min(1).default("nft").describe("The nft binary."),
    nftBackend: z
      .enum(["auto", "lib", "cli"])
      .default("auto")
      .describe(
        "How the L4LB drives nftables: `auto` applies transactions in process through libnftables (Debian libnftables1, a dependency of nftables: no process per change, ~1 ms instead of ~20 at 10,000 VIPs) and reads tables back with the nft binary, each falling back to the other when missing; `lib` does both in process; `cli` runs the nft binary for both. The library is used only while l4lb.nft is the plain `nft`.",
      ),
    conntrack: z.string().min(1).default("conntrack").describe("The conntrack binary (Debian package conntrack)."),
  })
  .prefault({});

declare module "../../config/index.js" {
  interface ConfigSections {
    l4lb: z.output<typeof l4lbConfigSection>;
  }
}
