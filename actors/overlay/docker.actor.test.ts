// The CNM actor against a stand-in Docker Engine API on a unix socket (the same HTTP calls dockerd
// answers) and a stand-in applier. What an operator would notice: the `dcos` Docker network appears
// with the second half of the node's subnet on d-dcos once the overlay is set up, also when Docker
// comes up after the node; a wrong network is replaced only while no container uses it; Docker
// refusing or being away never takes the node down.
import { afterEach, describe, expect, it } from "@jest/globals";
import { createServer, type IncomingMessage, type Server } from "node:http";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { Registry } from "prom-client";
import { startTree, supervisor, worker, type ActorRef, type Behaviour, type Tree } from "../../supervisors/index.js";
import type { OverlayApplierMsg, OverlayStatus } from "./applier.actor.js";
import { dockerNetworkSpec, networkDifferences, overlayDockerBehaviour, type DockerNetStatus, type DockerNetworkSpec, type FoundNetwork, type OverlayDockerMsg } from "./docker.actor.js";
import type { NodeOverlay } from "./model.js";

const OWN: NodeOverlay = { node: "n1", agentIp: "10.0.0.1", vtepIp: "44.128.0.7", vtepMac: "70:b3:d5:80:00:07", subnet: "9.0.7.0/24", subnet6: "fd01:b::7:0:0:0/80" };
const READY: OverlayStatus = { own: OWN, mtu: 1450, peers: [], lastSync: { at: 1, ms: 1, ok: true }, repairs: 0 };

interface Call {
  readonly method: string;
  readonly path: string;
  readonly body: unknown;
}

/** Docker's network endpoints, in memory. */
class FakeEngine {
  readonly calls: Call[] = [];
  network: (FoundNetwork & { Name: string }) | undefined;
  /** Answer POST /networks/create with this instead (status, message). */
  refuseCreate: { status: number; message: string } | undefined;
  server: Server | undefined;

  constructor(readonly socketPath: string) {}

  start(): Promise<void> {
    this.server = createServer((req, res) => {
      void body(req).then((text) => {
        const call = { method: req.method ?? "", path: req.url ?? "", body: text ? (JSON.parse(text) as unknown) : undefined };
        this.calls.push(call);
        const send = (status: number, json?: unknown): void => {
          res.writeHead(status, { "Content-Type": "application/json" });
          res.end(json === undefined ? "" : JSON.stringify(json));
        };
        if (call.method === "GET" && call.path === "/networks/dcos") return this.network ? send(200, this.network) : send(404, { message: "network dcos not found" });
        if (call.method === "DELETE" && call.path === "/networks/dcos") {
          this.network = undefined;
          return send(204);
        }
        if (call.method === "POST" && call.path === "/networks/create") {
          if (this.refuseCreate) return send(this.refuseCreate.status, { message: this.refuseCreate.message });
          const b = call.body as DockerNetworkSpec;
          this.network = { Name: b.Name, Id: "net1", Driver: b.Driver, EnableIPv6: b.EnableIPv6, IPAM: { Config: b.IPAM.Config.map((c) => ({ ...c })) }, Options: { ...b.Options }, Containers: {} };
          return send(201, { Id: "net1", Warning: "" });
        }
        send(404, { message: "page not found" });
      });
    });
    const server = this.server;
    return new Promise((resolve) => server.listen(this.socketPath, resolve));
  }

  stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    return new Promise((resolve) => (server ? server.close(() => resolve()) : resolve()));
  }

  count(method: string): number {
    return this.calls.filter((c) => c.method === method).length;
  }
}

function body(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
  });
}

/** Answers `status` with whatever the test set. */
function applierStandIn(current: () => OverlayStatus): Behaviour<null, OverlayApplierMsg> {
  return {
    init: () => null,
    handle(s, msg) {
      if (msg.type === "status") msg.reply(current());
      return s;
    },
  };
}

let dir: string | undefined;
let tree: Tree | undefined;
let engine: FakeEngine | undefined;
afterEach(async () => {
  await tree?.shutdown();
  await engine?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
  tree = undefined;
  engine = undefined;
  dir = undefined;
});

