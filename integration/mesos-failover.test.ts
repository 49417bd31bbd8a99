// Mesos master failover against two Operator API stand-ins speaking the real wire format (RecordIO
// over chunked HTTP, 307 from the standby, heartbeats), fed the dcos-net fixture operator-api.json.
// Node A follows master 1, node B master 2, node C only reads. The leader's stream drops and
// master 2 takes over with the same tasks: the catalogue must never be empty on any node.
import { afterAll, beforeAll, describe, expect, jest, test } from "@jest/globals";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startNatsServer, type NatsServerHandle } from "./harness/nats-local.js";
import { startMesosMaster, type MesosMaster } from "./support/mesos-master.js";
import { spawnDcnet, isReady, type DcnetProcess } from "./support/dcnet-process.js";
import { connectAdmin, within, type TestAdmin } from "./support/admin.js";

jest.setTimeout(90_000);

const SCRIPT = readFileSync(new URL("../../shared/fixtures/dcos-net/operator-api.json", import.meta.url), "utf8")
  .split("\n")
  .filter((l) => l.trim() !== "");
const NODES = ["mA", "mB", "reader"] as const;

describe("catalogue - Mesos Operator API listener and master failover", () => {
  let nats: NatsServerHandle;
  let m1: MesosMaster;
  let m2: MesosMaster;
  let procs: DcnetProcess[] = [];
  let t: TestAdmin;
  let dir: string;

  const operatorTasks = async (node: string) => (await t.admin.request(node, "task-ls", {})).tasks.filter((x) => x.task.id.includes("/"));

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "dcnet-mesos-"));
    writeFileSync(join(dir, "node.yaml"), "mesos:\n  tasksReadinessMs: 300\n");
    nats = await startNatsServer({});
    m1 = await startMesosMaster({ script: SCRIPT, heartbeatMs: 200 });
    m2 = await startMesosMaster({ script: SCRIPT, heartbeatMs: 200, leader: false });
    m2.setLeader(false, `${m1.url}/api/v1`);
    const conf = ["--config", join(dir, "node.yaml"), "--nats", nats.url];
    procs = [
      spawnDcnet(["node", ...conf, "--id", "mA", "--mesos", m1.url]),
      spawnDcnet(["node", ...conf, "--id", "mB", "--mesos", m2.url]),
      spawnDcnet(["node", ...conf, "--id", "reader"]),
    ];
    await Promise.all(procs.map((p) => p.waitForLine(isReady, 20_000)));
    t = await connectAdmin([nats.url], 5000);
  });

  afterAll(async () => {
    await t?.close();
    await Promise.all(procs.map((p) => p.stop()));
    await m1?.close();
    await m2?.close();
    await nats?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test("the leader's node publishes the fixture's 12 tasks, seen on every node; the standby publishes nothing", async () => {
    await within(15_000, async () => {
      for (const n of NODES) if ((await operatorTasks(n)).length !== 12) throw new Error(`${n} not there yet`);
    });
    const tasks = await operatorTasks("reader");
    expect(new Set(tasks.map((x) => x.owner))).toEqual(new Set(["mA"]));
    expect(tasks.map((x) => x.task.name).sort()).toContain("docker-on-ipv6");
    expect((await t.admin.request("reader", "state-get", { key: "mesos/leader" })).value).toMatchObject({ node: { value: "mA" } });
    expect(m2.requests.some((r) => r.type === "SUBSCRIBE" && r.status === 307)).toBe(true);
  });

  test("failover: the stream drops, master 2 leads; the catalogue never goes empty on any node", async () => {
    let minSeen = Number.POSITIVE_INFINITY;
    let polling = true;
    const poll = (async () => {
      while (polling) {
        for (const n of NODES) minSeen = Math.min(minSeen, (await operatorTasks(n)).length);
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    m1.setLeader(false, `${m2.url}/api/v1`);
    m2.setLeader(true);
    m1.dropStreams("reset");
    await within(20_000, async () => {
      for (const n of NODES) {
        const owners = new Set((await operatorTasks(n)).map((x) => x.owner));
        if (owners.size !== 1 || !owners.has("mB")) throw new Error(`${n}: owners ${[...owners].join(",")}`);
      }
    }, 200);
    polling = false;
    await poll;
    expect(minSeen).toBeGreaterThanOrEqual(12);
    expect((await t.admin.request("reader", "state-get", { key: "mesos/leader" })).value).toMatchObject({ node: { value: "mB" } });
    for (const n of NODES) expect(await operatorTasks(n)).toHaveLength(12);
  });

  test("garbage on the stream (bad JSON, a truncated frame) is skipped; the node stays up and keeps the table", async () => {
    m2.emitRaw("13\n{not json at a");
    m2.emitRaw("7\n{\"a\":1}");
    m2.emitRaw("99999\n{\"type\":\"HEARTBEAT\"");
    m2.dropStreams("end");
    await new Promise((r) => setTimeout(r, 2500));
    for (const n of NODES) expect(await operatorTasks(n)).toHaveLength(12);
    expect(procs.every((p) => p.child.exitCode === null)).toBe(true);
  });
});
