import { describe, expect, it } from "@jest/globals";
import { readFileSync } from "node:fs";
import fc from "fast-check";
import { appsOf, applyEvent, hostNames, marathonTaskName, tasksFromApps, type ConvertOptions } from "./convert.js";
import { SseParser } from "./sse.js";

const FIXTURES = new URL("../../../integration/fixtures/marathon/", import.meta.url);
const appsJson: unknown = JSON.parse(readFileSync(new URL("apps.json", FIXTURES), "utf8"));
const apps = (appsOf(appsJson) as { ok: true; apps: readonly unknown[] }).apps;
const O: ConvertOptions = { framework: "marathon", frameworkId: "fw-1", resolveHost: (h) => (h === "agent-3.example.internal" ? "10.0.2.152" : undefined) };
const events = new SseParser().push(readFileSync(new URL("events.txt", FIXTURES), "utf8"));

describe("marathon apps → tasks", () => {
  it("a bridge app: container port, host port and service port per task; all app labels; health from the results; no VIPs", () => {
    const { tasks } = tasksFromApps(apps, O);
    const shop = tasks.filter((t) => t.name === "web.shop");
    expect(shop).toEqual([
      {
        id: "fw-1/shop_web.8cad6a69-6ca8-11e7-beb2-0e2beceebfcc",
        name: "web.shop",
        framework: "marathon",
        runtime: "docker",
        agentIp: "10.0.2.148",
        taskIps: ["172.17.0.2"],
        state: "running",
        healthy: true,
        labels: { HAPROXY_GROUP: "external", HAPROXY_0_VHOST: "shop.example.com", team: "shop" },
        ports: [{ name: "http", protocol: "tcp", port: 80, hostPort: 31001, vips: [], servicePort: 10001 }],
      },
      expect.objectContaining({ id: "fw-1/shop_web.8cad9b7a-6ca8-11e7-beb2-0e2beceebfcc", agentIp: "10.0.2.149", healthy: false, ports: [{ name: "http", protocol: "tcp", port: 80, hostPort: 31044, vips: [], servicePort: 10001 }] }),
    ]);
  });

  it("a host-network app: the agent's address and port (as the Mesos sources write it), the service port from portDefinitions, a host name resolved", () => {
    const echo = tasksFromApps(apps, O).tasks.find((t) => t.name === "echo");
    expect(echo).toMatchObject({ agentIp: "10.0.2.152", taskIps: ["10.0.2.152"], runtime: "mesos", ports: [{ name: "echo", protocol: "tcp", port: 24001, vips: [], servicePort: 10002 }] });
    expect(echo?.healthy).toBeUndefined();
    expect(hostNames(apps)).toEqual(["agent-3.example.internal"]);
  });

  it("a staging task is preparing; a task without a host is a problem naming it; the rest is kept", () => {
    const { tasks, problems } = tasksFromApps(apps, O);
    expect(tasks.find((t) => t.name === "db")).toMatchObject({ state: "preparing", ports: [{ name: "default", port: 24010, servicePort: 10003 }] });
    expect(problems).toEqual([{ item: "task db.lost-host", message: "no host" }]);
    expect(tasks).toHaveLength(4);
  });

  it("without /v2/info's framework id the task id is Marathon's own; an unresolvable host name is a problem", () => {
    const { tasks, problems } = tasksFromApps(apps, { framework: "marathon", resolveHost: () => undefined });
    expect(tasks[0]?.id).toBe("shop_web.8cad6a69-6ca8-11e7-beb2-0e2beceebfcc");
    expect(problems.map((p) => p.message)).toContain('agent host "agent-3.example.internal" does not resolve');
  });

  it("names tasks as Marathon names them for Mesos", () => {
    expect(marathonTaskName("/shop/web")).toBe("web.shop");
    expect(marathonTaskName("/pywebserver")).toBe("pywebserver");
  });

  it("an answer without an apps list is refused with a reason", () => {
    expect(appsOf({ message: "Not Found" })).toEqual({ ok: false, reason: 'no "apps" list in the answer (got {"message":"Not Found"})' });
  });

  it("never throws on random JSON, and every task it returns has an IP agent address", () => {
    fc.assert(
      fc.property(fc.array(fc.jsonValue(), { maxLength: 5 }), (xs) => {
        const r = tasksFromApps([...xs, ...apps], O);
        for (const t of r.tasks) expect(t.agentIp).toMatch(/^[0-9a-f.:]+$/);
      }),
      { numRuns: 200 },
    );
  });
});

describe("marathon events → the app list", () => {
  const data = (i: number): unknown => JSON.parse(events[i]?.data ?? "null");

  it("the fixture stream parses into its six events", () => {
    expect(events.map((e) => e.type)).toEqual(["event_stream_attached", "status_update_event", "status_update_event", "status_update_event", "deployment_success", "api_post_event"]);
  });

  it("a task started, then one killing, then killed: applied in place, no refetch", () => {
    let list = apps;
    const step = (i: number) => {
      const e = applyEvent(list, events[i]?.type ?? "", data(i));
      if (e.kind !== "applied") throw new Error(JSON.stringify(e));
      list = e.apps;
      return tasksFromApps(list, O).tasks.filter((t) => t.name === "web.shop");
    };
    const started = step(1);
    expect(started.map((t) => `${t.agentIp}:${t.ports[0]?.hostPort} ${t.state}`)).toEqual(["10.0.2.148:31001 running", "10.0.2.149:31044 running", "10.0.2.151:31077 running"]);
    expect(started[2]?.ports[0]?.servicePort).toBe(10001);
    // A new task has no health results yet: unhealthy until its first check passes (the app has checks).
    expect(started[2]?.healthy).toBe(false);
    expect(step(2)[0]).toMatchObject({ state: "killing", healthy: true });
    expect(step(3).map((t) => t.agentIp)).toEqual(["10.0.2.149", "10.0.2.151"]);
  });

  it("deployments and API posts refetch; the stream's hello is ignored; a status update for an unknown app refetches; a malformed one is bad", () => {
    expect(applyEvent(apps, "deployment_success", data(4))).toEqual({ kind: "refetch", why: "deployment_success" });
    expect(applyEvent(apps, "api_post_event", data(5))).toEqual({ kind: "refetch", why: "api_post_event" });
    expect(applyEvent(apps, "event_stream_attached", data(0))).toEqual({ kind: "ignore" });
    expect(applyEvent(apps, "status_update_event", { appId: "/new", taskId: "new.1", taskStatus: "TASK_RUNNING" })).toEqual({ kind: "refetch", why: "status_update_event for an unknown app /new" });
    expect(applyEvent(apps, "status_update_event", { appId: "/shop/web" })).toMatchObject({ kind: "bad", reason: expect.stringContaining("without appId, taskId or taskStatus") });
    expect(applyEvent(apps, "status_update_event", { appId: "/shop/web", taskId: "never-seen", taskStatus: "TASK_KILLED" })).toEqual({ kind: "ignore" });
  });
});
