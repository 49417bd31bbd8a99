import { describe, it, expect } from "@jest/globals";
import { readFileSync } from "node:fs";
import fc from "fast-check";
import { taskSchema, type Task, type TaskPort } from "../model.js";
import { agentFromMesos, frameworkFromMesos, taskFromMesos, tasksFromMesosState } from "./mesos-tasks.js";
import { applyEvent, EMPTY_STATE, mesosStateFromGetState, type MesosState } from "./mesos-state.js";

// Fixtures: unmodified dcos-net test data (../shared/fixtures/dcos-net, Apache-2.0). Expectations are
// the ones apps/dcos_net/test/dcos_net_mesos_listener_tests.erl asserts for the same file.
const lines = (name: string) =>
  readFileSync(new URL(`../../../../shared/fixtures/dcos-net/${name}`, import.meta.url), "utf8")
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => JSON.parse(l) as unknown);

/** Single GET_STATE fixtures, or a SUBSCRIBE stream folded with applyEvent. */
function fixtureState(name: string): MesosState {
  const msgs = lines(name);
  if (msgs.length === 1) return mesosStateFromGetState(msgs[0]);
  return msgs.reduce<MesosState>((st, ev) => applyEvent(st, ev).state, EMPTY_STATE);
}

const byTaskId = (tasks: Task[]) => new Map(tasks.map((t) => [t.id.split("/")[1], t]));
const live = (tasks: Task[]) => tasks.filter((t) => t.state !== "terminal");

describe("tasksFromMesosState on dcos-net fixtures", () => {
  it("vip-labels.json = vip_labels_test: discovery VIP_n and vip_portN labels merged per port", () => {
    const { tasks, problems } = tasksFromMesosState(fixtureState("vip-labels.json"));
    expect(problems).toEqual([]);
    expect(tasks).toEqual([
      {
        id: "3de98647-82e7-4a22-8fb5-32df27c1ef69-0001/app.c9e19be4-6a94-11e8-bfc9-70b3d5800002",
        name: "app", runtime: "mesos", framework: "marathon", agentIp: "172.17.0.3", taskIps: ["172.17.0.3"],
        state: "running", healthy: true,
        ports: [
          { name: "foo", protocol: "tcp", port: 9999, vips: ["/abc:80", "/cbd:80", "def:80"] },
          { name: "bar", protocol: "tcp", port: 10000, vips: ["jkl:80"] },
          { name: "baz", protocol: "tcp", port: 10001, vips: ["/xyz:443"] },
          { name: "qux", protocol: "tcp", port: 10002, vips: [] },
        ],
      },
    ]);
  });

  it("dns-hostname.json = dns_hostname_test: agent hostname 'localhost' resolved to 127.0.0.1", () => {
    const resolveHost = (h: string) => (h === "localhost" ? "127.0.0.1" : undefined);
    const { tasks, problems } = tasksFromMesosState(fixtureState("dns-hostname.json"), { resolveHost });
    expect(problems).toEqual([]);
    expect(tasks).toEqual([
      {
        id: "d0a07cf9-7424-426b-b138-2be9d07b8e62-0001/test.f12cc459-cb38-11e8-a264-2e431fa5cff2",
        name: "test", runtime: "docker", framework: "marathon", agentIp: "127.0.0.1", taskIps: ["127.0.0.1"],
        state: "running", ports: [],
      },
    ]);
  });

  it("dns-hostname.json without a resolver: the task is skipped with a Problem naming agent and task", () => {
    const { tasks, problems } = tasksFromMesosState(fixtureState("dns-hostname.json"));
    expect(tasks).toEqual([]);
    expect(problems.map((p) => p.item)).toEqual([
      "agent d0a07cf9-7424-426b-b138-2be9d07b8e62-S4",
      "task d0a07cf9-7424-426b-b138-2be9d07b8e62-0001/test.f12cc459-cb38-11e8-a264-2e431fa5cff2",
    ]);
    expect(problems[1]?.message).toMatch(/"localhost" is unresolvable/);
  });

  it("tcp-and-udp.json = tcp_udp_test: same ports over tcp and udp, VIP /app:80 on both", () => {
    const { tasks, problems } = tasksFromMesosState(fixtureState("tcp-and-udp.json"));
    expect(problems).toEqual([]);
    expect(tasks).toEqual([
      {
        id: "0e559f52-e43a-497a-90b8-11688d98f60c-0000/app.80eefa01-d956-11e8-8b68-70b3d5800002",
        name: "app", runtime: "docker", framework: "marathon", agentIp: "172.17.0.3", taskIps: ["172.17.0.3"],
        state: "running", healthy: true,
        ports: [
          { name: "http", protocol: "tcp", port: 6416, vips: ["/app:80"] },
          { name: "foobar", protocol: "tcp", port: 6417, vips: [] },
          { name: "http", protocol: "udp", port: 6416, vips: ["/app:80"] },
          { name: "foobar", protocol: "udp", port: 6417, vips: [] },
        ],
      },
    ]);
  });

  it("unhealthy.json = unhealthy_test: overlay task with failing health check → healthy false", () => {
    const { tasks, problems } = tasksFromMesosState(fixtureState("unhealthy.json"));
    expect(problems).toEqual([]);
    expect(tasks).toEqual([
      {
        id: "ca0f7f0e-30a7-471b-8e2e-500e1e8a3799-0000/app.7a5a8aa6-d8be-11e8-9bf3-70b3d5800001",
        name: "app", runtime: "mesos", framework: "marathon", agentIp: "172.17.0.4", taskIps: ["9.0.1.6"],
        state: "running", healthy: false,
        ports: [{ name: "http", protocol: "tcp", port: 80, vips: ["/foobar:80"] }],
      },
    ]);
  });

  it("hello-world.json = hello_world_test: every task killed/finished, framework removed → no tasks", () => {
    const { tasks, problems } = tasksFromMesosState(fixtureState("hello-world.json"));
    expect(problems).toEqual([]);
    expect(live(tasks)).toEqual([]);
  });
});

