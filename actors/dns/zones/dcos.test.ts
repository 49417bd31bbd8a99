// dcos.thisdcos.directory from real dcos-net fixtures, converted by the real catalogue converter.
// Expectations are ported from dcos/dcos-net apps/dcos_dns/test/dcos_dns_mesos_tests.erl (the
// version at 161a03e, the last one touching it; the older one expected no containerip for host
// networking because the listener then gave host tasks no task_ip).
import { describe, expect, it } from "@jest/globals";
import { readFileSync } from "node:fs";
import { taskSchema, type Task } from "../../catalogue/index.js";
import { tasksFromMesosState } from "../../catalogue/index.js";
import { applyEvent, EMPTY_STATE, mesosStateFromGetState, type MesosState } from "../../catalogue/index.js";
import type { ZoneProblem } from "./builder.js";
import { DCOS_ORIGIN, autoIps, dcosZone } from "./dcos.js";
import type { Zone, ZoneRecordType } from "./types.js";

const lines = (name: string) =>
  readFileSync(new URL(`../../../../shared/fixtures/dcos-net/${name}`, import.meta.url), "utf8")
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => JSON.parse(l) as unknown);

/** Single GET_STATE fixtures, or a SUBSCRIBE stream folded with applyEvent (as convert.test.ts does). */
function fixtureTasks(name: string): Task[] {
  const msgs = lines(name);
  const state = msgs.length === 1 ? mesosStateFromGetState(msgs[0]) : msgs.reduce<MesosState>((st, ev) => applyEvent(st, ev).state, EMPTY_STATE);
  const { tasks, problems } = tasksFromMesosState(state);
  expect(problems).toEqual([]);
  return tasks;
}

/** What a query for (name, type) would get: the record data of that RRset, or []. */
const resolve = (zone: Zone, name: string, type: ZoneRecordType = "A") => zone.names.get(name)?.get(type)?.map((r) => r.data) ?? [];
const dname = (app: string, kind: string, framework = "marathon") => `${app}.${framework}.${kind}.${DCOS_ORIGIN}`;

// [app, agentip, autoip, containerip] — basic_test_/0, one row per test function.
const BASIC: Array<[string, string, string, string]> = [
  ["none-on-host", "172.17.0.4", "172.17.0.4", "172.17.0.4"],
  ["none-on-dcos", "172.17.0.4", "9.0.2.5", "9.0.2.5"],
  ["ucr-on-host", "172.17.0.3", "172.17.0.3", "172.17.0.3"],
  ["ucr-on-bridge", "172.17.0.3", "172.17.0.3", "172.31.254.3"],
  ["ucr-on-dcos", "172.17.0.3", "9.0.1.6", "9.0.1.6"],
  ["docker-on-host", "172.17.0.4", "172.17.0.4", "172.17.0.4"],
  ["docker-on-bridge", "172.17.0.4", "172.17.0.4", "172.18.0.2"],
  ["docker-on-dcos", "172.17.0.4", "9.0.2.130", "9.0.2.130"],
  ["pod-on-host", "172.17.0.4", "172.17.0.4", "172.17.0.4"],
  ["pod-on-bridge", "172.17.0.3", "172.17.0.3", "172.31.254.4"],
  ["pod-on-dcos", "172.17.0.3", "9.0.1.3", "9.0.1.3"],
];

describe("dcosZone on operator-api.json = dcos_dns_mesos_tests basic_test_", () => {
  const zone = dcosZone({ tasks: fixtureTasks("operator-api.json"), masters: ["172.17.0.2"], leader: "172.17.0.2" });

  it.each(BASIC)("%s: agentip %s, autoip %s, containerip %s", (app, agent, auto, container) => {
    expect(resolve(zone, dname(app, "agentip"))).toEqual([agent]);
    expect(resolve(zone, dname(app, "autoip"))).toEqual([auto]);
    expect(resolve(zone, dname(app, "containerip"))).toEqual([container]);
    for (const kind of ["agentip", "autoip", "containerip"]) expect(resolve(zone, dname(app, kind), "AAAA")).toEqual([]);
  });

  it("docker-on-ipv6: agentip A 172.17.0.4; autoip and containerip AAAA fd01:b::2:8000:0:2", () => {
    expect(resolve(zone, dname("docker-on-ipv6", "agentip"))).toEqual(["172.17.0.4"]);
    expect(resolve(zone, dname("docker-on-ipv6", "autoip"), "AAAA")).toEqual(["fd01:b::2:8000:0:2"]);
    expect(resolve(zone, dname("docker-on-ipv6", "containerip"), "AAAA")).toEqual(["fd01:b::2:8000:0:2"]);
    // Not asserted upstream, but the same rule: the task's IPv4 is served too.
    expect(resolve(zone, dname("docker-on-ipv6", "containerip"))).toEqual(["172.19.0.2"]);
  });

  it("has the names of the 12 tasks, master, leader, SOA/NS, and the empty non-terminals only", () => {
    const owners = [...zone.names].filter(([, sets]) => sets.size > 0).map(([n]) => n);
    expect(owners).toHaveLength(12 * 3 + 3);
    expect(resolve(zone, `master.${DCOS_ORIGIN}`)).toEqual(["172.17.0.2"]);
    expect(resolve(zone, `leader.${DCOS_ORIGIN}`)).toEqual(["172.17.0.2"]);
    for (const ent of [`agentip.${DCOS_ORIGIN}`, `marathon.autoip.${DCOS_ORIGIN}`, `marathon.containerip.${DCOS_ORIGIN}`]) {
      expect(zone.names.get(ent)?.size).toBe(0);
    }
    expect(zone.names.has(`marathon.${DCOS_ORIGIN}`)).toBe(false);
  });

  it("serves TTL 5 and dcos-net's SOA/NS", () => {
    expect(zone.names.get(dname("none-on-dcos", "autoip"))?.get("A")).toEqual([{ type: "A", ttl: 5, data: "9.0.2.5" }]);
    expect(zone.soa.data).toEqual({ mname: "ns.spartan", rname: "support.mesosphere.com", serial: 1, refresh: 60, retry: 180, expire: 86400, minimum: 1 });
  });
});

