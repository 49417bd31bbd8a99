import { describe, expect, it } from "@jest/globals";
import { pino } from "pino";
import { Registry } from "prom-client";
import { GOSSIP_REJECTED_METRIC, GossipRejects } from "./rejects.js";

describe("GossipRejects", () => {
  it("counts every refusal and logs one line per reason per interval, with what it suppressed", async () => {
    const lines: Record<string, unknown>[] = [];
    const logger = pino({ level: "warn" }, { write: (l: string) => void lines.push(JSON.parse(l) as Record<string, unknown>) });
    const registry = new Registry();
    let now = 0;
    const r = new GossipRejects(registry, logger, 1000, () => now);
    for (let i = 0; i < 5; i++) r.record("clock-skew", "evil", `stamp ${i}`);
    r.record("foreign-entry", "evil", "x");
    now = 1000;
    r.record("clock-skew", "evil", "stamp 5");
    const metric = await registry.getSingleMetric(GOSSIP_REJECTED_METRIC)?.get();
    expect(metric?.values.map((v) => [v.labels.reason, v.value]).sort()).toEqual([["clock-skew", 6], ["foreign-entry", 1]]);
    expect(lines.map((l) => [l.reason, l.detail, l.suppressed])).toEqual([["clock-skew", "stamp 0", 0], ["foreign-entry", "x", 0], ["clock-skew", "stamp 5", 4]]);
  });

  it("two instances on one registry share the counter", async () => {
    const registry = new Registry();
    const silent = pino({ level: "silent" });
    new GossipRejects(registry, silent).record("clock-skew", "a", "");
    new GossipRejects(registry, silent).record("clock-skew", "b", "");
    expect((await registry.getSingleMetric(GOSSIP_REJECTED_METRIC)?.get())?.values[0]?.value).toBe(2);
  });
});
