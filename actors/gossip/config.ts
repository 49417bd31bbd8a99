// The `gossip` section of a node's config: owned here, composed by actors/node/config.ts. A light
// module (zod only), never the gossip runtime. Each key's `.describe()` is its line in docs/config.md.
import { z } from "zod";

export const gossipConfigSection = z
  .strictObject({
    detector: z
      .enum(["swim", "heartbeat"])
      .default("heartbeat")
      .describe(
        "Failure detector: `swim` (one probe per node per probeIntervalMs, indirect probes, suspicion with refutation; constant load per node, for large clusters) or `heartbeat` (every node beats to every other: n² messages per interval).",
      ),
    probeIntervalMs: z.number().int().positive().default(200).describe("swim: probe period, ms (stretched up to 9x by the node's own local health)."),
    probeTimeoutMs: z.number().int().positive().default(80).describe("swim: wait for a direct ack before asking others to probe, ms; below probeIntervalMs."),
    indirectProbes: z.number().int().nonnegative().default(3).describe("swim: members asked to probe an unanswering member for us."),
    suspicionMult: z.number().positive().default(3).describe("swim: a suspicion becomes death after suspicionMult x log10(n) x probeIntervalMs at least (up to 6x that without independent confirmations, and x(1 + local health) when our own probes fail)."),
    syncIntervalMs: z.number().int().positive().default(5000).describe("swim: push-pull of the whole member list with one member, ms (x log2(n/32) above 32 nodes)."),
    disconnectAdvisories: z
      .boolean()
      .default(true)
      .describe(
        "swim: also listen to the NATS server's client disconnect advisories: a node whose connection closes (its process exited, its socket was reset) is suspect on every node at once and dead disconnectGraceMs later unless it reconnects or is heard from. The users file of `dcnet creds` exports them into the nodes' account (docs/security.md, \"Disconnect advisories\"); on a server without that the subscription hears nothing and probes alone detect.",
      ),
    disconnectGraceMs: z.number().int().positive().default(500).describe("swim: a node whose connection the server saw close is dead this long (ms) after, unless it reconnects (a blip: nats.js reconnects at once) or is heard from."),
    heartbeatMs: z.number().int().positive().default(200).describe("Membership heartbeat interval, ms."),
    suspectAfterMs: z.number().int().positive().default(800).describe("A peer silent this long (ms, not counting our own stalls) is suspect."),
    deadAfterMs: z.number().int().positive().default(1600).describe("A peer silent this long (ms) is dead."),
    deadGraceMs: z.number().int().nonnegative().default(30_000).describe("A dead node's facts (and a restarted node's older facts) are removed this long (ms) after it was declared dead."),
    antiEntropyMs: z.number().int().positive().default(1000).describe("Digest exchange interval, ms; any missed delta is repaired within about one interval."),
    digestFanIn: z
      .number()
      .int()
      .positive()
      .default(16)
      .describe(
        "Digests each node hears per antiEntropyMs whatever the cluster size: with n live members each publishes its digest with probability digestFanIn/n per interval (all of them every interval up to digestFanIn members), so anti-entropy costs O(n) deliveries per interval instead of n²; a lasting difference is repaired about antiEntropyMs/2 after a digest first shows it.",
      ),
    syncTimeoutMs: z.number().int().positive().default(2000).describe("At start, local writes wait for the full sync at most this long (ms), e.g. when alone."),
    tombstoneTtlMs: z.number().int().positive().default(600_000).describe("A deleted key's causal context is forgotten this long (ms) after deletion."),
    maxPendingBytes: z
      .number()
      .int()
      .positive()
      .default(8 * 1024 * 1024)
      .describe("Above this many unsent bytes in the NATS client, writers wait for a flush (back-pressure)."),
    repairConcurrency: z.number().int().positive().default(4).describe("Bucket requests in flight during repair or full sync."),
    maxClockSkewMs: z
      .number()
      .int()
      .positive()
      .default(60_000)
      .describe(
        "A peer's clock may run ahead of ours by at most this much (ms): a delta, bucket page, digest or heartbeat carrying a stamp or incarnation further ahead is rejected and counted (dcnet_gossip_rejected_messages_total{reason=\"clock-skew\"}), and our clock never jumps past it.",
      ),
  })
  .prefault({});

declare module "../../config/index.js" {
  interface ConfigSections {
    gossip: z.output<typeof gossipConfigSection>;
  }
}
