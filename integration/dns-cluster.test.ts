// DNS across a 3-node cluster of real `dcnet node` processes on 127.0.0.1: a native task registered
// with one node is answered by every node's DNS server (UDP with dig, TCP with kdig), goes away
// everywhere when deregistered, and goes away with its node when that node dies for good.
// One NATS server per node, routed into one cluster (as each agent uses its local server in
// production): a delta then crosses a route hop, and killing node A leaves B and C's servers up,
// so what the test watches is the membership/grace path, not a NATS outage.
import { afterAll, beforeAll, describe, expect, jest, test } from "@jest/globals";
import type { DcnetProcess } from "./support/dcnet-process.js";
import { within, type TestAdmin } from "./support/admin.js";
import { startDnsNodes, type DnsNodes } from "./support/dns-nodes.js";
import { dig, kdig, type DigResult } from "./support/dig.js";
import type { Task } from "../actors/catalogue/index.js";

jest.setTimeout(120_000);

const NODES = ["dns-a", "dns-b", "dns-c"] as const;
type NodeId = (typeof NODES)[number];
// Small enough to watch a dead node's facts go within the test, well above deadAfterMs so a
// scheduling hiccup on a loaded machine is not taken for a death.
const DEAD_GRACE_MS = 2000;
const ZONE = "dcos.thisdcos.directory";

const web: Task = { id: "web-1", name: "web", framework: "marathon", runtime: "native", agentIp: "10.1.0.1", taskIps: ["9.0.0.5", "9.0.0.6"], state: "running", ports: [] };
// A mapped host port makes autoip the agent's address rather than the task's own.
const db: Task = { id: "db-1", name: "db", framework: "marathon", runtime: "native", agentIp: "10.1.0.1", taskIps: ["9.0.0.7"], state: "running", ports: [{ name: "pg", protocol: "tcp", port: 5432, hostPort: 31_432, vips: [] }] };
const api: Task = { id: "api-1", name: "api", framework: "marathon", runtime: "native", agentIp: "10.2.0.1", taskIps: ["9.0.1.1"], state: "running", ports: [] };

const fqdn = (task: Task, kind: "agentip" | "containerip" | "autoip"): string => `${task.name}.${task.framework}.${kind}.${ZONE}`;

type Client = "dig" | "kdig+tcp";
const CLIENTS: readonly Client[] = ["dig", "kdig+tcp"];

