// Task records across versions (actors/catalogue/README.md): a task written into the replicated store
// the way a newer dcnet would write it — its record version, a field this version does not know on
// the task and on a port — is answered in DNS by every node of a 3-node cluster of real `dcnet node`
// processes, listed whole by `ctl task ls`, and kept in the store (`ctl state get`). A record with a
// wrong type in a known field is skipped everywhere; a registration with an unknown field is
// refused with a message naming it.
// Address plan: everything on 127.0.0.1; one NATS server per node, routed into one cluster; DNS on
// a free loopback port per node; the task's addresses (10.9.0.0/16) are data only, never contacted.
import { afterAll, beforeAll, describe, expect, jest, test } from "@jest/globals";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { NatsClusterHandle } from "./harness/nats-local.js";
import { runDcnet } from "./support/dcnet-process.js";
import { within, type TestAdmin } from "./support/admin.js";
import { startDnsNodes, type DnsNodes } from "./support/dns-nodes.js";
import { dig, type DigResult } from "./support/dig.js";
import { TASK_RECORD_VERSION } from "../actors/catalogue/index.js";

jest.setTimeout(120_000);

const NODES = ["compat-a", "compat-b", "compat-c"] as const;
type NodeId = (typeof NODES)[number];
const ZONE = "dcos.thisdcos.directory";
// Written through compat-b's store, so it is compat-b's fact (tasks/<owner>/<source>/<id>).
const WRITER: NodeId = "compat-b";
const KEY = `tasks/${WRITER}/native/future-1`;
const BAD_KEY = `tasks/${WRITER}/native/bad-1`;

// Every field of this version, plus what a newer writer adds: `v`, `labels2` and `future` on the
// task, `weight` on a port.
const NEWER = {
  v: TASK_RECORD_VERSION + 1,
  id: "future-1",
  name: "future",
  framework: "marathon",
  runtime: "native",
  agentIp: "10.9.0.1",
  taskIps: ["10.9.0.5"],
  state: "running",
  healthy: true,
  ports: [{ name: "http", protocol: "tcp", port: 8080, vips: ["/future:80"], weight: 3 }],
  labels2: { tier: "web", team: "edge" },
  future: [1, "two", { three: 3 }],
};

describe("task records from a newer writer, in a 3-node cluster", () => {
  let lab: DnsNodes<NodeId> | undefined;
  let nats: NatsClusterHandle;
  let t: TestAdmin;
  let dnsPort: ReadonlyMap<NodeId, number>;
  let dir: string;

  const ctl = (node: NodeId, ...args: string[]) => runDcnet(["ctl", "--nats", nats.urls[0] as string, "--node", node, ...args]);
  const query = (node: NodeId, name: string): Promise<DigResult> => dig({ host: "127.0.0.1", port: dnsPort.get(node) as number }, [name, "A"]);
  const addrs = (r: DigResult): string[] => r.answer.filter((a) => a.type === "A").map((a) => a.data).sort();

  beforeAll(async () => {
    lab = await startDnsNodes(NODES);
    ({ nats, admin: t, dnsPort, dir } = lab);
  });

  afterAll(async () => {
    await lab?.stop();
  });

  test("written straight into the store (`ctl state set`), a newer record is answered in DNS by every node", async () => {
    const set = await ctl(WRITER, "state", "set", KEY, "task", JSON.stringify(NEWER));
    expect(set.stderr).toBe("");
    expect(set.code).toBe(0);
    for (const n of NODES) {
      for (const [kind, want] of [["agentip", ["10.9.0.1"]], ["containerip", ["10.9.0.5"]]] as const) {
        const name = `future.marathon.${kind}.${ZONE}`;
        const { value } = await within(15_000, async () => {
          const r = await query(n, name);
          if (r.status !== "NOERROR" || addrs(r).join(",") !== want.join(",")) throw new Error(`${n} ${name}: ${r.status} [${addrs(r).join(",")}]`);
          return r;
        }, 200);
        expect(value.flags).toContain("aa");
        expect(addrs(value)).toEqual(want);
      }
    }
  });

  test("every node lists it whole, unknown fields included (`ctl task ls`), and derives its VIP", async () => {
    for (const n of NODES) {
      const ls = await ctl(n, "task", "ls", "--json");
      expect(ls.code).toBe(0);
      const tasks = (JSON.parse(ls.stdout) as { tasks: Array<{ owner: string; task: Record<string, unknown> }> }).tasks;
      expect(tasks.find((x) => x.task.id === "future-1")).toEqual({ owner: WRITER, task: NEWER });
      const human = await ctl(n, "task", "ls");
      expect(human.code).toBe(0);
      expect(human.stdout).toMatch(/future-1\s+future\s+marathon\s+compat-b\s+running/);
      const vips = await t.admin.request(n, "vip-ls", {});
      expect(vips.vips.find((v) => v.vip === "tcp:/future:80@marathon")?.backends).toEqual([{ owner: WRITER, taskId: "future-1", ip: "10.9.0.5", port: 8080, state: "serving" }]);
    }
  });

  test("the store keeps the record as written on every node (`ctl state get`)", async () => {
    for (const n of NODES) {
      const got = await ctl(n, "state", "get", KEY, "--json");
      expect(got.code).toBe(0);
      const value = (JSON.parse(got.stdout) as { value: { task: { type: string; value: unknown } } }).value;
      expect(value.task.type).toBe("lww");
      expect(value.task.value).toEqual(NEWER);
    }
  });

  test("a wrong type in a known field is still skipped by every node, the valid record stays", async () => {
    const bad = { ...NEWER, id: "bad-1", name: "bad", state: 42 };
    expect((await ctl(WRITER, "state", "set", BAD_KEY, "task", JSON.stringify(bad))).code).toBe(0);
    // Visible in the store everywhere first, so "not listed" below is the reader's decision.
    await within(15_000, async () => {
      for (const n of NODES) if ((await t.admin.request(n, "state-get", { key: BAD_KEY })).value === null) throw new Error(`${n}: not replicated yet`);
    }, 200);
    for (const n of NODES) {
      const ls = await t.admin.request(n, "task-ls", {});
      expect(ls.tasks.map((x) => x.task.id).sort()).toEqual(["future-1"]);
      const r = await query(n, `bad.marathon.agentip.${ZONE}`);
      expect(r.status).toBe("NXDOMAIN");
      expect(addrs(await query(n, `future.marathon.agentip.${ZONE}`))).toEqual(["10.9.0.1"]);
    }
  });

  test("a registration with a field this node does not know is refused, naming the field", async () => {
    const { v: _v, labels2: _l, future: _f, ports, ...known } = NEWER;
    const file = join(dir, "typo.json");
    writeFileSync(file, JSON.stringify({ ...known, id: "typo-1", ports: ports.map(({ weight: _w, ...p }) => p), labels2: { tier: "web" } }));
    const r = await ctl("compat-a", "task", "add", file);
    expect(r.code).not.toBe(0);
    expect(`${r.stderr}${r.stdout}`).toContain("labels2");
    expect((await t.admin.request("compat-a", "task-ls", {})).tasks.some((x) => x.task.id === "typo-1")).toBe(false);
    // The same task without the typo registers.
    writeFileSync(file, JSON.stringify({ ...known, id: "typo-1", ports: ports.map(({ weight: _w, ...p }) => p) }));
    const ok = await ctl("compat-a", "task", "add", file);
    expect(ok.stderr).toBe("");
    expect(ok.code).toBe(0);
  });
});
