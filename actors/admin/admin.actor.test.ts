// The admin service over a real nats-server, serving the node's standard ops plus `hello`, an op
// declared in one folder (integration/fixtures/hello-op/). Reached through AdminClient, through raw
// NATS (malformed input) and through `dcnet ctl` built in-process from the same declarations.
import { afterAll, afterEach, beforeAll, describe, expect, it, jest } from "@jest/globals";
import { Command } from "commander";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { Packr } from "msgpackr";
import { pino } from "pino";
import type { Registry } from "prom-client";
import { startNatsServer, type NatsServerHandle } from "../../integration/harness/nats-local.js";
import { HELLO_OPS, hello } from "../../integration/fixtures/hello-op/ops.js";
import { startTree, supervisor, worker, InvalidSpecError, type Tree } from "../../supervisors/index.js";
import { Transport } from "../../transport/index.js";
import { createRegistry } from "../../observability/metrics.js";
import { createLogHub } from "../../observability/logger.js";
import { registerCtl } from "../../cli/ctl.command.js";
import { validateConfig } from "../node/config.js";
import { ALL_OPS } from "../node/ops.js";
import { adminBehaviour, type AdminDeps } from "./admin.actor.js";
import { AdminClient, AdminRequestError } from "./ops.js";

const NODE = "adm";
const OPS = [...ALL_OPS, ...HELLO_OPS];
const packr = new Packr({ useRecords: false });
const quiet = createLogHub({ level: "fatal", destination: { write: () => undefined } });

let nats: NatsServerHandle;
let server: { transport: Transport; tree: Tree; metrics: Registry };
let client: { transport: Transport; admin: AdminClient<(typeof OPS)[number]> };
let nc: NatsConnection;

async function connectTransport(id: string): Promise<Transport> {
  return Transport.connect({ servers: [nats.url], cluster: "dcnet", nodeId: id, logger: pino({ level: "silent" }), metrics: createRegistry({ node: id, cluster: "dcnet" }) });
}

function deps(transport: Transport, metrics: Registry, tree: () => Tree | undefined): AdminDeps {
  return {
    config: validateConfig({ id: NODE, nats: { servers: [nats.url] } }),
    transport,
    logs: quiet,
    logger: quiet.child("admin"),
    metrics,
    version: "0.0.0-test",
    startedAt: Date.now(),
    tree,
    shutdown: () => undefined,
    ops: OPS,
  };
}

beforeAll(async () => {
  nats = await startNatsServer({});
  const transport = await connectTransport(NODE);
  const metrics = createRegistry({ node: NODE, cluster: "dcnet" });
  const tree: Tree = await startTree(supervisor("node", "one_for_one", [worker("admin", adminBehaviour(deps(transport, metrics, () => tree)), { shutdownMs: 1000 })]));
  server = { transport, tree, metrics };
  const ct = await connectTransport("test-client");
  client = { transport: ct, admin: new AdminClient(ct, 5000, OPS) };
  nc = await connect({ servers: nats.url });
}, 30_000);

afterAll(async () => {
  await nc?.close();
  await client?.transport.close();
  await server?.tree.shutdown();
  await server?.transport.close();
  await nats?.stop();
});

