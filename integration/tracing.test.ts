// One trace from `dcnet ctl` to the node: both processes export OTLP/HTTP to a receiver in the
// test (Jaeger speaks the same protocol); the node's span must be a child of the CLI's span.
import { afterAll, beforeAll, describe, expect, jest, test } from "@jest/globals";
import { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from "../testkit/otlp-receiver.js";
import { startNatsServer, type NatsServerHandle } from "./harness/nats-local.js";
import { spawnDcnet, runDcnet, isReady, type DcnetProcess } from "./support/dcnet-process.js";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "./support/ports.js";
import { dig } from "./support/dig.js";

jest.setTimeout(60_000);

describe("tracing - CLI request and node handling are one trace", () => {
  let receiver: OtlpReceiver;
  let server: NatsServerHandle;
  let node: DcnetProcess;
  let env: NodeJS.ProcessEnv;
  let dir: string;
  let dns: { host: string; port: number };

  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    server = await startNatsServer({});
    env = { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_BSP_SCHEDULE_DELAY: "100" };
    dir = mkdtempSync(join(tmpdir(), "dcnet-tracing-"));
    // every DNS query traced, so one dig is one span
    writeFileSync(join(dir, "node.yaml"), "dns:\n  traceEvery: 1\nmetrics:\n  listen: \"\"\n");
    dns = { host: "127.0.0.1", port: await freePort() };
    node = spawnDcnet(["node", "--config", join(dir, "node.yaml"), "--nats", server.url, "--id", "traced", "--cluster", "tc", "--dns-listen", `127.0.0.1:${dns.port}`], env);
    await node.waitForLine(isReady);
  });

  afterAll(async () => {
    await node?.stop();
    await server?.stop();
    await receiver?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test("ctl status → CLIENT span in the CLI, SERVER span on the node with the same trace id as its child", async () => {
    const r = await runDcnet(["ctl", "--nats", server.url, "--cluster", "tc", "--node", "traced", "status"], env);
    expect(r.code).toBe(0);
    const isClient = (s: ReceivedSpan) => s.kind === 3 && s.name.includes("dcnet.tc.admin.admin.traced.status");
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

  test("a task registered with ctl is one trace down to the DNS zone update that makes it answerable", async () => {
    writeFileSync(join(dir, "task.json"), JSON.stringify({ id: "traced-1", name: "web", framework: "shop", runtime: "native", agentIp: "10.1.0.1", taskIps: [], state: "running", ports: [] }));
    const r = await runDcnet(["ctl", "--nats", server.url, "--cluster", "tc", "--node", "traced", "task", "add", join(dir, "task.json")], env);
    expect(r.code).toBe(0);
    const isClient = (s: ReceivedSpan) => s.kind === 3 && s.name.includes("dcnet.tc.admin.admin.traced.task-add");
    const spans = await receiver.waitFor((all) => {
      const client = all.find(isClient);
      return client !== undefined && all.some((s) => s.name === "dns zone update" && s.traceId === client.traceId);
    }, 15_000);
    const client = spans.find(isClient) as ReceivedSpan;
    const update = spans.find((s) => s.name === "dns zone update" && s.traceId === client.traceId) as ReceivedSpan;
    expect(update.attributes["dns.zones"]).toContain("dcos.thisdcos.directory");
    expect(update.attributes["dcnet.store.key"]).toBe("tasks/traced/native/traced-1");
  });

  test("a DNS query is a SERVER span with its zone, rcode and whether it was forwarded", async () => {
    const answer = await dig(dns, ["web.shop.agentip.dcos.thisdcos.directory"]);
    expect(answer.answer.map((a) => a.data)).toEqual(["10.1.0.1"]);
    const spans = await receiver.waitFor((all) => all.some((s) => s.name === "dns A" && s.attributes["dns.question.name"] === "web.shop.agentip.dcos.thisdcos.directory"), 15_000);
    const span = spans.find((s) => s.name === "dns A" && s.attributes["dns.question.name"] === "web.shop.agentip.dcos.thisdcos.directory") as ReceivedSpan;
    expect(span.kind).toBe(2);
    expect(span.attributes).toMatchObject({ "dns.zone": "dcos.thisdcos.directory", "dns.rcode": "NOERROR", "dns.forwarded": false, "network.transport": "udp" });
  });
});
