// A node polling its Mesos agent (a stand-in speaking the Operator API, serving the dcos-net
// fixture vip-labels.json): the agent's tasks become this node's facts and VIPs; when the agent
// stops answering, the last good tasks stay published.
import { afterAll, beforeAll, describe, expect, jest, test } from "@jest/globals";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { startNatsServer, type NatsServerHandle } from "./harness/nats-local.js";
import { startMesosMaster, type MesosMaster } from "./support/mesos-master.js";
import { spawnDcnet, isReady, type DcnetProcess } from "./support/dcnet-process.js";
import { connectAdmin, within, type TestAdmin } from "./support/admin.js";

jest.setTimeout(60_000);

const FIXTURE = new URL("../../shared/fixtures/dcos-net/vip-labels.json", import.meta.url);

describe("catalogue - Mesos agent poller", () => {
  let nats: NatsServerHandle;
  let agent: MesosMaster;
  let node: DcnetProcess;
  let t: TestAdmin;

  beforeAll(async () => {
    nats = await startNatsServer({});
    // A real agent's GET_STATE has no agents list; the poller asks GET_AGENT who it is.
    const { get_agents: agents, ...getState } = (JSON.parse(readFileSync(FIXTURE, "utf8")) as { get_state: { get_agents: { agents: Array<{ agent_info: unknown }> } } }).get_state;
    agent = await startMesosMaster({ state: getState, agent: { agent_info: agents.agents[0]?.agent_info } });
    node = spawnDcnet(["node", "--nats", nats.url, "--id", "agent-1", "--mesos-agent", agent.url], { DCNET_LOG_LEVEL: "info" });
    await node.waitForLine(isReady, 20_000);
    t = await connectAdmin([nats.url], 5000);
  });

  afterAll(async () => {
    await t?.close();
    await node?.stop();
    await agent?.close().catch(() => undefined);
    await nats?.stop();
  });

  test("the agent's tasks are this node's facts, with the VIPs dcos-net reads from vip-labels.json", async () => {
    const { value: ls } = await within(10_000, async () => {
      const r = await t.admin.request("agent-1", "task-ls", {});
      if (r.tasks.length === 0) throw new Error("no tasks yet");
      return r;
    });
    expect(ls.tasks.map((x) => [x.owner, x.task.name, x.task.framework, x.task.agentIp])).toEqual([["agent-1", "app", "marathon", "172.17.0.3"]]);
    const vips = await t.admin.request("agent-1", "vip-ls", {});
    const byVip = Object.fromEntries(vips.vips.map((v) => [v.vip, v.backends.map((b) => `${b.ip}:${b.port}/${b.state}`)]));
    expect(byVip).toEqual({
      "tcp:/abc:80@marathon": ["172.17.0.3:9999/serving"],
      "tcp:/cbd:80@marathon": ["172.17.0.3:9999/serving"],
      "tcp:/xyz:443@marathon": ["172.17.0.3:10001/serving"],
      "tcp:def:80@marathon": ["172.17.0.3:9999/serving"],
      "tcp:jkl:80@marathon": ["172.17.0.3:10000/serving"],
    });
    expect(agent.requests.some((r) => r.type === "GET_STATE")).toBe(true);
    expect(agent.requests.some((r) => r.type === "GET_AGENT")).toBe(true);
  });

  test("300 malformed registrations get error replies naming the problem; the catalogue stays as it was", async () => {
    const before = await t.admin.request("agent-1", "task-ls", {});
    const rand = fc.sample(fc.record({ task: fc.anything(), ttlMs: fc.oneof(fc.constant(undefined), fc.integer()) }), { numRuns: 300, seed: 42 });
    let refused = 0;
    for (const body of rand) {
      try {
        await t.admin.request("agent-1", "task-add", body as never, 5000);
      } catch (err) {
        expect((err as Error).message).toMatch(/refused the request: bad task-add request: \S/);
        refused++;
      }
    }
    expect(refused).toBe(300);
    expect(await t.admin.request("agent-1", "task-ls", {})).toEqual(before);
    expect(node.child.exitCode).toBeNull();
  });

  test("an unreachable agent changes nothing: the last good tasks stay, the failure is logged once", async () => {
    await agent.close();
    await new Promise((r) => setTimeout(r, 5000));
    const ls = await t.admin.request("agent-1", "task-ls", {});
    expect(ls.tasks.map((x) => x.task.name)).toEqual(["app"]);
    const failures = node.lines().filter((l) => l.msg === "mesos agent poll failed; keeping the last good tasks");
    expect(failures.length).toBe(1);
  });
});

describe("catalogue - Mesos agent over TLS", () => {
  let nats: NatsServerHandle;
  let agent: MesosMaster;
  let dir: string;
  const procs: DcnetProcess[] = [];

  beforeAll(async () => {
    // A self-signed certificate for 127.0.0.1, made for this test only.
    dir = mkdtempSync(join(tmpdir(), "dcnet-tls-"));
    execFileSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", join(dir, "key.pem"), "-out", join(dir, "cert.pem")], { stdio: "ignore" });
    nats = await startNatsServer({});
    const { get_agents: agents, ...getState } = (JSON.parse(readFileSync(FIXTURE, "utf8")) as { get_state: { get_agents: { agents: Array<{ agent_info: unknown }> } } }).get_state;
    agent = await startMesosMaster({ state: getState, agent: { agent_info: agents.agents[0]?.agent_info }, tls: { key: readFileSync(join(dir, "key.pem"), "utf8"), cert: readFileSync(join(dir, "cert.pem"), "utf8") }, token: "s3cret" });
  });

  afterAll(async () => {
    await Promise.all(procs.map((p) => p.stop()));
    await agent?.close();
    await nats?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test("with the CA trusted (NODE_EXTRA_CA_CERTS) and the token set, the tasks arrive; without the CA, nothing is published", async () => {
    expect(agent.url).toMatch(/^https:/);
    const trusted = spawnDcnet(["node", "--nats", nats.url, "--id", "tls-ok", "--mesos-agent", agent.url], { NODE_EXTRA_CA_CERTS: join(dir, "cert.pem"), DCNET_MESOS_TOKEN: "s3cret" });
    const untrusted = spawnDcnet(["node", "--nats", nats.url, "--id", "tls-no-ca", "--mesos-agent", agent.url], { DCNET_MESOS_TOKEN: "s3cret" });
    procs.push(trusted, untrusted);
    await Promise.all(procs.map((p) => p.waitForLine(isReady, 20_000)));
    const t = await connectAdmin([nats.url], 5000);
    try {
      const { value } = await within(10_000, async () => {
        const r = await t.admin.request("tls-ok", "task-ls", {});
        if (!r.tasks.some((x) => x.owner === "tls-ok")) throw new Error("not yet");
        return r;
      });
      expect(value.tasks.filter((x) => x.owner === "tls-ok").map((x) => x.task.name)).toEqual(["app"]);
      await untrusted.waitForLine((l) => l.msg === "mesos agent poll failed; keeping the last good tasks", 10_000);
      expect((await t.admin.request("tls-no-ca", "task-ls", {})).tasks.some((x) => x.owner === "tls-no-ca")).toBe(false);
      expect(agent.requests.every((r) => r.headers.authorization === "token=s3cret")).toBe(true);
    } finally {
      await t.close();
    }
  });
});
