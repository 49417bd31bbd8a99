import { describe, it, expect } from "@jest/globals";
import { readFileSync } from "node:fs";
import fc from "fast-check";
import type { Task } from "../model.js";
import { tasksFromMesosState } from "./mesos-tasks.js";
import { mesosStateFromGetState } from "./mesos-state.js";
import {
  backendsOf, isConversionProblem, parseVipLabel, vipDnsName, vipKeyFromString, vipKeyString, vipTable,
} from "./vips.js";

// Fixtures: unmodified dcos-net GET_STATE captures (../shared/fixtures/dcos-net, Apache-2.0).
const tasksOf = (name: string): Task[] => {
  const json = JSON.parse(readFileSync(new URL(`../../../../shared/fixtures/dcos-net/${name}`, import.meta.url), "utf8"));
  return tasksFromMesosState(mesosStateFromGetState(json)).tasks;
};
const tableOf = (tasks: Task[], owner = "node-a") => vipTable(tasks.flatMap((t) => backendsOf(t, owner)));

describe("parseVipLabel (dcos_l4lb_mesos_poller key/3)", () => {
  it("named VIPs keep the raw label and the framework", () => {
    expect(parseVipLabel("/myapp:80", "marathon")).toEqual({ protocol: "tcp", name: "/myapp", port: 80, framework: "marathon", kind: "named" });
    expect(parseVipLabel("def:80", "marathon", "udp")).toEqual({ protocol: "udp", name: "def", port: 80, framework: "marathon", kind: "named" });
  });
  it("IP literals (v4 and v6, split at the LAST ':') are IP VIPs", () => {
    expect(parseVipLabel("11.1.1.1:80", "marathon")).toMatchObject({ name: "11.1.1.1", port: 80, kind: "ip" });
    expect(parseVipLabel("fd01::1:8080", "marathon")).toMatchObject({ name: "fd01::1", port: 8080, kind: "ip" });
    expect(parseVipLabel("[fd01::2]:53", "marathon", "udp")).toMatchObject({ name: "fd01::2", port: 53, kind: "ip", protocol: "udp" });
  });
  it.each(["/myapp", "/myapp:0", "/myapp:65536", ":80", "/myapp:http", "/myapp:-1", "/:80", "x:8 0"])("rejects %j with a Problem", (label) => {
    const r = parseVipLabel(label, "marathon");
    expect(isConversionProblem(r)).toBe(true);
    expect(isConversionProblem(r) && r.item).toBe(`vip label ${JSON.stringify(label)}`);
  });
  it("never throws and round-trips through the canonical key", () => {
    fc.assert(
      fc.property(fc.string(), fc.constantFrom("marathon", "hello-world"), fc.constantFrom("tcp" as const, "udp" as const), (s, fw, proto) => {
        const r = parseVipLabel(s, fw, proto);
        if (!isConversionProblem(r)) expect(vipKeyFromString(vipKeyString(r))).toEqual(r.kind === "ip" ? { ...r, framework: "" } : r);
      }),
    );
  });
});

describe("vipDnsName (mesos_state:domain_frag/1 + label/1)", () => {
  it("dcos-net §3.2 examples", () => {
    expect(vipDnsName("/mygroup/myapp", "marathon")).toBe("mygroupmyapp.marathon");
    expect(vipDnsName("/api.hello-world", "marathon")).toBe("api.hello-world.marathon");
    expect(vipDnsName("host-vip", "hello-world")).toBe("host-vip.hello-world");
  });
});