describe("operator-api.json = basic_test_ (SUBSCRIBED + TASK_ADDED/UPDATED folded with applyEvent)", () => {
  const { tasks, problems, waiting } = tasksFromMesosState(fixtureState("operator-api.json"));
  const t = byTaskId(tasks);
  const http = (port: number, hostPort?: number): TaskPort[] => [
    hostPort === undefined
      ? { name: "http", protocol: "tcp", port, vips: [] }
      : { name: "http", protocol: "tcp", port, hostPort, vips: [] },
  ];
  const expectTask = (taskId: string, fields: Partial<Task>) =>
    expect(t.get(taskId)).toEqual({
      id: `30257977-0153-499d-a5b0-35afd842ef4d-0001/${taskId}`, framework: "marathon", state: "running", ...fields,
    });

  it("converts all 12 tasks with no problem and nothing waiting", () => {
    expect(problems).toEqual([]);
    expect(waiting).toEqual([]);
    expect(tasks).toHaveLength(12);
  });
  it("none_on_host: host network, discovery port 13977", () =>
    expectTask("none-on-host.1458594c-2630-11e8-af52-70b3d5800001", {
      name: "none-on-host", runtime: "mesos", agentIp: "172.17.0.4", taskIps: ["172.17.0.4"], ports: http(13977) }));
  it("none_on_dcos: overlay IP 9.0.2.5, no ports", () =>
    expectTask("none-on-dcos.115c093a-2630-11e8-af52-70b3d5800001", {
      name: "none-on-dcos", runtime: "mesos", agentIp: "172.17.0.4", taskIps: ["9.0.2.5"], ports: [] }));
  it("ucr_on_host: port 10323", () =>
    expectTask("ucr-on-host.1755bacf-2630-11e8-af52-70b3d5800001", {
      name: "ucr-on-host", runtime: "mesos", agentIp: "172.17.0.3", taskIps: ["172.17.0.3"], ports: http(10323) }));
  it("ucr_on_bridge: container 8080 mapped to host 15263", () =>
    expectTask("ucr-on-bridge.1458805d-2630-11e8-af52-70b3d5800001", {
      name: "ucr-on-bridge", runtime: "mesos", agentIp: "172.17.0.3", taskIps: ["172.31.254.3"], ports: http(8080, 15263) }));
  it("ucr_on_dcos: overlay IP 9.0.1.6, no ports", () =>
    expectTask("ucr-on-dcos.145ec1ee-2630-11e8-af52-70b3d5800001", {
      name: "ucr-on-dcos", runtime: "mesos", agentIp: "172.17.0.3", taskIps: ["9.0.1.6"], ports: [] }));
  it("docker_on_host: port 31168", () =>
    expectTask("docker-on-host.116271db-2630-11e8-af52-70b3d5800001", {
      name: "docker-on-host", runtime: "docker", agentIp: "172.17.0.4", taskIps: ["172.17.0.4"], ports: http(31168) }));
  it("docker_on_bridge: container 8080 mapped to host 20560", () =>
    expectTask("docker-on-bridge.0ef76549-2630-11e8-af52-70b3d5800001", {
      name: "docker-on-bridge", runtime: "docker", agentIp: "172.17.0.4", taskIps: ["172.18.0.2"], ports: http(8080, 20560) }));
  it("docker_on_dcos: overlay IP 9.0.2.130, port 8080", () =>
    expectTask("docker-on-dcos.0ebe53e8-2630-11e8-af52-70b3d5800001", {
      name: "docker-on-dcos", runtime: "docker", agentIp: "172.17.0.4", taskIps: ["9.0.2.130"], ports: http(8080) }));
  it("docker_on_ipv6: IPv4 and IPv6 task IPs", () =>
    expectTask("docker-on-ipv6.602453f2-28e7-11e8-8cba-70b3d5800001", {
      name: "docker-on-ipv6", runtime: "docker", agentIp: "172.17.0.4", taskIps: ["172.19.0.2", "fd01:b::2:8000:0:2"], ports: http(8080) }));
  it("pod_on_host: port 28064", () =>
    expectTask("pod-on-host.instance-ea1231bf-2930-11e8-96bf-70b3d5800001.app", {
      name: "pod-on-host", runtime: "mesos", agentIp: "172.17.0.4", taskIps: ["172.17.0.4"], ports: http(28064) }));
  it("pod_on_bridge: container 8080 mapped to host 2254 (pod network_infos from the status)", () =>
    expectTask("pod-on-bridge.instance-e9d06dcd-2930-11e8-96bf-70b3d5800001.app", {
      name: "pod-on-bridge", runtime: "mesos", agentIp: "172.17.0.3", taskIps: ["172.31.254.4"], ports: http(8080, 2254) }));
  it("pod_on_dcos: overlay IP 9.0.1.3, port 8080", () =>
    expectTask("pod-on-dcos.instance-ea1231be-2930-11e8-96bf-70b3d5800001.app", {
      name: "pod-on-dcos", runtime: "mesos", agentIp: "172.17.0.3", taskIps: ["9.0.1.3"], ports: http(8080) }));
});

