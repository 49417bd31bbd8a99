// Admin roles: the pure rule, then a whole node on a real nats-server asked by clients of each role.
// A caller's role is the role token of its request's subject (NATS permissions decide which tokens a
// credential may publish under; here, without a server config, the node's own check is on trial).
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { pino } from "pino";
import { Packr } from "msgpackr";
import { startNatsServer, type NatsServerHandle } from "../../integration/harness/nats-local.js";
import { ADMIN_ROLES, Transport, type AdminRole } from "../../transport/index.js";
import { createRegistry } from "../../observability/metrics.js";
import { createLogHub } from "../../observability/logger.js";
import { validateConfig } from "../node/config.js";
import { startNode, type NodeHandle } from "../node/index.js";
import { ALL_OPS } from "../node/ops.js";
import { AdminClient, AdminRequestError } from "./ops.js";
import { allows, deniedMessage } from "./roles.js";

describe("roles", () => {
  it("each role may do what the weaker ones may, and nothing of the stronger ones", () => {
    expect(ADMIN_ROLES.flatMap((caller) => ADMIN_ROLES.filter((needed) => allows(caller, needed)).map((needed) => `${caller}>=${needed}`))).toEqual([
      "viewer>=viewer",
      "operator>=viewer",
      "operator>=operator",
      "admin>=viewer",
      "admin>=operator",
      "admin>=admin",
    ]);
    expect(deniedMessage("shutdown", "admin")).toBe("permission denied: shutdown needs admin");
  });

  it("every standard op declares the role the design gives it", () => {
    const byRole = (r: AdminRole): string[] => ALL_OPS.filter((o) => o.role === r).map((o) => o.name).sort();
    expect(byRole("viewer")).toEqual(["dns-host", "dns-lookup", "dns-records", "edge-status", "l4lb-status", "members", "overlay-leases", "overlay-status", "ping", "state-get", "state-keys", "status", "task-ls", "vip-ls"]);
    expect(byRole("operator")).toEqual(["edge-config", "edge-pool", "log-level", "state-batch", "state-update", "task-add", "task-rm"]);
    expect(byRole("admin")).toEqual(["crash", "l4lb-cleanup", "l4lb-resume", "shutdown"]);
  });
});

const NODE = "roles";
const task = (id: string) => ({ id, name: "web", framework: "shop", runtime: "native" as const, agentIp: "10.1.0.9", taskIps: [], state: "running" as const, ports: [] });

