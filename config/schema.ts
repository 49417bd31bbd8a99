// The base of a node's config: the keys of the lower layers (identity, NATS transport, logging,
// tracing, supervision), which no subsystem owns. Each subsystem under actors/ owns its section in
// its own `config.ts`; compose.ts joins them, and the node (actors/node/config.ts) names which ones.
// Defaults, units and the text of docs/config.md live with each key and nowhere else (dcos-net read
// untyped app envs at call time, with a copy-paste bug to show for it).
import { z } from "zod";

// A node or cluster id; the transport puts it into NATS subjects.
const id = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, "letters, digits, '_' or '-', at most 64");
const natsUrl = z.string().regex(/^(nats|tls):\/\/[^\s,]+$/, "a nats:// or tls:// URL");
const ms = z.number().int().nonnegative();

export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

// Key order here is the order of docs/config.md; the sections follow, in the node's order.
// `.meta({ env })` names the DCNET_* variable that sets a key (load.ts reads it from here).
export const baseConfigShape = {
  id: id.meta({ env: "DCNET_ID" }).describe("Node id, unique in the cluster (flag --id, env DCNET_ID)."),
  cluster: id.default("dcnet").meta({ env: "DCNET_CLUSTER" }).describe("Cluster name; every NATS subject starts with dcnet.<cluster> (env DCNET_CLUSTER)."),
  nats: z
    .strictObject({
      servers: z
        .array(natsUrl)
        .min(1)
        .default(["nats://127.0.0.1:4222"])
        .meta({ env: "DCNET_NATS" })
        .describe("NATS servers to use, any of them (flag --nats, env DCNET_NATS, comma separated)."),
      reconnectWaitMs: ms.default(250).describe("Base wait between reconnect attempts, ms; jitter is added. Reconnects never stop."),
      credentials: z
        .string()
        .min(1)
        .optional()
        .meta({ env: "DCNET_NATS_CREDENTIALS" })
        .describe(
          "This node's NATS credential: the bundle `dcnet creds node <id>` writes (CA, certificate, key; mode 0600). The connection uses TLS with its certificate; its node id and cluster must be this node's (flag --creds, env DCNET_NATS_CREDENTIALS). See docs/security.md.",
        ),
      insecure: z
        .boolean()
        .default(false)
        .meta({ env: "DCNET_NATS_INSECURE" })
        .describe("Run against a NATS server that does not require authentication (anyone on it can impersonate nodes and run admin ops); logged as a warning at every start. Without it such a server is refused, exit 2 (flag --insecure, env DCNET_NATS_INSECURE)."),
    })
    .prefault({}),
  log: z
    .strictObject({
      level: z.enum(LOG_LEVELS).default("info").meta({ env: "DCNET_LOG_LEVEL" }).describe("Log level; `dcnet ctl log-level` changes it at runtime (env DCNET_LOG_LEVEL)."),
    })
    .prefault({}),
  tracing: z
    .strictObject({
      enabled: z.boolean().default(false).meta({ env: "DCNET_TRACING" }).describe("Export spans over OTLP/HTTP even when no OTEL_EXPORTER_OTLP_* endpoint is set (env DCNET_TRACING)."),
      backgroundRatio: z
        .number()
        .min(0)
        .max(1)
        .default(0)
        .meta({ env: "DCNET_TRACING_BACKGROUND_RATIO" })
        .describe(
          "Share (0 to 1) of background work that starts a trace: heartbeats, ticks, digests, anti-entropy rounds, sweeps, retries. 0, the default, traces none of it; changes (admin requests, task events, store writes and what they cause on every node) are sampled at OTEL_TRACES_SAMPLER_ARG regardless. See docs/tracing.md (env DCNET_TRACING_BACKGROUND_RATIO).",
        ),
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
};

export type BaseConfig = z.output<z.ZodObject<typeof baseConfigShape>>;

/**
 * The subsystems' sections, one property each. Empty here on purpose: each `actors/<s>/config.ts`
 * adds its own by declaration merging,
 * `declare module "../../config/index.js" { interface ConfigSections { dns: z.output<typeof dnsConfigSection> } }`,
 * so `Config["dns"]` is typed everywhere while config/ imports nothing from actors/.
 * actors/node/config.ts checks at compile time that the schema it composes has exactly these keys.
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- filled by declaration merging
export interface ConfigSections {}

/** A validated node config: defaults applied, every key present (optional ones excepted). */
export type Config = BaseConfig & ConfigSections;