describe("taskFromMesos (streaming use)", () => {
  const st = fixtureState("vip-labels.json");
  const agents = new Map([["3de98647-82e7-4a22-8fb5-32df27c1ef69-S0", { id: "3de98647-82e7-4a22-8fb5-32df27c1ef69-S0", ip: "172.17.0.3" }]]);
  const frameworks = new Map([["3de98647-82e7-4a22-8fb5-32df27c1ef69-0001", { id: "3de98647-82e7-4a22-8fb5-32df27c1ef69-0001", name: "marathon" }]]);
  const raw = st.tasks[0] as Record<string, unknown>;

  it("reports an unknown agent or framework as waiting, not as a problem", () => {
    expect(taskFromMesos(raw, new Map(), frameworks)).toEqual({ waiting: "agent" });
    expect(taskFromMesos(raw, agents, new Map())).toEqual({ waiting: "framework" });
  });
  it("returns terminal tasks with state terminal (the caller removes them)", () => {
    expect(taskFromMesos({ ...raw, state: "TASK_KILLED" }, agents, frameworks).task?.state).toBe("terminal");
    expect(taskFromMesos({ ...raw, state: "TASK_KILLING" }, agents, frameworks).task?.state).toBe("killing");
    expect(taskFromMesos({ ...raw, state: "TASK_STAGING" }, agents, frameworks).task?.state).toBe("preparing");
  });
  it("prefers the top-level state over the latest status state (DCOS_OSS-3539)", () => {
    expect(taskFromMesos({ ...raw, state: "TASK_KILLING" }, agents, frameworks).task?.state).toBe("killing");
    const { state: _s, ...noState } = raw;
    expect(taskFromMesos(noState, agents, frameworks).task?.state).toBe("running");
  });
  it("a defined health check with no result yet is unhealthy; no check is undefined", () => {
    const statuses = [{ timestamp: 1, state: "TASK_RUNNING" }];
    expect(taskFromMesos({ ...raw, statuses, health_check: {} }, agents, frameworks).task?.healthy).toBe(false);
    expect(taskFromMesos({ ...raw, statuses }, agents, frameworks).task?.healthy).toBeUndefined();
  });
  it("falls back to [agentIp] when the latest status carries no IP, and does not fold host ports while preparing", () => {
    const r = taskFromMesos({ ...raw, statuses: [], state: "TASK_STAGING" }, agents, frameworks);
    expect(r.task?.taskIps).toEqual(["172.17.0.3"]);
    expect(r.task?.ports.find((p) => p.name === "bar")).toEqual({ name: "bar", protocol: "tcp", port: 10000, vips: [] });
  });
  it("carries the task's HAPROXY_* labels (Marathon-LB's, for the L7 edge) and no others", () => {
    const labels = { labels: [{ key: "HAPROXY_GROUP", value: "external" }, { key: "HAPROXY_0_VHOST", value: "shop.example.com" }, { key: "owner", value: "team-a" }, { key: "HAPROXY_0_PATH", value: 7 }] };
    const r = taskFromMesos({ ...raw, labels }, agents, frameworks);
    expect(r.task?.labels).toEqual({ HAPROXY_GROUP: "external", HAPROXY_0_VHOST: "shop.example.com" });
    expect(r.warnings?.map((w) => w.message)).toEqual(['label "HAPROXY_0_PATH" skipped: not a string pair within 255/4096 characters']);
    expect(taskFromMesos(raw, agents, frameworks).task?.labels).toBeUndefined();
  });
  it("drops a malformed VIP label with a warning and keeps the task", () => {
    const labels = { labels: [{ key: "VIP_PORT0", value: "tcp://def:0" }, { key: "vip_port9", value: "tcp://x:80" }] };
    const r = taskFromMesos({ ...raw, labels }, agents, frameworks);
    expect(r.task?.ports[0]?.vips).toEqual(["/abc:80", "/cbd:80"]);
    expect(r.warnings?.map((w) => w.message)).toEqual([
      "label vip_port9: no ports resource at index 9",
      'port foo: vip label "def:0": port 0 out of range 1..65535',
    ]);
  });
  it("names the task in the problem when a required field is missing", () => {
    expect(taskFromMesos({ ...raw, name: 7, discovery: undefined }, agents, frameworks).problem).toEqual({
      item: "task 3de98647-82e7-4a22-8fb5-32df27c1ef69-0001/app.c9e19be4-6a94-11e8-bfc9-70b3d5800002",
      message: "missing name",
    });
    expect(taskFromMesos({ ...raw, task_id: {} }, agents, frameworks).problem?.item).toBe(
      "task 3de98647-82e7-4a22-8fb5-32df27c1ef69-0001/?");
  });
  it("agentFromMesos / frameworkFromMesos read ids, hostnames and names", () => {
    expect(agentFromMesos({ agent_info: { id: { value: "S1" }, hostname: "10.0.0.1" } })).toEqual({
      agent: { id: "S1", hostname: "10.0.0.1", ip: "10.0.0.1" } });
    expect(frameworkFromMesos({ framework_info: { id: { value: "F" } } }).problem?.item).toBe("framework F");
  });
});