describe("a node served to callers of each role", () => {
  let nats: NatsServerHandle;
  let node: NodeHandle;
  let callers: Transport;
  const as: Partial<Record<AdminRole, AdminClient>> = {};
  const client = (r: AdminRole): AdminClient => as[r] as AdminClient;
  let stopped = false;

  beforeAll(async () => {
    nats = await startNatsServer({});
    const config = validateConfig({ id: NODE, nats: { servers: [nats.url], insecure: true }, log: { level: "fatal" }, metrics: { listen: "" }, dns: { enabled: false } });
    node = await startNode(config, { logs: createLogHub({ level: "fatal", bindings: { node: NODE } }) });
    void node.done.then(() => (stopped = true));
    callers = await Transport.connect({ servers: [nats.url], cluster: "dcnet", nodeId: "caller", logger: pino({ level: "silent" }), metrics: createRegistry({ node: "caller", cluster: "dcnet" }) });
    for (const r of ADMIN_ROLES) as[r] = new AdminClient(callers, 5000, undefined, { role: r });
    // The store answers writes once synced (alone: after syncTimeoutMs).
    for (let i = 0; i < 100; i++) if ((await client("viewer").request(NODE, "status", {})).gossip?.synced) break;
    else await new Promise((r) => setTimeout(r, 100));
  }, 30_000);

  afterAll(async () => {
    await callers?.close();
    await node?.stop("test done");
    await nats?.stop();
  });

  const denied = async (op: string, role: string): Promise<number> => {
    const v = (await node.metrics.getSingleMetric("dcnet_admin_denied_total")?.get())?.values.find((x) => x.labels.op === op && x.labels.role === role);
    return v?.value ?? 0;
  };

  it("a viewer reads: ping, status, members, task ls, state get", async () => {
    expect(client("viewer").role).toBe("viewer");
    expect((await client("viewer").request(NODE, "ping", {})).node).toBe(NODE);
    expect((await client("viewer").request(NODE, "members", {})).members.map((m) => m.node)).toEqual([NODE]);
    expect(await client("viewer").request(NODE, "task-ls", {})).toMatchObject({ tasks: [] });
    expect((await client("viewer").request(NODE, "state-get", { key: "nodes/roles" })).value).not.toBeNull();
  });

  it.each([
    ["shutdown", {}, "admin"],
    ["task-add", { task: task("viewer-1") }, "operator"],
    ["state-update", { key: "demo/x", ops: [{ op: "set", field: "v", value: 1 }] }, "operator"],
    ["log-level", { level: "trace" }, "operator"],
  ] as const)("a viewer's %s is denied: 403 DCNET_E_ADMIN_PERMISSION_DENIED, counted, nothing changes, the node answers", async (op, body, needs) => {
    const before = await denied(op, "viewer");
    const call = client("viewer").request(NODE, op, body as never);
    await expect(call).rejects.toBeInstanceOf(AdminRequestError);
    await expect(call).rejects.toMatchObject({ code: "DCNET_E_ADMIN_PERMISSION_DENIED", message: `permission denied: ${op} needs ${needs}` });
    expect(await denied(op, "viewer")).toBe(before + 1);
    expect((await client("viewer").request(NODE, "task-ls", {})).tasks).toEqual([]);
    expect((await client("viewer").request(NODE, "state-get", { key: "demo/x" })).value).toBeNull();
    expect((await client("viewer").request(NODE, "status", {})).logLevel).toBe("fatal");
    expect((await client("viewer").request(NODE, "ping", {})).node).toBe(NODE);
    expect(stopped).toBe(false);
  });

  it("scatter-gather is checked the same way: every node's reply is the denial", async () => {
    const before = await denied("shutdown", "viewer");
    const replies = await client("viewer").requestAll("shutdown", {}, { timeoutMs: 1000, expected: 1 });
    expect(replies).toEqual([{ node: NODE, ok: false, error: "DCNET_E_ADMIN_PERMISSION_DENIED: permission denied: shutdown needs admin" }]);
    expect(await denied("shutdown", "viewer")).toBe(before + 1);
    await expect(client("viewer").requestFirst("shutdown", {})).rejects.toMatchObject({ message: "permission denied: shutdown needs admin" });
    expect(stopped).toBe(false);
  });

  it("an operator adds and removes a task and writes state; shutdown is still denied", async () => {
    expect(await client("operator").request(NODE, "task-add", { task: task("op-1") })).toMatchObject({ node: NODE });
    expect((await client("viewer").request(NODE, "task-ls", {})).tasks.map((t) => t.task.id)).toEqual(["op-1"]);
    await client("operator").request(NODE, "state-update", { key: "demo/op", ops: [{ op: "set", field: "v", value: 7 }] });
    expect((await client("viewer").request(NODE, "state-get", { key: "demo/op" })).value).toMatchObject({ v: { type: "lww", value: 7 } });
    await client("operator").request(NODE, "task-rm", { id: "op-1" });
    expect((await client("viewer").request(NODE, "task-ls", {})).tasks).toEqual([]);
    await expect(client("operator").request(NODE, "shutdown", {})).rejects.toMatchObject({ code: "DCNET_E_ADMIN_PERMISSION_DENIED", message: "permission denied: shutdown needs admin" });
    expect(await denied("shutdown", "operator")).toBe(1);
  });

  it("an admin may change the log level; crash still needs admin.allowCrash", async () => {
    expect(await client("admin").request(NODE, "log-level", { level: "fatal" })).toMatchObject({ message: "log level fatal -> fatal" });
    await expect(client("admin").request(NODE, "crash", { path: "/node/admin" })).rejects.toMatchObject({ code: "DCNET_E_ADMIN_ERROR", message: expect.stringContaining("crash is disabled") });
    await expect(client("operator").request(NODE, "crash", { path: "/node/admin" })).rejects.toMatchObject({ message: "permission denied: crash needs admin" });
  });

  it("a role token that is no role is denied for every op and counted as role unknown", async () => {
    const packr = new Packr({ useRecords: false });
    const m = await callers.nc.request(`dcnet.dcnet.admin.root.${NODE}.ping`, packr.pack({ v: 1, kind: "admin.ping", from: "x", ts: Date.now(), body: {} }), { timeout: 5000 });
    expect(m.headers?.get("Nats-Service-Error-Code")).toBe("403");
    expect(m.headers?.get("Nats-Service-Error")).toBe("permission denied: ping needs viewer");
    expect(packr.unpack(m.data)).toMatchObject({ kind: "admin.error", body: { node: NODE, code: "DCNET_E_ADMIN_PERMISSION_DENIED" } });
    expect(await denied("ping", "unknown")).toBe(1);
    expect(await node.metrics.getSingleMetricAsString("dcnet_admin_requests_total")).toMatch(/op="ping",outcome="denied"[^\n]* 1/);
  });
});
