// The catalogue's Marathon source driving the edge (issue 14, point 2a): a fake Marathon on
// 127.0.0.1 serves /v2/info, /v2/apps?embed=apps.tasks (built from integration/fixtures/marathon/
// apps.json, Marathon 1.5's shapes, with tasks pointing at the edge lab's backends) and /v2/events
// (SSE, the events Marathon sends: status_update_event, health_status_changed_event,
// api_post_event). The node (in this process, edge on, mesos.marathon.servers = the fake) writes
// the tasks with their app labels and service ports; HAProxy in the lab's namespace serves them.
// Shown: Marathon's service ports become frontends (Marathon-LB's rule), a task scaled in Marathon
// is served through the Runtime API without a reload, and bad input (malformed JSON, a broken
// stream, an event that is not JSON) is counted while the last good state keeps being served.
//
// Address plan (integration/support/edge-lab.ts): HAProxy on 10.79.0.1 (netns lb), backends on
// 10.79.0.2 (netns be), curl from 10.79.0.3 (netns cl); the fake Marathon and NATS on 127.0.0.1.
// Cleanup: the lab's close() stops the node (and HAProxy), NATS and the backends, deletes the
// namespaces; the fake Marathon is closed in afterAll, also after a failed beforeAll.
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { readFileSync } from "node:fs";
import { createServer, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { procInfo } from "../actors/edge/index.js";
import { BE_IP, LB_IP, startEdgeLab, type EdgeLab } from "./support/edge-lab.js";
import { within } from "./support/admin.js";

const FIXTURE = JSON.parse(readFileSync(new URL("fixtures/marathon/apps.json", import.meta.url), "utf8")) as { apps: Array<Record<string, unknown> & { id: string; tasks: Array<Record<string, unknown>> }> };
const template = (id: string) => structuredClone(FIXTURE.apps.find((a) => a.id === id) as (typeof FIXTURE.apps)[number]);
const SHOP_TASK = template("/shop/web").tasks[0] as Record<string, unknown>;

/** A task of /shop/web as Marathon lists it, on the lab's backend host with one host port. */
function shopTask(n: number, healthy: boolean | undefined): Record<string, unknown> {
  const t: Record<string, unknown> = { ...structuredClone(SHOP_TASK), id: `shop_web.task-${n}`, host: BE_IP, ipAddresses: [{ ipAddress: "172.17.0.9", protocol: "IPv4" }], ports: [33000 + n], servicePorts: [10001], state: "TASK_RUNNING" };
  if (healthy === undefined) delete t["healthCheckResults"];
  else t["healthCheckResults"] = [{ alive: healthy, consecutiveFailures: healthy ? 0 : 1, instanceId: `shop_web.marathon-task-${n}` }];
  return t;
}

/** A fake Marathon: the app list is the test's to change; events are pushed to every open stream. */
class FakeMarathon {
  readonly shop = { ...template("/shop/web"), tasks: [shopTask(1, true), shopTask(2, true)] };
  readonly echo = { ...template("/echo"), tasks: [{ ...structuredClone(template("/echo").tasks[0]), host: BE_IP, ipAddresses: [{ ipAddress: BE_IP, protocol: "IPv4" }], ports: [33101] }] };
  appsGets = 0;
  malformed = false;
  readonly streams = new Set<ServerResponse>();
  readonly server: Server = createServer((req, res) => {
    const path = req.url ?? "";
    if (path === "/v2/info") return this.json(res, { name: "marathon", version: "1.11.24", frameworkId: "fw-test-0001", leader: "127.0.0.1" });
    if (path === "/v2/apps?embed=apps.tasks") {
      this.appsGets++;
      if (this.malformed) return void res.writeHead(200, { "content-type": "application/json" }).end('{"apps": [{"id": "/shop/web", "tasks": [');
      return this.json(res, { apps: [this.shop, this.echo] });
    }
    if (path === "/v2/events") {
      res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
      res.write(`event: event_stream_attached\ndata: ${JSON.stringify({ remoteAddress: "127.0.0.1", eventType: "event_stream_attached", timestamp: new Date().toISOString() })}\n\n`);
      this.streams.add(res);
      res.on("close", () => this.streams.delete(res));
      return;
    }
    res.writeHead(404).end(JSON.stringify({ message: `no route ${path}` }));
  });

  json(res: ServerResponse, body: unknown): void {
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(body));
  }
  async start(): Promise<string> {
    await new Promise<void>((r) => this.server.listen(0, "127.0.0.1", r));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }
  emit(type: string, data: Record<string, unknown>): void {
    this.raw(`event: ${type}\ndata: ${JSON.stringify({ ...data, eventType: type, timestamp: new Date().toISOString() })}\n\n`);
  }
  raw(text: string): void {
    for (const s of this.streams) s.write(text);
  }
  /** Marathon's status update for one task of /shop/web. */
  status(n: number, taskStatus: string): void {
    this.emit("status_update_event", { slaveId: "S1", taskId: `shop_web.task-${n}`, taskStatus, message: "", appId: "/shop/web", host: BE_IP, ipAddresses: [{ ipAddress: "172.17.0.9", protocol: "IPv4" }], ports: [33000 + n], version: "2017-07-19T17:34:41.967Z" });
  }
  /** Cuts every open event stream mid-way (a proxy dying, Marathon failing over). */
  breakStreams(): void {
    for (const s of this.streams) s.socket?.destroy();
  }
  async close(): Promise<void> {
    this.breakStreams();
    this.server.closeAllConnections();
    await new Promise((r) => this.server.close(r));
  }
}

