// The README's first command and the CLI's promises, run as a user would: real processes,
// a real nats-server started by `dcnet up`.
import { describe, it, expect, beforeAll, afterAll } from "@jest/globals";
import { mkdtempSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawnDcnet, runDcnet, isReady, type DcnetProcess } from "./support/dcnet-process.js";
import { freePort, portOpen } from "./support/ports.js";

describe("dcnet up + dcnet ctl", () => {
  let up: DcnetProcess;
  let port: number;
  let nats: string;

  beforeAll(async () => {
    port = await freePort();
    nats = `nats://127.0.0.1:${port}`;
    up = spawnDcnet(["up", "--nats-port", String(port), "--id", "up-node"]);
    await up.waitForLine(isReady, 20_000);
  }, 30_000);

  afterAll(async () => {
    await up?.stop();
  });

  it("ctl ping without --node answers with the node id", async () => {
    const r = await runDcnet(["ctl", "--nats", nats, "ping"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^pong from up-node \(dcnet \d+\.\d+\.\d+, up \S+\) in [\d.]+ ms/);
  }, 20_000);

  it("ctl status --json shows the node, its NATS server and the actor tree", async () => {
    const r = await runDcnet(["ctl", "--nats", nats, "--node", "up-node", "status", "--json"]);
    expect(r.code).toBe(0);
    const s = JSON.parse(r.stdout) as { node: string; nats: { state: string; server: string }; actors: Array<{ path: string; restarts: number; mailbox: number }> };
    expect(s.node).toBe("up-node");
    expect(s.nats).toMatchObject({ state: "connected", server: expect.stringContaining(`:${port}`) });
    expect(s.actors.map((a) => a.path)).toEqual(expect.arrayContaining(["/node", "/node/connection", "/node/admin"]));
    expect(s.actors.every((a) => a.restarts === 0)).toBe(true);
  }, 20_000);

  it("ctl status prints a table by default", async () => {
    const r = await runDcnet(["ctl", "--nats", nats, "--node", "up-node", "status"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/ACTOR\s+KIND\s+STATUS\s+RESTARTS\s+UPTIME\s+MAILBOX\s+DROPPED\s+LAST ERROR/);
    expect(r.stdout).toMatch(/\/node\/admin\s+worker\s+running\s+0/);
  }, 20_000);

  it("log-level changes the level at runtime", async () => {
    expect((await runDcnet(["ctl", "--nats", nats, "--node", "up-node", "log-level", "debug"])).stdout).toContain("up-node: log level info -> debug");
    const s = JSON.parse((await runDcnet(["ctl", "--nats", nats, "--node", "up-node", "status", "--json"])).stdout) as { logLevel: string };
    expect(s.logLevel).toBe("debug");
  }, 20_000);

  it("crash is refused unless the node's config allows it", async () => {
    const r = await runDcnet(["ctl", "--nats", nats, "--node", "up-node", "crash", "/node/connection"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("crash is disabled on this node");
  }, 20_000);

  it("an unknown node is a clear error and a non-zero exit", async () => {
    const r = await runDcnet(["ctl", "--nats", nats, "--node", "nobody", "--timeout", "500", "ping"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/no node "nobody" in cluster "dcnet"|node "nobody" did not answer within 500 ms/);
  }, 20_000);

  it("--all gathers every node", async () => {
    const r = await runDcnet(["ctl", "--nats", nats, "--all", "--timeout", "500", "ping", "--json"]);
    expect(r.code).toBe(0);
    expect((JSON.parse(r.stdout) as Array<{ node: string; ok: boolean }>).map((x) => [x.node, x.ok])).toEqual([["up-node", true]]);
  }, 20_000);

  it("SIGTERM stops the node and its nats-server, exit code 0", async () => {
    const { code } = await up.stop(10_000);
    expect(code).toBe(0);
    const msgs = up.lines().map((l) => l.msg);
    expect(msgs).toEqual(expect.arrayContaining(["node stopping", "node stopped"]));
    expect(await portOpen(port)).toBe(false);
  }, 20_000);
});

describe("dcnet node - config errors", () => {
  const dir = mkdtempSync(join(tmpdir(), "dcnet-cli-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each([
    ["an unknown key", "id: a\nnats:\n  servrs: [nats://127.0.0.1:4222]\n", 'unknown key "nats.servrs"'],
    ["a wrong type", "id: a\nsupervision:\n  intensity: lots\n", "supervision.intensity: Invalid input: expected number"],
  ])("%s exits 2 naming the key", async (_what, yaml, message) => {
    const file = join(dir, `${Math.random().toString(36).slice(2)}.yaml`);
    writeFileSync(file, yaml);
    const r = await runDcnet(["node", "--config", file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(message);
  }, 20_000);

  it("a bad flag value exits 2", async () => {
    const r = await runDcnet(["node", "--id", "a", "--nats", "http://127.0.0.1:1"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("nats.servers.0: a nats:// or tls:// URL");
  }, 20_000);

  it("a missing nats-server binary is explained with the install command", async () => {
    const r = await runDcnet(["up", "--nats-port", "4999"], { DCNET_NATS_SERVER: "/nonexistent/nats-server" });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("nats-server not found at /nonexistent/nats-server. Install it with: sudo apt-get install -y nats-server");
  }, 20_000);
});
