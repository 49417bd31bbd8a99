// OpenTelemetry tracing for one node: a private tracer provider exporting OTLP/HTTP (JSON).
// Nothing is registered globally except the context manager: three nodes can share one process, each with
// its own resource (node id), and W3C propagation is done by transport/trace-headers.ts without globals.
import { createRequire } from "node:module";
import { hostname } from "node:os";
import { context, type Tracer } from "@opentelemetry/api";
import type * as ContextAsyncHooks from "@opentelemetry/context-async-hooks";
import type * as OtlpHttp from "@opentelemetry/exporter-trace-otlp-http";
import type * as Resources from "@opentelemetry/resources";
import type * as SdkTraceNode from "@opentelemetry/sdk-trace-node";
import { VERSION } from "../config/version.js";
import { IntentSampler } from "./sampling.js";

// The SDK and the OTLP exporter (about 250 modules, 70 ms to load) are loaded only when tracing is on, so a
// `dcnet ctl` or a node that does not trace never pays for them (bench/cli-start.ts). These packages
// resolve to their CommonJS builds under `import` too, so require() gives the very same instances.
const load = createRequire(import.meta.url);
function sdk() {
  return {
    ...(load("@opentelemetry/context-async-hooks") as typeof ContextAsyncHooks),
    ...(load("@opentelemetry/exporter-trace-otlp-http") as typeof OtlpHttp),
    ...(load("@opentelemetry/resources") as typeof Resources),
    ...(load("@opentelemetry/sdk-trace-node") as typeof SdkTraceNode),
  };
}

const DEFAULT_SERVICE_NAME = "dcnet";
const DEFAULT_OTLP_ENDPOINT = "http://localhost:4318";

interface TracingOptions {
  readonly nodeId: string;
  readonly cluster: string;
  /** Turn tracing on even without an OTLP endpoint in the environment (then the default endpoint is used). */
  readonly enabled?: boolean;
  /** Environment to read OTEL_* from. Default process.env. */
  readonly env?: NodeJS.ProcessEnv;
  /** Sampling ratio of traces that background work starts (config tracing.backgroundRatio). Default 0: none. */
  readonly backgroundRatio?: number;
}

export interface Tracing {
  /** Undefined when tracing is off: callers then do no tracing work at all. */
  readonly tracer?: Tracer;
  readonly enabled: boolean;
  /** Flushes pending spans and stops the exporter. Safe to call when disabled and more than once. */
  shutdown(): Promise<void>;
}

/** On when asked for or when an OTLP endpoint is configured; OTEL_SDK_DISABLED / OTEL_TRACES_EXPORTER=none always win. */
export function tracingEnabled(opts: Pick<TracingOptions, "enabled" | "env">): boolean {
  const env = opts.env ?? process.env;
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === "true") return false;
  if (env.OTEL_TRACES_EXPORTER?.trim().toLowerCase() === "none") return false;
  return opts.enabled === true || nonEmpty(env.OTEL_EXPORTER_OTLP_ENDPOINT) || nonEmpty(env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT);
}

/** The signal-specific endpoint is used as is; the generic one gets /v1/traces appended (OTLP spec). */
export function tracesUrl(env: NodeJS.ProcessEnv): string {
  const specific = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim();
  if (specific) return specific;
  const base = env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim() || DEFAULT_OTLP_ENDPOINT;
  return `${base.replace(/\/+$/, "")}/v1/traces`;
}

/** OTEL_TRACES_SAMPLER_ARG as a ratio in [0, 1]; anything else means 1 (sample everything). */
export function samplerRatio(env: NodeJS.ProcessEnv): number {
  const raw = env.OTEL_TRACES_SAMPLER_ARG?.trim();
  if (!raw) return 1;
  const n = Number(raw);
  return Number.isFinite(n) && n >= 0 && n <= 1 ? n : 1;
}

export function startTracing(opts: TracingOptions): Tracing {
  const env = opts.env ?? process.env;
  if (!tracingEnabled(opts)) return { enabled: false, shutdown: async () => undefined };
  const { BatchSpanProcessor, NodeTracerProvider, OTLPTraceExporter, ParentBasedSampler, TraceIdRatioBasedSampler, defaultResource, resourceFromAttributes } = sdk();
  ensureContextManager();
  const resource = defaultResource().merge(resourceFromAttributes(resourceAttributes(opts, env)));
  // Roots only: ParentBased makes every span with a parent (here or on another node) follow it.
  const root = new IntentSampler(new TraceIdRatioBasedSampler(samplerRatio(env)), new TraceIdRatioBasedSampler(opts.backgroundRatio ?? 0));
  const provider = new NodeTracerProvider({
    resource,
    sampler: new ParentBasedSampler({ root }),
    // The http exporter sends OTLP/JSON, which Jaeger, the collector and the in-test receiver all accept.
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url: tracesUrl(env) }))],
  });
  let stopped: Promise<void> | undefined;
  return {
    enabled: true,
    tracer: provider.getTracer(DEFAULT_SERVICE_NAME, VERSION),
    shutdown: () => (stopped ??= provider.shutdown()),
  };
}

/**
 * What identifies the node in a backend: one service (`dcnet`), one instance per node
 * (`service.instance.id`, the semantic convention; Jaeger shows it with the process), on its host
 * (`host.name`). The names are written out: host.name is only in the incubating entry point of
 * @opentelemetry/semantic-conventions, which is not meant to be imported by libraries.
 */
export function resourceAttributes(opts: Pick<TracingOptions, "nodeId" | "cluster">, env: NodeJS.ProcessEnv, host: string = hostname()): Record<string, string> {
  return {
    "service.name": env.OTEL_SERVICE_NAME?.trim() || DEFAULT_SERVICE_NAME,
    "service.version": VERSION,
    "service.instance.id": opts.nodeId,
    "host.name": host,
    "dcnet.node.id": opts.nodeId,
    "dcnet.cluster": opts.cluster,
  };
}

// context.with() / startActiveSpan need a context manager, and the API holds exactly one per process. Installing
// it is the single global side effect of tracing; it is idempotent and harmless for nodes that do not trace.
let contextManagerInstalled = false;
function ensureContextManager(): void {
  if (contextManagerInstalled) return;
  contextManagerInstalled = true;
  context.setGlobalContextManager(new (sdk().AsyncLocalStorageContextManager)().enable());
}

function nonEmpty(v: string | undefined): boolean {
  return v !== undefined && v.trim() !== "";
}