type Status = { reloads: number; services: Array<{ backend: string; ready: number; draining: number }>; rejected: Array<{ name: string; reason: string }> };

describe("the edge from a Marathon source (fake Marathon: /v2/apps + /v2/events)", () => {
  let e: EdgeLab;
  const m = new FakeMarathon();
  const status = async (): Promise<Status> => (await e.admin.request("edge1", "edge-status", {})) as unknown as Status;
  const shop = async () => (await status()).services.find((s) => s.backend === "marathon_web_shop_0");
  const who = async (n: number, url = `http://${LB_IP}/`): Promise<string[]> => {
    const seen = new Set<string>();
    for (let i = 0; i < n; i++) seen.add((await e.curl(["-H", "Host: shop.example.com", url])).stdout.split(" ")[0] ?? "");
    return [...seen].sort();
  };
  const metric = async (re: RegExp): Promise<number> => {
    const text = await (await fetch(`http://127.0.0.1:${e.metricsPort}/metrics`)).text();
    return text.split("\n").filter((l) => re.test(l)).reduce((a, l) => a + Number(l.split(" ").pop()), 0);
  };

  beforeAll(async () => {
    const url = await m.start();
    e = await startEdgeLab({ mesos: { marathon: { servers: [url], debounceMs: 20, maxBackoffMs: 2000 } } });
    for (let i = 1; i <= 4; i++) await e.backend(33000 + i, `mweb${i}`);
    await e.backend(33101, "mecho", "tcp");
  }, 60_000);

  afterAll(async () => {
    await e?.close();
    await m.close();
  }, 30_000);

  it("serves Marathon's apps: the vhost on :80, each service port as its own frontend (http and tcp), tasks by Mesos id with every app label", async () => {
    await within(15_000, async () => {
      const got = await who(6);
      if (got.join() !== "mweb1,mweb2") throw new Error(got.join());
    }, 100);
    expect(await who(6, `http://${LB_IP}:10001/`)).toEqual(["mweb1", "mweb2"]);
    const tcp = await e.lab.exec("cl", "sh", ["-c", `printf 'ping\\n' | timeout 2 bash -c 'exec 3<>/dev/tcp/${LB_IP}/10002; cat >&3; timeout 1 cat <&3'`]);
    expect(tcp.stdout).toBe("mecho\nping\n");
    const ls = (await e.admin.request("edge1", "task-ls", {})) as { tasks: Array<{ owner: string; task: { id: string; labels?: Record<string, string>; ports: Array<{ servicePort?: number }> } }> };
    const t1 = ls.tasks.find((t) => t.task.id === "fw-test-0001/shop_web.task-1");
    expect(t1?.task.labels).toEqual({ HAPROXY_GROUP: "external", HAPROXY_0_VHOST: "shop.example.com", team: "shop" });
    expect(t1?.task.ports[0]?.servicePort).toBe(10001);
  }, 30_000);

  it("a task scaled in Marathon is served through the Runtime API, without a reload: the status update applied in place, health from Marathon's check", async () => {
    await new Promise((r) => setTimeout(r, 500));
    const master = join(e.runDir, "master.sock");
    const before = await procInfo(master);
    const reloads = (await status()).reloads;
    const gets = m.appsGets;
    // Scale up: Marathon starts task 3; its health check has no result yet, so it waits drained.
    m.shop.tasks.push(shopTask(3, undefined));
    m.status(3, "TASK_RUNNING");
    await within(5000, async () => {
      const s = await shop();
      if (s?.draining !== 1) throw new Error(JSON.stringify(s));
    }, 50);
    expect(m.appsGets).toBe(gets); // applied from the event alone
    expect(await who(8)).toEqual(["mweb1", "mweb2"]);
    // The check passes: Marathon says so, the source refetches once, task 3 is served.
    m.shop.tasks[2] = shopTask(3, true);
    m.emit("health_status_changed_event", { appId: "/shop/web", taskId: "shop_web.task-3", instanceId: "shop_web.marathon-task-3", version: "2017-07-19T17:34:41.967Z", alive: true });
    await within(5000, async () => {
      const got = await who(9);
      if (got.join() !== "mweb1,mweb2,mweb3") throw new Error(got.join());
    }, 50);
    // Scale down: Marathon kills task 1 (drained at once), then it is gone.
    m.status(1, "TASK_KILLING");
    await within(5000, async () => {
      const s = await shop();
      if (s?.ready !== 2 || s.draining !== 1) throw new Error(JSON.stringify(s));
    }, 50);
    expect(await who(8)).toEqual(["mweb2", "mweb3"]);
    await e.stopBackend(33001);
    m.shop.tasks.splice(0, 1);
    m.status(1, "TASK_KILLED");
    await within(5000, async () => {
      const s = await shop();
      if (s?.ready !== 2 || s.draining !== 0) throw new Error(JSON.stringify(s));
    }, 50);
    const after = await procInfo(master);
    console.log(`edge from Marathon: scaled 2→3→2 by events; master reloads ${before?.reloads} → ${after?.reloads}; /v2/apps fetched ${m.appsGets - gets} times`);
    expect(after?.reloads).toBe(before?.reloads);
    expect((await status()).reloads).toBe(reloads);
    expect(m.appsGets - gets).toBe(1);
  }, 30_000);

  it("an app changed through the API (api_post_event): refetched, the new vhost served after one reload", async () => {
    const reloads = (await status()).reloads;
    const app = m.shop as Record<string, unknown>;
    app["labels"] = { ...(app["labels"] as Record<string, string>), HAPROXY_0_VHOST: "shop.example.com,www.shop.example.com" };
    m.emit("api_post_event", { clientIp: "10.0.2.200", uri: "/v2/apps/shop/web", appDefinition: { id: "/shop/web" } });
    await within(10_000, async () => {
      const r = await e.curl(["-H", "Host: www.shop.example.com", `http://${LB_IP}/`]);
      if (!/^mweb[23] /.test(r.stdout)) throw new Error(r.stdout + r.stderr);
    }, 100);
    expect((await status()).reloads).toBe(reloads + 1);
  }, 20_000);

  it("bad input — an event that is not JSON, a broken stream, a malformed app list — is counted; the last good state keeps being served; then it recovers", async () => {
    const count = (code: string) => metric(new RegExp(`^dcnet_catalogue_marathon_errors_total\\{[^}]*code="${code}"`));
    const problems0 = await metric(/^dcnet_catalogue_problems_total\{[^}]*source="marathon"/);
    const gets0 = m.appsGets;
    // An event whose data is not JSON: counted, and the app list refetched (the event's change is not lost).
    m.raw("event: status_update_event\ndata: {not json\n\n");
    await within(5000, async () => {
      if ((await metric(/^dcnet_catalogue_problems_total\{[^}]*source="marathon"/)) <= problems0 || m.appsGets === gets0) throw new Error("not counted and refetched yet");
    }, 50);
    // The stream breaks: counted, reconnected (and the list refetched on the new stream).
    const broken0 = await count("DCNET_E_MARATHON_UNREACHABLE");
    const gets1 = m.appsGets;
    m.breakStreams();
    await within(10_000, async () => {
      if ((await count("DCNET_E_MARATHON_UNREACHABLE")) <= broken0 || m.streams.size !== 1 || m.appsGets === gets1) throw new Error("not reconnected yet");
    }, 100);
    // Marathon answers a malformed app list (and the stream breaks again): counted, retried with backoff.
    m.malformed = true;
    m.breakStreams();
    await within(10_000, async () => {
      if ((await count("DCNET_E_MARATHON_JSON")) < 1) throw new Error("not counted yet");
    }, 100);
    // Marathon is unusable now, and the edge still serves what it last knew.
    expect(await who(8)).toEqual(["mweb2", "mweb3"]);
    const ls = (await e.admin.request("edge1", "task-ls", {})) as { tasks: Array<{ task: { id: string } }> };
    expect(ls.tasks.map((t) => t.task.id).filter((id) => id.includes("shop_web")).sort()).toEqual(["fw-test-0001/shop_web.task-2", "fw-test-0001/shop_web.task-3"]);
    // Marathon answers properly again (and has scaled meanwhile): the source reconnects, refetches.
    m.malformed = false;
    m.shop.tasks.push(shopTask(4, true));
    await within(20_000, async () => {
      const got = await who(12);
      if (got.join() !== "mweb2,mweb3,mweb4") throw new Error(got.join());
    }, 200);
  }, 45_000);
});