// ---- fuzz: never throw, and every returned task satisfies the model ----

const FIXTURES = ["operator-api.json", "hello-world.json", "vip-labels.json", "tcp-and-udp.json", "unhealthy.json", "dns-hostname.json"];
const resolveHost = (h: string) => (h === "localhost" ? "127.0.0.1" : undefined);

function allValid(state: MesosState) {
  const r = tasksFromMesosState(state, { resolveHost });
  for (const task of r.tasks) expect(taskSchema.safeParse(task).success).toBe(true);
  for (const p of r.problems) {
    expect(typeof p.item === "string" && typeof p.message === "string").toBe(true);
    expect(p.message).not.toMatch(/^conversion failed/); // the catch-all in taskFromMesos is never needed
  }
}

/** Paths of every node in a JSON tree (objects and arrays). */
function paths(v: unknown, prefix: (string | number)[] = [], out: (string | number)[][] = []) {
  if (typeof v === "object" && v !== null) {
    for (const [k, child] of Object.entries(v)) {
      const p = [...prefix, Array.isArray(v) ? Number(k) : k];
      out.push(p);
      paths(child, p, out);
    }
  }
  return out;
}

function mutate(root: unknown, path: (string | number)[], replacement: unknown, del: boolean) {
  const copy = structuredClone(root);
  let cur = copy as Record<string | number, unknown>;
  for (const k of path.slice(0, -1)) {
    const next = cur[k];
    if (typeof next !== "object" || next === null) return copy; // path made stale by an earlier mutation
    cur = next as Record<string | number, unknown>;
  }
  const last = path[path.length - 1] as string | number;
  if (del) delete cur[last];
  else cur[last] = replacement;
  return copy;
}

