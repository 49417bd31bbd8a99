// Tracing end to end: a request over a real nats-server, spans exported over OTLP/HTTP JSON to an in-test receiver.
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { pino } from "pino";
import { Registry } from "prom-client";
import { z } from "zod";
import { startNatsServer, type NatsServerHandle } from "../integration/harness/nats-local.js";
import { defineKind, Transport, withServerSpan } from "../transport/index.js";
import { startOtlpReceiver, type OtlpReceiver } from "../testkit/otlp-receiver.js";
import { ROOT_CONTEXT, SpanKind, TraceFlags, trace } from "@opentelemetry/api";
import { AlwaysOnSampler, ParentBasedSampler, SamplingDecision, TraceIdRatioBasedSampler } from "@opentelemetry/sdk-trace-base";
import { resourceAttributes, samplerRatio, startTracing, tracesUrl, tracingEnabled, type Tracing } from "./tracing.js";
import { BACKGROUND_ATTR } from "./background.js";
import { IntentSampler } from "./sampling.js";

const ask = defineKind("test.ask", z.strictObject({ q: z.string() }));
const answer = defineKind("test.answer", z.strictObject({ a: z.string() }));
const silent = pino({ level: "silent" });
const CLIENT = 3;
const SERVER = 2;
const PRODUCER = 4;
const CONSUMER = 5;