describe("backendsOf / vipTable on dcos-net fixtures", () => {
  it("vip-labels.json: /abc:80, /cbd:80, /xyz:443, def:80, jkl:80 → agent IP (host network)", () => {
    const table = tableOf(tasksOf("vip-labels.json"));
    const taskId = "3de98647-82e7-4a22-8fb5-32df27c1ef69-0001/app.c9e19be4-6a94-11e8-bfc9-70b3d5800002";
    const b = (port: number) => [{ owner: "node-a", taskId, agentIp: "172.17.0.3", ip: "172.17.0.3", port, weight: 1 }];
    expect([...table.entries()]).toEqual([
      ["tcp:/abc:80@marathon", b(9999)],
      ["tcp:/cbd:80@marathon", b(9999)],
      ["tcp:/xyz:443@marathon", b(10001)],
      ["tcp:def:80@marathon", b(9999)],
      ["tcp:jkl:80@marathon", b(10000)],
    ]);
  });
  it("tcp-and-udp.json: /app:80 over tcp and udp, both to 172.17.0.3:6416", () => {
    const table = tableOf(tasksOf("tcp-and-udp.json"));
    expect([...table.keys()]).toEqual(["tcp:/app:80@marathon", "udp:/app:80@marathon"]);
    for (const bs of table.values()) expect(bs.map((x) => `${x.ip}:${x.port}/${x.weight}`)).toEqual(["172.17.0.3:6416/1"]);
  });
  it("unhealthy.json: healthy=false → /foobar:80 backend 9.0.1.6:80 with weight 0", () => {
    const table = tableOf(tasksOf("unhealthy.json"));
    expect([...table.entries()].map(([k, bs]) => [k, bs.map((x) => `${x.ip}:${x.port}/${x.weight}`)])).toEqual([
      ["tcp:/foobar:80@marathon", ["9.0.1.6:80/0"]],
    ]);
  });
});

describe("backendsOf rules (§3.3)", () => {
  const base: Task = {
    id: "f/t", name: "t", framework: "marathon", runtime: "mesos", agentIp: "10.0.0.1",
    taskIps: ["9.0.0.2", "fd01:b::2"], state: "running",
    ports: [
      { name: "a", protocol: "tcp", port: 8080, vips: ["/a:80", "11.1.1.1:80", "fd01:c::1:80"] },
      { name: "b", protocol: "udp", port: 53, hostPort: 31053, vips: ["/dns:53"] },
    ],
  };
  const flat = (t: Task) => backendsOf(t, "n").map(({ vip, backend }) => `${vipKeyString(vip)} ${backend.ip}:${backend.port} w${backend.weight}`);
  it("host port → agentIp:hostPort; container port → every task IP; IP VIPs only same-family backends", () => {
    expect(flat(base)).toEqual([
      "tcp:/a:80@marathon 9.0.0.2:8080 w1",
      "tcp:/a:80@marathon fd01:b::2:8080 w1",
      "tcp:11.1.1.1:80 9.0.0.2:8080 w1",
      "tcp:[fd01:c::1]:80 fd01:b::2:8080 w1",
      "udp:/dns:53@marathon 10.0.0.1:31053 w1",
    ]);
  });
  it("killing or unhealthy → weight 0; preparing/terminal → no backends", () => {
    expect(new Set(flat({ ...base, state: "killing" }).map((s) => s.slice(-2)))).toEqual(new Set(["w0"]));
    expect(new Set(flat({ ...base, healthy: false }).map((s) => s.slice(-2)))).toEqual(new Set(["w0"]));
    expect(flat({ ...base, healthy: true }).every((s) => s.endsWith("w1"))).toBe(true);
    expect(flat({ ...base, state: "preparing" })).toEqual([]);
    expect(flat({ ...base, state: "terminal" })).toEqual([]);
  });
  it("vipTable is order-independent and drops exact duplicates", () => {
    const entries = [...backendsOf(base, "n"), ...backendsOf({ ...base, id: "f/u", taskIps: ["9.0.0.3"] }, "m")];
    const a = vipTable(entries);
    const b = vipTable([...entries, ...entries].reverse());
    expect([...b.entries()]).toEqual([...a.entries()]);
    expect(a.get("tcp:/a:80@marathon")?.map((x) => x.ip)).toEqual(["9.0.0.2", "9.0.0.3", "fd01:b::2"]);
  });
});