describe("admin service", () => {
  it("serves the fixture's op next to the standard ones, typed from its schemas", async () => {
    expect(await client.admin.request(NODE, "hello", { name: "bob" })).toEqual({ node: NODE, greeting: "hello, bob" });
    expect(await client.admin.call(hello, {}, { node: NODE })).toEqual({ node: NODE, greeting: "hello, world" });
    expect((await client.admin.request(NODE, "ping", {})).node).toBe(NODE);
    const status = await client.admin.request(NODE, "status", {});
    expect(status.actors.map((a) => a.path)).toContain("/node/admin");
    expect(status.gossip).toBeUndefined();
  });

  it("the default client speaks the standard list without being given it", async () => {
    const plain = new AdminClient(client.transport, 5000);
    expect((await plain.request(NODE, "ping", {})).node).toBe(NODE);
  });

  it("scatter-gather works for any op", async () => {
    const replies = await client.admin.requestAll("hello", { name: "all" }, { timeoutMs: 1000, expected: 1 });
    expect(replies).toEqual([{ node: NODE, ok: true, body: { node: NODE, greeting: "hello, all" } }]);
  });

  it("rejects a malformed request at the border: 400, DCNET_E_ADMIN_BAD_REQUEST, counted", async () => {
    const bad = packr.pack({ v: 1, kind: "admin.hello", from: "fuzzer", ts: Date.now(), body: { name: 42 } });
    const m = await nc.request(`dcnet.dcnet.admin.admin.${NODE}.hello`, bad, { timeout: 5000 });
    expect(m.headers?.get("Nats-Service-Error-Code")).toBe("400");
    expect(m.headers?.get("Nats-Service-Error")).toMatch(/^bad hello request: .*body\.name/);
    expect(packr.unpack(m.data)).toMatchObject({ kind: "admin.error", body: { node: NODE, code: "DCNET_E_ADMIN_BAD_REQUEST" } });

    const viaClient = client.admin.request(NODE, "hello", { name: "" });
    await expect(viaClient).rejects.toBeInstanceOf(AdminRequestError);
    await expect(viaClient).rejects.toMatchObject({ code: "DCNET_E_ADMIN_ERROR", message: expect.stringContaining("bad hello request") });
    expect(await server.metrics.getSingleMetricAsString("dcnet_admin_requests_total")).toMatch(/op="hello",outcome="rejected"[^\n]* 2/);
    expect(server.transport.rejects.snapshot()).toEqual(expect.arrayContaining([expect.objectContaining({ kind: "admin.hello", reason: "invalid-body" })]));
  });

  it("an op whose actor is not in the tree answers 503 DCNET_E_ADMIN_UNAVAILABLE naming it", async () => {
    const m = await nc.request(`dcnet.dcnet.admin.viewer.${NODE}.members`, packr.pack({ v: 1, kind: "admin.members", from: "t", ts: Date.now(), body: {} }), { timeout: 5000 });
    expect(m.headers?.get("Nats-Service-Error-Code")).toBe("503");
    expect(packr.unpack(m.data)).toMatchObject({ body: { code: "DCNET_E_ADMIN_UNAVAILABLE", message: "/node/gossip/membership is not running on this node" } });
    await expect(client.admin.request(NODE, "dns-records", {})).rejects.toThrow("/node/dns/zone is not running on this node (dns.enabled false, or restarting)");
  });

  it("crash is refused unless admin.allowCrash (403 DCNET_E_ADMIN_CRASH_DISABLED)", async () => {
    const m = await nc.request(`dcnet.dcnet.admin.admin.${NODE}.crash`, packr.pack({ v: 1, kind: "admin.crash", from: "t", ts: Date.now(), body: { path: "/node/admin" } }), { timeout: 5000 });
    expect(m.headers?.get("Nats-Service-Error-Code")).toBe("403");
    expect(packr.unpack(m.data)).toMatchObject({ body: { code: "DCNET_E_ADMIN_CRASH_DISABLED" } });
  });

  it("refuses an ops list with two ops of one name", () => {
    const metrics = createRegistry({ node: NODE, cluster: "dcnet" });
    expect(() => adminBehaviour({ ...deps(server.transport, metrics, () => undefined), ops: [...OPS, hello] })).toThrow(InvalidSpecError);
  });

  it("refuses an op whose role is not one of viewer, operator, admin", () => {
    const metrics = createRegistry({ node: NODE, cluster: "dcnet" });
    const rogue = { ...hello, name: "rogue", role: "root" } as unknown as typeof hello;
    expect(() => adminBehaviour({ ...deps(server.transport, metrics, () => undefined), ops: [...OPS, rogue] })).toThrow(/admin op "rogue" has role "root"/);
  });

  it("serves every op under each role prefix, as the micro service tells NATS tooling", async () => {
    const viewer = new AdminClient(client.transport, 5000, OPS, { role: "viewer" });
    expect(await viewer.request(NODE, "hello", { name: "v" })).toEqual({ node: NODE, greeting: "hello, v" });
    const m = await nc.request("$SRV.INFO.dcnet-admin", new Uint8Array(), { timeout: 5000 });
    const info = JSON.parse(new TextDecoder().decode(m.data)) as { endpoints: { name: string; subject: string }[] };
    expect(info.endpoints.filter((e) => e.name === "hello").map((e) => e.subject)).toEqual([`dcnet.dcnet.admin.*.${NODE}.hello`, "dcnet.dcnet.admin.*._all.hello"]);
  });
});

