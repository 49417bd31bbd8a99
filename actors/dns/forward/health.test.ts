import { describe, expect, it } from "@jest/globals";
import { HealthChecker } from "./health.js";
import { parseUpstream } from "./upstream.js";
import { waitFor } from "../../../testkit/dns/servers.js";

const up = parseUpstream("127.0.0.1:5301");

describe("HealthChecker", () => {
  it("marks a failed upstream unhealthy, probes it until it answers, then healthy", async () => {
    const changes: Array<[string, boolean]> = [];
    let probes = 0;
    const hc = new HealthChecker({
      probeIntervalMs: 10,
      probe: async () => {
        probes += 1;
        if (probes < 3) throw new Error("still down");
      },
      onChange: (u, healthy) => changes.push([u.key, healthy]),
    });
    expect(hc.isHealthy(up.key)).toBe(true);
    hc.markFailed(up);
    hc.markFailed(up); // already down: no second loop, no second event
    expect(hc.isHealthy(up.key)).toBe(false);
    expect(hc.unhealthy()).toEqual([up.key]);
    await waitFor(() => hc.isHealthy(up.key), 2000, "healthy again");
    expect(probes).toBe(3);
    expect(changes).toEqual([
      [up.key, false],
      [up.key, true],
    ]);
    hc.stop();
  });

  it("stops probing when a real query succeeds or when stopped", async () => {
    let probes = 0;
    const hc = new HealthChecker({ probeIntervalMs: 10, probe: () => ((probes += 1), Promise.reject(new Error("down"))) });
    hc.markFailed(up);
    await waitFor(() => probes >= 2, 2000, "probes");
    hc.markAlive(up);
    const after = probes;
    await new Promise((r) => setTimeout(r, 60));
    expect(probes).toBeLessThanOrEqual(after + 1);
    expect(hc.isHealthy(up.key)).toBe(true);

    hc.markFailed(up);
    await waitFor(() => probes >= after + 2, 2000, "probes again");
    hc.stop();
    const stopped = probes;
    await new Promise((r) => setTimeout(r, 60));
    expect(probes).toBeLessThanOrEqual(stopped + 1);
    hc.markFailed(parseUpstream("127.0.0.2"));
    expect(hc.isHealthy("127.0.0.2:53")).toBe(true);
  });

  it("survives a throwing observer and a throwing probe", async () => {
    let probes = 0;
    const hc = new HealthChecker({
      probeIntervalMs: 5,
      probe: () => {
        probes += 1;
        if (probes === 1) throw new Error("sync throw");
        return Promise.resolve();
      },
      onChange: () => {
        throw new Error("observer bug");
      },
    });
    hc.markFailed(up);
    await waitFor(() => hc.isHealthy(up.key), 2000, "healthy");
    expect(probes).toBe(2);
    hc.stop();
  });
});
