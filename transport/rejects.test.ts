import { describe, expect, it } from "@jest/globals";
import { pino } from "pino";
import { Registry } from "prom-client";
import { transportMetrics } from "./metrics.js";
import { RejectCounter } from "./rejects.js";

function capture(): { logger: pino.Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const logger = pino({ level: "info" }, { write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>) });
  return { logger, lines };
}

describe("RejectCounter", () => {
  it("counts every rejection in the node's registry and logs once per interval per (kind, reason)", async () => {
    const registry = new Registry();
    const { logger, lines } = capture();
    let now = 1_000;
    const rc = new RejectCounter({ metrics: transportMetrics(registry), logger, logIntervalMs: 10_000, now: () => now });
    const bad = { kind: "admin.ping", reason: "invalid-body" as const, message: "body: x", subject: "s" };
    for (let i = 0; i < 5; i++) rc.record(bad);
    rc.record({ ...bad, reason: "unknown-version" });
    expect(lines.map((l) => l.reason)).toEqual(["invalid-body", "unknown-version"]);
    now += 10_000;
    rc.record(bad);
    expect(lines).toHaveLength(3);
    expect(lines[2]).toMatchObject({ kind: "admin.ping", reason: "invalid-body", suppressed: 4, total: 6, msg: "rejected message: body: x" });

    const metric = await registry.getSingleMetricAsString("dcnet_transport_rejected_messages_total");
    expect(metric).toContain('dcnet_transport_rejected_messages_total{kind="admin.ping",reason="invalid-body"} 6');
    expect(metric).toContain('dcnet_transport_rejected_messages_total{kind="admin.ping",reason="unknown-version"} 1');
    expect(rc.snapshot()).toEqual([
      { kind: "admin.ping", reason: "invalid-body", count: 6 },
      { kind: "admin.ping", reason: "unknown-version", count: 1 },
    ]);
  });

  it("keeps nodes apart: two counters on two registries, and a second counter on the same registry reuses the metric", async () => {
    const { logger } = capture();
    const a = new Registry();
    const b = new Registry();
    new RejectCounter({ metrics: transportMetrics(a), logger }).record({ kind: "unknown", reason: "undecodable", message: "m" });
    expect(await b.getSingleMetricAsString("dcnet_transport_rejected_messages_total").catch(() => "absent")).not.toContain("undecodable");
    const again = new RejectCounter({ metrics: transportMetrics(a), logger });
    again.record({ kind: "unknown", reason: "undecodable", message: "m" });
    expect(await a.getSingleMetricAsString("dcnet_transport_rejected_messages_total")).toContain('reason="undecodable"} 2');
  });
});