async function setup(overlay: () => OverlayStatus): Promise<{ ref: ActorRef<OverlayDockerMsg>; engine: FakeEngine; metrics: Registry }> {
  dir = mkdtempSync(join(tmpdir(), "dcnet-cnm-"));
  engine = new FakeEngine(join(dir, "docker.sock"));
  const metrics = new Registry();
  const t = await startTree(
    supervisor("node", "one_for_one", [
      worker("applier", applierStandIn(overlay)),
      worker("docker", overlayDockerBehaviour({ name: "dcos", socketPath: engine.socketPath, logger: pino({ level: "silent" }), metrics, applier: () => t.lookup<OverlayApplierMsg>("/node/applier"), periodMs: 50, maxBackoffMs: 100 })),
    ]),
  );
  tree = t;
  return { ref: t.lookup<OverlayDockerMsg>("/node/docker") as ActorRef<OverlayDockerMsg>, engine, metrics };
}

const statusOf = (ref: ActorRef<OverlayDockerMsg>): Promise<DockerNetStatus> => ref.ask<DockerNetStatus>((reply) => ({ type: "status", reply }), 2_000);

async function until(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function metric(metrics: Registry, name: string, labels: Record<string, string> = {}): Promise<number> {
  const m = (await metrics.getMetricsAsJSON()).find((x) => x.name === name);
  const v = m?.values.find((x) => Object.entries(labels).every(([k, l]) => x.labels[k] === l));
  return v?.value ?? 0;
}

describe("dockerNetworkSpec", () => {
  it("is the second half of the node's subnets on d-dcos with the overlay's MTU, as DC/OS made it", () => {
    expect(dockerNetworkSpec("dcos", OWN, 1450)).toEqual({
      Name: "dcos",
      Driver: "bridge",
      CheckDuplicate: true,
      EnableIPv6: true,
      IPAM: {
        Driver: "default",
        Config: [
          { Subnet: "9.0.7.128/25", Gateway: "9.0.7.129" },
          { Subnet: "fd01:b::7:8000:0:0/81", Gateway: "fd01:b::7:8000:0:1" },
        ],
      },
      Options: { "com.docker.network.bridge.name": "d-dcos", "com.docker.network.driver.mtu": "1450" },
      Labels: { "io.dcnet.overlay": "dcos" },
    });
    const v4only = dockerNetworkSpec("dcos", { ...OWN, subnet6: undefined } as NodeOverlay, 1400);
    expect(v4only?.EnableIPv6).toBe(false);
    expect(v4only?.IPAM.Config).toEqual([{ Subnet: "9.0.7.128/25", Gateway: "9.0.7.129" }]);
    // A single address has no halves; a subnet that does not parse is no network either.
    expect(dockerNetworkSpec("dcos", { ...OWN, subnet: "9.0.7.0/32" }, 1450)).toBeUndefined();
    expect(dockerNetworkSpec("dcos", { ...OWN, subnet: "nine" }, 1450)).toBeUndefined();
  });

  it("networkDifferences reads IPv6 pools in any textual form and names each difference", () => {
    const want = dockerNetworkSpec("dcos", OWN, 1450) as DockerNetworkSpec;
    const same: FoundNetwork = { Driver: "bridge", EnableIPv6: true, IPAM: { Config: [{ Subnet: "fd01:b::7:8000:0:0/81", Gateway: "fd01:b::7:8000:0:1" }, { Subnet: "9.0.7.128/25", Gateway: "9.0.7.129" }] }, Options: { ...want.Options } };
    expect(networkDifferences(same, want)).toEqual([]);
    const wrong: FoundNetwork = { ...same, IPAM: { Config: [{ Subnet: "9.0.8.128/25", Gateway: "9.0.8.129" }] }, Options: { "com.docker.network.bridge.name": "d-dcos", "com.docker.network.driver.mtu": "1500" } };
    const d = networkDifferences(wrong, want);
    expect(d).toHaveLength(2);
    expect(d.join("\n")).toMatch(/9\.0\.8\.128\/25/);
    expect(d.join("\n")).toMatch(/mtu=1500, want 1450/);
  });
});

describe("overlay docker actor (CNM)", () => {
  it("waits for Docker, then creates the dcos network once the overlay is set up", async () => {
    let overlay: OverlayStatus = { own: undefined, mtu: undefined, peers: [], repairs: 0 };
    const { ref, engine: e, metrics } = await setup(() => overlay);
    // Docker is not there yet: no socket at all.
    await until("docker-unavailable", async () => (await statusOf(ref)).state === "waiting-overlay");
    overlay = READY;
    await until("docker-unavailable", async () => (await statusOf(ref)).state === "docker-unavailable");
    expect(await metric(metrics, "dcnet_overlay_docker_errors_total")).toBeGreaterThanOrEqual(1);
    await e.start();
    await until("ready", async () => (await statusOf(ref)).state === "ready");
    const creates = e.calls.filter((c) => c.method === "POST");
    expect(creates).toHaveLength(1);
    expect(creates[0]?.body).toEqual(dockerNetworkSpec("dcos", OWN, 1450));
    expect(e.network?.IPAM?.Config?.[0]).toEqual({ Subnet: "9.0.7.128/25", Gateway: "9.0.7.129" });
    // Checked again every period, never created twice.
    const gets = e.count("GET");
    await until("two more checks", () => e.count("GET") >= gets + 2);
    expect(e.count("POST")).toBe(1);
    expect(await metric(metrics, "dcnet_overlay_docker_network_changes_total", { action: "created" })).toBe(1);
    // Someone deletes it: it comes back.
    e.network = undefined;
    await until("recreated after deletion", () => e.network !== undefined);
    expect((await statusOf(ref)).created).toBe(2);
  });

  it("does not touch Docker while the applier has not set the bridges up", async () => {
    const { ref, engine: e } = await setup(() => ({ ...READY, lastSync: { at: 1, ms: 1, ok: false, error: "ip batch failed" } }));
    await e.start();
    await new Promise((r) => setTimeout(r, 300));
    expect((await statusOf(ref)).state).toBe("waiting-overlay");
    expect(e.calls).toEqual([]);
  });

  it("recreates a network that differs when no container uses it; leaves one in use alone, logged and counted once", async () => {
    const { ref, engine: e, metrics } = await setup(() => READY);
    const stale = { Name: "dcos", Id: "old", Driver: "bridge", EnableIPv6: false, IPAM: { Config: [{ Subnet: "9.0.3.128/25", Gateway: "9.0.3.129" }] }, Options: { "com.docker.network.bridge.name": "d-dcos", "com.docker.network.driver.mtu": "1450" } };
    e.network = { ...stale, Containers: { abc: { Name: "web" } } };
    await e.start();
    await until("mismatch", async () => (await statusOf(ref)).state === "mismatch");
    const gets = e.count("GET");
    await until("more checks", () => e.count("GET") >= gets + 3);
    expect(e.count("DELETE")).toBe(0);
    expect(e.count("POST")).toBe(0);
    expect(await metric(metrics, "dcnet_overlay_docker_mismatches_total")).toBe(1);
    expect((await statusOf(ref)).differences?.join("\n")).toMatch(/9\.0\.3\.128\/25/);
    // The container goes away: the network is replaced with the right one.
    e.network = { ...stale, Containers: {} };
    await until("recreated", async () => (await statusOf(ref)).state === "ready");
    expect(e.count("DELETE")).toBe(1);
    expect(e.network?.IPAM?.Config).toEqual(dockerNetworkSpec("dcos", OWN, 1450)?.IPAM.Config);
    expect(await metric(metrics, "dcnet_overlay_docker_network_changes_total", { action: "recreated" })).toBe(1);
  });

  it("a create Docker refuses is reported with Docker's message and retried, without restarting the actor", async () => {
    const { ref, engine: e } = await setup(() => READY);
    e.refuseCreate = { status: 403, message: "Pool overlaps with other one on this address space" };
    await e.start();
    await until("error", async () => (await statusOf(ref)).state === "error");
    const st = await statusOf(ref);
    expect(st.error).toMatch(/403 Pool overlaps/);
    const posts = e.count("POST");
    await until("a retry", () => e.count("POST") > posts);
    e.refuseCreate = undefined;
    await until("ready", async () => (await statusOf(ref)).state === "ready");
    expect(tree?.stats().find((a) => a.path === "/node/docker")?.restarts).toBe(0);
  });
});