describe("dns - a registration answered by every node of a 3-node cluster", () => {
  let lab: DnsNodes<NodeId> | undefined;
  let t: TestAdmin;
  let procs: ReadonlyMap<NodeId, DcnetProcess>;
  let dnsPort: ReadonlyMap<NodeId, number>;

  async function query(node: NodeId, client: Client, name: string): Promise<DigResult> {
    const server = { host: "127.0.0.1", port: dnsPort.get(node) as number };
    return client === "dig" ? dig(server, [name, "A"]) : kdig(server, ["+tcp", name, "A"]);
  }

  const addrs = (r: DigResult): string[] => r.answer.filter((a) => a.type === "A").map((a) => a.data).sort();

  /** Polls until `name` has exactly `expected` A records there, then returns that reply. */
  async function answered(node: NodeId, client: Client, name: string, expected: readonly string[]): Promise<DigResult> {
    const want = [...expected].sort().join(",");
    const { value } = await within(15_000, async () => {
      const r = await query(node, client, name);
      if (r.status !== "NOERROR" || addrs(r).join(",") !== want) throw new Error(`${node} ${client} ${name}: ${r.status} [${addrs(r).join(",")}], want [${want}]`);
      return r;
    }, 200);
    return value;
  }

  async function nxdomain(node: NodeId, client: Client, name: string, deadlineMs = 15_000): Promise<DigResult> {
    const { value } = await within(deadlineMs, async () => {
      const r = await query(node, client, name);
      if (r.status !== "NXDOMAIN") throw new Error(`${node} ${client} ${name}: still ${r.status} [${addrs(r).join(",")}]`);
      return r;
    }, 200);
    return value;
  }

  function expectPositive(r: DigResult, expected: readonly string[]): void {
    expect(r.status).toBe("NOERROR");
    expect(r.flags).toContain("aa");
    expect(addrs(r)).toEqual([...expected].sort());
    expect(r.answer.map((a) => a.ttl)).toEqual(expected.map(() => 5));
  }

  function expectNegative(r: DigResult): void {
    expect(r.status).toBe("NXDOMAIN");
    expect(r.flags).toContain("aa");
    expect(r.answer).toEqual([]);
    expect(r.authority).toHaveLength(1);
    const soa = r.authority[0];
    expect(soa?.type).toBe("SOA");
    expect(soa?.name).toBe(`${ZONE}.`);
    // RFC 2308: resolvers cache the NXDOMAIN for min(SOA TTL, SOA minimum); both are the negative TTL here.
    expect(soa?.ttl).toBe(1);
    expect(soa?.data.split(/\s+/).at(-1)).toBe("1");
  }

  beforeAll(async () => {
    lab = await startDnsNodes(NODES, { nodeYaml: `gossip:\n  deadGraceMs: ${DEAD_GRACE_MS}\n` });
    ({ admin: t, procs, dnsPort } = lab);
  });

  afterAll(async () => {
    await lab?.stop();
  });

  test("a task registered on A answers on A, B and C over UDP and TCP: agentip, containerip (both IPs), autoip; TTL 5, authoritative", async () => {
    await t.admin.request("dns-a", "task-add", { task: web });
    await t.admin.request("dns-a", "task-add", { task: db });
    const cases: Array<[string, readonly string[]]> = [
      [fqdn(web, "agentip"), [web.agentIp]],
      [fqdn(web, "containerip"), web.taskIps],
      [fqdn(web, "autoip"), web.taskIps],
      [fqdn(db, "agentip"), [db.agentIp]],
      [fqdn(db, "containerip"), db.taskIps],
      [fqdn(db, "autoip"), [db.agentIp]],
    ];
    for (const node of NODES) {
      for (const client of CLIENTS) {
        for (const [name, expected] of cases) expectPositive(await answered(node, client, name, expected), expected);
      }
    }
  });

  test("after task-rm on A every node answers NXDOMAIN with the zone's SOA (negative TTL 1); the other task stays", async () => {
    await t.admin.request("dns-a", "task-rm", { id: web.id });
    for (const node of NODES) {
      for (const client of CLIENTS) {
        for (const kind of ["agentip", "containerip", "autoip"] as const) expectNegative(await nxdomain(node, client, fqdn(web, kind)));
        expectPositive(await answered(node, client, fqdn(db, "agentip"), [db.agentIp]), [db.agentIp]);
      }
    }
  });

  test("node A killed for good: after the dead grace B and C stop answering A's task; B's own task stays answerable on C", async () => {
    await t.admin.request("dns-b", "task-add", { task: api });
    for (const node of ["dns-b", "dns-c"] as const) await answered(node, "dig", fqdn(api, "agentip"), [api.agentIp]);

    const a = procs.get("dns-a") as DcnetProcess;
    a.child.kill("SIGKILL");
    expect((await a.exited).signal).toBe("SIGKILL");

    // Dead after deadAfterMs of silence, facts dropped DEAD_GRACE_MS later: far inside the deadline.
    for (const node of ["dns-b", "dns-c"] as const) {
      for (const client of CLIENTS) {
        for (const kind of ["agentip", "containerip", "autoip"] as const) expectNegative(await nxdomain(node, client, fqdn(db, kind), 30_000));
      }
    }
    for (const node of ["dns-b", "dns-c"] as const) {
      const members = await t.admin.request(node, "members", {});
      expect(members.members.find((m) => m.node === "dns-a")?.state).toBe("dead");
    }
    for (const client of CLIENTS) {
      expectPositive(await answered("dns-c", client, fqdn(api, "agentip"), [api.agentIp]), [api.agentIp]);
      expectPositive(await answered("dns-c", client, fqdn(api, "containerip"), api.taskIps), api.taskIps);
      expectPositive(await answered("dns-b", client, fqdn(api, "autoip"), api.taskIps), api.taskIps);
    }
  });
});
