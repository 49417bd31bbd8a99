// One trace from `dcnet ctl` to the node: both processes export OTLP/HTTP to a receiver in the
// test (Jaeger speaks the same protocol); the node's span must be a child of the CLI's span.
import { afterAll, beforeAll, describe, expect, jest, test } from "@jest/globals";
import { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from "../observability/otlp-receiver.js";
import { startNatsServer, type NatsServerHandle } from "./harness/nats-local.js";
import { spawnDcnet, runDcnet, isReady, type DcnetProcess } from "./support/dcnet-process.js";

jest.setTimeout(60_000);

describe("tracing - CLI request and node handling are one trace", () => {
  let receiver: OtlpReceiver;
  let server: NatsServerHandle;
  let node: DcnetProcess;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    server = await startNatsServer({});
    env = { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_BSP_SCHEDULE_DELAY: "100" };
    node = spawnDcnet(["node", "--nats", server.url, "--id", "traced", "--cluster", "tc"], env);
    await node.waitForLine(isReady);
  });

  afterAll(async () => {
    await node?.stop();
    await server?.stop();
    await receiver?.close();
  });

  test("ctl status → CLIENT span in the CLI, SERVER span on the node with the same trace id as its child", async () => {
    const r = await runDcnet(["ctl", "--nats", server.url, "--cluster", "tc", "--node", "traced", "status"], env);
    expect(r.code).toBe(0);
    const isClient = (s: ReceivedSpan) => s.kind === 3 && s.name.includes("dcnet.tc.admin.traced.status");
    const isServer = (s: ReceivedSpan) => s.kind === 2 && s.name === "admin status";
    const spans = await receiver.waitFor((all) => all.some(isClient) && all.some(isServer), 15_000);
    const client = spans.find(isClient) as ReceivedSpan;
    const handled = spans.filter(isServer).find((s) => s.traceId === client.traceId);
    expect(handled).toBeDefined();
    expect(handled?.parentSpanId).toBe(client.spanId);
    expect(client.resource["service.name"]).toBe("dcnet");
    expect(handled?.resource["service.name"]).toBe("dcnet");
    expect(handled?.resource["dcnet.node.id"]).toBe("traced");
    expect(handled?.resource["dcnet.cluster"]).toBe("tc");
    expect(String(client.resource["dcnet.node.id"])).toMatch(/^ctl-\d+$/);
  });
});
