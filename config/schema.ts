// The one config schema of a node. Each subsystem owns its section; defaults and units live here
// and nowhere else (dcos-net read untyped app envs at call time, with a copy-paste bug to show for it).
import { z } from "zod";

const id = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, "letters, digits, '_' or '-', at most 64");
const natsUrl = z.string().regex(/^(nats|tls):\/\/[^\s,]+$/, "a nats:// or tls:// URL");
const ms = z.number().int().nonnegative();

export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export const configSchema = z.strictObject({
  /** Node id, unique in the cluster. */
  id,
  /** Cluster name; every NATS subject starts with dcnet.<cluster>. */
  cluster: id.default("dcnet"),
  nats: z
    .strictObject({
      servers: z.array(natsUrl).min(1).default(["nats://127.0.0.1:4222"]),
      /** Base wait between reconnect attempts (ms); jitter is added. */
      reconnectWaitMs: ms.default(250),
    })
    .prefault({}),
  admin: z
    .strictObject({
      /** Fault injection (`dcnet ctl crash`). Off unless a test or an operator turns it on. */
      allowCrash: z.boolean().default(false),
    })
    .prefault({}),
  log: z.strictObject({ level: z.enum(LOG_LEVELS).default("info") }).prefault({}),
  tracing: z
    .strictObject({
      /** Export spans over OTLP/HTTP even when no OTEL_EXPORTER_OTLP_* endpoint is set. */
      enabled: z.boolean().default(false),
    })
    .prefault({}),
  supervision: z
    .strictObject({
      /** Root supervisor: at most `intensity` restarts within `periodMs`, else the node exits non-zero. */
      intensity: z.number().int().positive().default(5),
      periodMs: z.number().int().positive().default(10_000),
      /** A message handler running longer than this is a crash. */
      handlerDeadlineMs: z.number().int().positive().default(30_000),
      /** SIGTERM: the whole ordered shutdown must finish within this, else the process exits anyway. */
      shutdownTimeoutMs: z.number().int().positive().default(10_000),
    })
    .prefault({}),
});

export type Config = z.infer<typeof configSchema>;
/** What a file, the environment or flags may give before defaults are applied. */
export type ConfigInput = z.input<typeof configSchema>;