describe("tracing - configuration", () => {
  it.each([
    [{}, undefined, false],
    [{}, true, true],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: "http://x:4318" }, undefined, true],
    [{ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "http://x:4318/v1/traces" }, undefined, true],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: "" }, undefined, false],
    [{ OTEL_SDK_DISABLED: "true" }, true, false],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: "http://x:4318", OTEL_TRACES_EXPORTER: "none" }, true, false],
  ])("env %j, enabled %j → %j", (env, enabled, want) => {
    expect(tracingEnabled({ env, ...(enabled === undefined ? {} : { enabled }) })).toBe(want);
  });

  it("derives the traces URL and sampler ratio from the environment", () => {
    expect(tracesUrl({})).toBe("http://localhost:4318/v1/traces");
    expect(tracesUrl({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://j:4318/" })).toBe("http://j:4318/v1/traces");
    expect(tracesUrl({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://j:4318", OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "http://t/x" })).toBe("http://t/x");
    expect(samplerRatio({})).toBe(1);
    expect(samplerRatio({ OTEL_TRACES_SAMPLER_ARG: "0.25" })).toBe(0.25);
    expect(samplerRatio({ OTEL_TRACES_SAMPLER_ARG: "2" })).toBe(1);
    expect(samplerRatio({ OTEL_TRACES_SAMPLER_ARG: "abc" })).toBe(1);
  });

  it("disabled: no tracer, shutdown is a no-op", async () => {
    const t = startTracing({ nodeId: "n", cluster: "c", env: {} });
    expect(t.enabled).toBe(false);
    expect(t.tracer).toBeUndefined();
    await t.shutdown();
  });
});

describe("tracing - sampling by intent (ParentBased over IntentSampler)", () => {
  const TRACE = "0af7651916cd43dd8448eb211c80319c";
  const sampler = (changeRatio: number, backgroundRatio: number) => new ParentBasedSampler({ root: new IntentSampler(new TraceIdRatioBasedSampler(changeRatio), new TraceIdRatioBasedSampler(backgroundRatio)) });
  const remote = (sampled: boolean) => trace.setSpanContext(ROOT_CONTEXT, { traceId: TRACE, spanId: "b7ad6b7169203331", traceFlags: sampled ? TraceFlags.SAMPLED : TraceFlags.NONE, isRemote: true });
  const decide = (s: ParentBasedSampler, ctx: typeof ROOT_CONTEXT, background: boolean) =>
    s.shouldSample(ctx, TRACE, "x", SpanKind.INTERNAL, background ? { [BACKGROUND_ATTR]: true } : {}, []).decision === SamplingDecision.RECORD_AND_SAMPLED;

  it.each([
    // [change ratio, background ratio, parent, background span, sampled]
    [1, 0, "none", false, true],
    [1, 0, "none", true, false],
    [1, 1, "none", true, true],
    [0, 1, "none", false, false],
    // A remote parent's decision wins over both ratios, for background spans too.
    [0, 0, "sampled", false, true],
    [0, 0, "sampled", true, true],
    [1, 1, "unsampled", false, false],
    [1, 1, "unsampled", true, false],
  ] as const)("change %d, background %d, parent %s, background span %s → sampled %s", (change, background, parent, bgSpan, want) => {
    const ctx = parent === "none" ? ROOT_CONTEXT : remote(parent === "sampled");
    expect(decide(sampler(change, background), ctx, bgSpan)).toBe(want);
  });

  it("names its delegates", () => {
    expect(new IntentSampler(new AlwaysOnSampler(), new TraceIdRatioBasedSampler(0)).toString()).toBe("IntentSampler{change=AlwaysOnSampler, background=TraceIdRatioBased{0}}");
  });

  it("identifies the node with the semantic conventions: service.instance.id and host.name", () => {
    expect(resourceAttributes({ nodeId: "agent-7", cluster: "prod" }, {}, "host-a")).toEqual({
      "service.name": "dcnet",
      "service.version": "0.1.0",
      "service.instance.id": "agent-7",
      "host.name": "host-a",
      "dcnet.node.id": "agent-7",
      "dcnet.cluster": "prod",
    });
  });
});

describe("tracing - over NATS", () => {
  let server: NatsServerHandle;
  let receiver: OtlpReceiver;
  const transports: Transport[] = [];
  const tracings: Tracing[] = [];

  beforeAll(async () => {
    [server, receiver] = await Promise.all([startNatsServer(), startOtlpReceiver()]);
  });
  afterAll(async () => {
    await Promise.all(transports.map((t) => t.close()));
    await Promise.all(tracings.map((t) => t.shutdown()));
    await Promise.all([server.stop(), receiver.close()]);
  });

  async function tracedNode(nodeId: string, env: NodeJS.ProcessEnv = { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url }): Promise<{ t: Transport; tracing: Tracing }> {
    const tracing = startTracing({ nodeId, cluster: "test", env });
    tracings.push(tracing);
    const t = await Transport.connect({ servers: [server.url], cluster: "test", nodeId, logger: silent, metrics: new Registry(), ...(tracing.tracer ? { tracer: tracing.tracer } : {}) });
    transports.push(t);
    return { t, tracing };
  }

  it("client and server spans share the trace; the server span's parent is the client span", async () => {
    const client = await tracedNode("cli");
    const responder = await tracedNode("srv");
    responder.t.subscribe("test.traced", [ask], (env, msg) => void responder.t.respond(msg, answer, { a: env.body.q }));
    await responder.t.nc.flush();
    await client.t.request("test.traced", ask, { q: "hi" }, [answer], { timeoutMs: 2000 });
    await Promise.all([client.tracing.shutdown(), responder.tracing.shutdown()]);

    const spans = await receiver.waitFor((s) => s.some((x) => x.name === "test.traced request") && s.some((x) => x.name === "test.traced process"));
    const c = spans.find((x) => x.name === "test.traced request")!;
    const s = spans.find((x) => x.name === "test.traced process")!;
    expect(c.kind).toBe(CLIENT);
    expect(s.kind).toBe(SERVER);
    expect(s.traceId).toBe(c.traceId);
    expect(s.parentSpanId).toBe(c.spanId);
    expect(c.parentSpanId).toBe("");
    expect(c.resource).toMatchObject({ "service.name": "dcnet", "service.version": "0.1.0", "dcnet.node.id": "cli", "dcnet.cluster": "test" });
    expect(s.resource).toMatchObject({ "dcnet.node.id": "srv" });
    expect(c.attributes).toMatchObject({ "messaging.system": "nats", "messaging.destination.name": "test.traced", "dcnet.message.kind": "test.ask" });
  });

  it("a raw receiver sees a W3C traceparent header and withServerSpan continues the trace", async () => {
    const client = await tracedNode("cli2");
    const responder = await tracedNode("srv2", { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_SERVICE_NAME: "dcnet-admin-test" });
    let traceparent = "";
    responder.t.nc.subscribe("test.raw", {
      callback: (_err, msg) => {
        traceparent = msg.headers?.get("traceparent") ?? "";
        void withServerSpan(responder.tracing.tracer!, "admin ping", msg.headers, async () => {
          msg.respond(responder.t.encode(answer, { a: "pong" }));
        });
      },
    });
    await responder.t.nc.flush();
    await client.t.request("test.raw", ask, { q: "ping" }, [answer], { timeoutMs: 2000 });
    await Promise.all([client.tracing.shutdown(), responder.tracing.shutdown()]);

    const spans = await receiver.waitFor((s) => s.some((x) => x.name === "admin ping"));
    const c = spans.find((x) => x.name === "test.raw request")!;
    const s = spans.find((x) => x.name === "admin ping")!;
    expect(traceparent).toBe(`00-${c.traceId}-${c.spanId}-01`);
    expect(s).toMatchObject({ kind: SERVER, traceId: c.traceId, parentSpanId: c.spanId });
    expect(s.resource["service.name"]).toBe("dcnet-admin-test");
  });

  it("publish is a PRODUCER span and the subscriber's handler a CONSUMER child of it", async () => {
    const pub = await tracedNode("pub");
    const sub = await tracedNode("sub");
    const got = new Promise<void>((resolve) => sub.t.subscribe("test.event", [ask], () => resolve()));
    await sub.t.nc.flush();
    pub.t.publish("test.event", ask, { q: "e" });
    await got;
    await new Promise((r) => setTimeout(r, 20)); // the consumer span ends just after the handler returns
    await Promise.all([pub.tracing.shutdown(), sub.tracing.shutdown()]);
    const spans = await receiver.waitFor((s) => s.some((x) => x.name === "test.event process"), 2000);
    const p = spans.find((x) => x.name === "test.event publish")!;
    const c = spans.find((x) => x.name === "test.event process")!;
    expect(p.kind).toBe(PRODUCER);
    expect(c).toMatchObject({ kind: CONSUMER, traceId: p.traceId, parentSpanId: p.spanId });
  });

  it("a node with ratio 0 still traces a request whose caller sampled it (remote parent honoured)", async () => {
    const client = await tracedNode("cli4");
    const responder = await tracedNode("srv4", { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_TRACES_SAMPLER_ARG: "0" });
    responder.t.subscribe("test.parent", [ask], (env, msg) => void responder.t.respond(msg, answer, { a: env.body.q }));
    await responder.t.nc.flush();
    await client.t.request("test.parent", ask, { q: "hi" }, [answer], { timeoutMs: 2000 });
    await Promise.all([client.tracing.shutdown(), responder.tracing.shutdown()]);
    const spans = await receiver.waitFor((s) => s.some((x) => x.name === "test.parent process"));
    const c = spans.find((x) => x.name === "test.parent request")!;
    expect(spans.find((x) => x.name === "test.parent process")).toMatchObject({ traceId: c.traceId, parentSpanId: c.spanId, resource: expect.objectContaining({ "service.instance.id": "srv4" }) });
  });

  it("sampler ratio 0 exports nothing and sends an unsampled traceparent", async () => {
    const before = receiver.spans().length;
    const client = await tracedNode("cli3", { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_TRACES_SAMPLER_ARG: "0" });
    let traceparent = "";
    client.t.nc.subscribe("test.unsampled", { callback: (_e, msg) => void ((traceparent = msg.headers?.get("traceparent") ?? ""), msg.respond(client.t.encode(answer, { a: "" }))) });
    await client.t.request("test.unsampled", ask, { q: "x" }, [answer], { timeoutMs: 2000 });
    await client.tracing.shutdown();
    expect(traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-00$/);
    expect(receiver.spans().length).toBe(before);
  });
});