// hello_overlay_test_: the fixture (hello-overlay.json) is kept for acceptance checks, so the tasks
// are the ones dcos_net_mesos_listener_tests.erl expects the listener to produce from it.
describe("dcosZone = dcos_dns_mesos_tests hello_overlay_test_ (tasks as the listener test expects them)", () => {
  const task = (name: string, framework: string, taskIps: string[], port: number): Task =>
    taskSchema.parse({
      id: `f/${name}`, name, framework, runtime: "mesos", agentIp: "10.0.0.49", taskIps, state: "running",
      ports: [{ name: "p", protocol: "tcp", port, vips: [] }],
    });
  const zone = dcosZone({
    tasks: [
      task("hello-world", "marathon", ["10.0.0.49"], 19630),
      task("hello-overlay-0-server", "hello-world", ["9.0.2.2"], 1025),
      task("hello-overlay-vip-0-server", "hello-world", ["9.0.2.3"], 4044),
      task("hello-host-vip-0-server", "hello-world", ["10.0.0.49"], 4044),
    ],
    masters: [],
  });
  it.each([
    ["hello-world", "marathon", "10.0.0.49", "10.0.0.49"],
    ["hello-overlay-0-server", "hello-world", "9.0.2.2", "9.0.2.2"],
    ["hello-overlay-vip-0-server", "hello-world", "9.0.2.3", "9.0.2.3"],
    ["hello-host-vip-0-server", "hello-world", "10.0.0.49", "10.0.0.49"],
  ])("%s.%s: agentip 10.0.0.49, autoip %s, containerip %s", (app, fw, auto, container) => {
    expect(resolve(zone, dname(app, "agentip", fw))).toEqual(["10.0.0.49"]);
    expect(resolve(zone, dname(app, "autoip", fw))).toEqual([auto]);
    expect(resolve(zone, dname(app, "containerip", fw))).toEqual([container]);
  });
});

describe("dcosZone rules", () => {
  const base: Task = {
    id: "f/a.1", name: "a", framework: "marathon", runtime: "mesos", agentIp: "10.0.0.1", taskIps: ["9.0.0.1"], state: "running", ports: [],
  };

  it("only running tasks (hello-world.json: tasks killed, framework removed → no task names)", () => {
    const zone = dcosZone({ tasks: fixtureTasks("hello-world.json"), masters: [] });
    expect([...zone.names.keys()]).toEqual([DCOS_ORIGIN]);
    for (const state of ["preparing", "killing", "terminal"] as const) {
      expect(dcosZone({ tasks: [{ ...base, state }], masters: [] }).names.size).toBe(1);
    }
  });

  it("autoip: agent IP when any port has a host port or the task has no IP of its own", () => {
    expect(autoIps(base)).toEqual(["9.0.0.1"]);
    expect(autoIps({ ...base, ports: [{ name: "http", protocol: "tcp", port: 80, hostPort: 31000, vips: [] }] })).toEqual(["10.0.0.1"]);
    const noIp = dcosZone({ tasks: [{ ...base, taskIps: [] }], masters: [] });
    expect(resolve(noIp, dname("a", "autoip"))).toEqual(["10.0.0.1"]);
    expect(noIp.names.has(dname("a", "containerip"))).toBe(false);
  });

  it("labels name and framework (framework as one label): /mygroup/myapp → myapp-mygroup", () => {
    const zone = dcosZone({ tasks: [{ ...base, name: "myapp.mygroup", framework: "My.Framework" }], masters: [] });
    expect(resolve(zone, dname("myapp-mygroup", "agentip", "my-framework"))).toEqual(["10.0.0.1"]);
  });

  it("keeps a name+IP shared by two tasks while either runs (dcos-net's reference counts)", () => {
    const other = { ...base, id: "f/a.2", taskIps: ["9.0.0.2"] };
    expect(resolve(dcosZone({ tasks: [base, other], masters: [] }), dname("a", "containerip"))).toEqual(["9.0.0.1", "9.0.0.2"]);
    expect(resolve(dcosZone({ tasks: [base, other], masters: [] }), dname("a", "agentip"))).toEqual(["10.0.0.1"]);
    expect(resolve(dcosZone({ tasks: [base, { ...other, state: "terminal" }], masters: [] }), dname("a", "containerip"))).toEqual(["9.0.0.1"]);
  });

  it("masters A/AAAA, leader only when known; bad input reported, not thrown", () => {
    const problems: ZoneProblem[] = [];
    const zone = dcosZone(
      { tasks: [{ ...base, name: "___" }], masters: ["10.0.0.2", "10.0.0.3", "fd00::2", "10.0.0.2", "nonsense"] },
      { ttl: 30, onProblem: (p) => problems.push(p) },
    );
    expect(resolve(zone, `master.${DCOS_ORIGIN}`)).toEqual(["10.0.0.2", "10.0.0.3"]);
    expect(resolve(zone, `master.${DCOS_ORIGIN}`, "AAAA")).toEqual(["fd00::2"]);
    expect(zone.names.has(`leader.${DCOS_ORIGIN}`)).toBe(false);
    expect(zone.names.get(`master.${DCOS_ORIGIN}`)?.get("A")?.[0]?.ttl).toBe(30);
    expect(problems.map((p) => p.item)).toEqual(["task f/a.1", `master.${DCOS_ORIGIN} A/AAAA`]);
  });
});