describe("dcnet ctl built from the same declarations", () => {
  let out: string[];
  let err: string[];

  async function ctl(...args: string[]): Promise<number> {
    out = [];
    err = [];
    jest.spyOn(console, "log").mockImplementation((...a: unknown[]) => void out.push(a.join(" ")));
    jest.spyOn(console, "error").mockImplementation((...a: unknown[]) => void err.push(a.join(" ")));
    const program = new Command().exitOverride();
    registerCtl(program, OPS);
    process.exitCode = undefined;
    await program.parseAsync(["ctl", "--nats", nats.url, "--timeout", "5000", ...args], { from: "user" });
    const code = Number(process.exitCode ?? 0);
    process.exitCode = undefined;
    return code;
  }

  afterEach(() => {
    jest.restoreAllMocks();
  });

  it("prints the fixture op's human output and its JSON reply", async () => {
    expect(await ctl("hello", "bob")).toBe(0);
    expect(out).toEqual([`${NODE} says hello, bob`]);
    expect(await ctl("--node", NODE, "--json", "hello")).toBe(0);
    expect(JSON.parse(out.join("\n"))).toEqual({ node: NODE, greeting: "hello, world" });
  });

  it("--all gathers the fixture op with its summary line", async () => {
    expect(await ctl("--all", "--timeout", "500", "hello")).toBe(0);
    expect(out.join("\n")).toMatch(new RegExp(`^NODE\\s+RESULT\\s+DETAIL\\n${NODE}\\s+ok\\s+hello, world$`));
  });

  it("keeps the standard commands' output", async () => {
    expect(await ctl("ping")).toBe(0);
    expect(out.join("\n")).toMatch(new RegExp(`^pong from ${NODE} \\(dcnet 0\\.0\\.0-test, up \\S+\\) in [\\d.]+ ms$`));
    expect(await ctl("--node", NODE, "log-level", "debug")).toBe(0);
    expect(out).toEqual([`${NODE}: log level fatal -> debug`]);
  });

  it("usage errors exit 2 before anything is sent; a refusal exits 1 with the node's reason", async () => {
    expect(await ctl("shutdown")).toBe(2);
    expect(err).toEqual(["dcnet: shutdown needs --node <id> or --all"]);
    expect(await ctl("log-level", "loud")).toBe(2);
    expect(err.join("\n")).toMatch(/^dcnet: log level: /);
    expect(await ctl("--node", NODE, "members")).toBe(1);
    expect(err).toEqual([`dcnet: node "${NODE}" refused the request: /node/gossip/membership is not running on this node`]);
  });

  it("offers every declared command under its group", () => {
    const program = new Command();
    registerCtl(program, OPS);
    const ctlCommand = program.commands.find((c) => c.name() === "ctl");
    const names = (c: Command | undefined): string[] => (c?.commands ?? []).flatMap((s) => [s.name(), ...names(s).map((n) => `${s.name()} ${n}`)]);
    expect(names(ctlCommand)).toEqual([
      "ping",
      "status",
      "crash",
      "log-level",
      "shutdown",
      "members",
      "state",
      "state keys",
      "state get",
      "state set",
      "state add",
      "state remove",
      "state delete",
      "task",
      "task add",
      "task rm",
      "task ls",
      "dns",
      "dns records",
      "dns lookup",
      "dns host",
      "vip",
      "vip ls",
      "l4lb",
      "l4lb status",
      "l4lb cleanup",
      "l4lb resume",
      "overlay",
      "overlay status",
      "overlay leases",
      "edge",
      "edge status",
      "edge config",
      "edge pool",
      "hello",
    ]);
  });
});