describe("never throws", () => {
  it("on random JSON as state, as raw task and as event", () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.jsonValue(), fc.jsonValue(), (a, b, c) => {
        const state = { agents: [a, b], frameworks: [b, c], tasks: [a, b, c] } as MesosState;
        allValid(state);
        allValid(mesosStateFromGetState(a));
        allValid(applyEvent(EMPTY_STATE, { type: "TASK_UPDATED", task_updated: b }).state);
        taskFromMesos(c, new Map(), new Map());
      }),
      { numRuns: 300 },
    );
  });

  it.each(FIXTURES)("on %s with random field deletions and type changes", (name) => {
    const msgs = lines(name);
    const targets = msgs.map((m) => ({ m, ps: paths(m) }));
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(), fc.nat(), fc.jsonValue({ maxDepth: 2 }), fc.boolean()), { minLength: 1, maxLength: 6 }),
        (muts) => {
          const mutated = targets.map(({ m, ps }) => ({ m, ps }));
          for (const [i, j, v, del] of muts) {
            const t = mutated[i % mutated.length]!;
            const p = t.ps[j % Math.max(1, t.ps.length)];
            if (p) t.m = mutate(t.m, p, v, del);
          }
          const state = mutated.length === 1
            ? mesosStateFromGetState(mutated[0]!.m)
            : mutated.reduce<MesosState>((st, { m }) => applyEvent(st, m).state, EMPTY_STATE);
          allValid(state);
        },
      ),
      { numRuns: 150 },
    );
  });
});
