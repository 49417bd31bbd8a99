// The one config schema of a node. Each subsystem owns its section; defaults, units and the text
// of docs/config.md live here and nowhere else (dcos-net read untyped app envs at call time, with a
// copy-paste bug to show for it).
import { z } from "zod";

const id = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, "letters, digits, '_' or '-', at most 64");
const natsUrl = z.string().regex(/^(nats|tls):\/\/[^\s,]+$/, "a nats:// or tls:// URL");
const ms = z.number().int().nonnegative();

export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export const configSchema = z.strictObject({
  id: id.describe("Node id, unique in the cluster (flag --id, env DCNET_ID)."),
  cluster: id.default("dcnet").describe("Cluster name; every NATS subject starts with dcnet.<cluster> (env DCNET_CLUSTER)."),
  nats: z
    .strictObject({
      servers: z.array(natsUrl).min(1).default(["nats://127.0.0.1:4222"]).describe("NATS servers to use, any of them (flag --nats, env DCNET_NATS, comma separated)."),
      reconnectWaitMs: ms.default(250).describe("Base wait between reconnect attempts, ms; jitter is added. Reconnects never stop."),
    })
    .prefault({}),
  admin: z
    .strictObject({
      allowCrash: z.boolean().default(false).describe("Allow fault injection with `dcnet ctl crash` (env DCNET_ADMIN_ALLOW_CRASH)."),
    })
    .prefault({}),
  log: z.strictObject({ level: z.enum(LOG_LEVELS).default("info").describe("Log level; `dcnet ctl log-level` changes it at runtime (env DCNET_LOG_LEVEL).") }).prefault({}),
  tracing: z
    .strictObject({
      enabled: z.boolean().default(false).describe("Export spans over OTLP/HTTP even when no OTEL_EXPORTER_OTLP_* endpoint is set (env DCNET_TRACING)."),
    })
    .prefault({}),
  gossip: z
    .strictObject({
      heartbeatMs: z.number().int().positive().default(200).describe("Membership heartbeat interval, ms."),
      suspectAfterMs: z.number().int().positive().default(800).describe("A peer silent this long (ms, not counting our own stalls) is suspect."),
      deadAfterMs: z.number().int().positive().default(1600).describe("A peer silent this long (ms) is dead."),
      deadGraceMs: z.number().int().nonnegative().default(30_000).describe("A dead node's facts (and a restarted node's older facts) are removed this long (ms) after it was declared dead."),
      antiEntropyMs: z.number().int().positive().default(1000).describe("Digest exchange interval, ms; any missed delta is repaired within about one interval."),
      syncTimeoutMs: z.number().int().positive().default(2000).describe("At start, local writes wait for the full sync at most this long (ms), e.g. when alone."),
      tombstoneTtlMs: z.number().int().positive().default(600_000).describe("A deleted key's causal context is forgotten this long (ms) after deletion."),
      maxPendingBytes: z.number().int().positive().default(8 * 1024 * 1024).describe("Above this many unsent bytes in the NATS client, writers wait for a flush (back-pressure)."),
      repairConcurrency: z.number().int().positive().default(4).describe("Bucket requests in flight during repair or full sync."),
    })
    .prefault({}),
  mesos: z
    .strictObject({
      masters: z
        .array(z.string().regex(/^https?:\/\/[^\s,]+$/, "an http:// or https:// URL"))
        .default([])
        .describe("Mesos masters whose Operator API stream this node follows (on master nodes: the local master; flag --mesos, comma separated). Empty: no listener."),
      agentsReadinessMs: z.number().int().positive().default(600_000).describe("After a (re)subscription, wait at most this long (ms) for recovered agents to re-register before publishing."),
      tasksReadinessMs: z.number().int().nonnegative().default(10_000).describe("Then wait this long (ms) for their tasks before publishing the table."),
      agent: z.string().regex(/^https?:\/\/[^\s,]+$/, "an http:// or https:// URL").optional().describe("This node's Mesos agent (e.g. http://127.0.0.1:5051): polled for the tasks it runs (flag --mesos-agent, env DCNET_MESOS_AGENT). Unset: no agent poller."),
      token: z.string().min(1).optional().describe("Sent as `Authorization: token=<token>` to Mesos (env DCNET_MESOS_TOKEN)."),
      pollMs: z.number().int().positive().default(2000).describe("Agent poll interval, ms."),
      maxBackoffMs: z.number().int().positive().default(60_000).describe("After failures the poll interval doubles, with jitter, up to this (ms)."),
      timeoutMs: z.number().int().positive().default(10_000).describe("Timeout of one Mesos call, ms."),
    })
    .prefault({}),
  supervision: z
    .strictObject({
      intensity: z.number().int().positive().default(5).describe("Root supervisor: at most this many restarts within periodMs, else the node exits 1."),
      periodMs: z.number().int().positive().default(10_000).describe("Root supervisor restart window, ms."),
      handlerDeadlineMs: z.number().int().positive().default(30_000).describe("A message handler running longer than this (ms) is a crash."),
      shutdownTimeoutMs: z.number().int().positive().default(10_000).describe("Budget for the whole ordered shutdown on SIGTERM, ms."),
    })
    .prefault({}),
});

export type Config = z.infer<typeof configSchema>;
/** What a file, the environment or flags may give before defaults are applied. */
export type ConfigInput = z.input<typeof configSchema>;
