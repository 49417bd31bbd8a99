import { describe, it, expect } from "@jest/globals";
import { readFileSync } from "node:fs";
import fc from "fast-check";
import type { Backend, Task, VipKey } from "../model.js";
import { tasksFromMesosState } from "./mesos-tasks.js";
import { mesosStateFromGetState } from "./mesos-state.js";
import {
  backendsOf, isConversionProblem, parseVipLabel, vipDnsName, vipKeyFromString, vipKeyString, vipTable, VipTableBuilder,
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

// The catalogue keeps its VIP table task by task: each build must equal vipTable over every task's
// entries (in the order the tasks first came), say exactly which keys changed, and never touch a
// table it handed out before.
describe("VipTableBuilder", () => {
  const VIPS = ["/a:80", "a:80", "/b:80", "11.1.1.1:80", "fd01:c::1:80", "/c:53"].map((l) => parseVipLabel(l, "marathon") as VipKey);
  const backendArb: fc.Arbitrary<Backend> = fc.record(
    {
      owner: fc.constantFrom("n1", "n2"), taskId: fc.constantFrom("t1", "t2"), agentIp: fc.constantFrom("10.0.0.1", "10.0.0.2"),
      ip: fc.constantFrom("9.0.0.1", "9.0.0.2", "10.0.0.1"), port: fc.constantFrom(80, 81), weight: fc.constantFrom<0 | 1>(0, 1),
      // Same duplicate id, other agentIp/direct: which one is kept depends on the order of tasks.
      direct: fc.record({ ip: fc.constantFrom("172.17.0.2", "172.17.0.3"), port: fc.constant(8080) }),
    },
    { requiredKeys: ["owner", "taskId", "agentIp", "ip", "port", "weight"] },
  );
  const entriesArb = fc.array(fc.record({ vip: fc.constantFrom(...VIPS), backend: backendArb }), { maxLength: 6 });
  type Op = { readonly op: "set"; readonly source: string; readonly entries: Array<{ vip: VipKey; backend: Backend }> } | { readonly op: "delete"; readonly source: string } | { readonly op: "build" };
  const opArb: fc.Arbitrary<Op> = fc.oneof(
    { weight: 5, arbitrary: fc.record({ op: fc.constant("set" as const), source: fc.constantFrom("s1", "s2", "s3", "s4"), entries: entriesArb }) },
    { weight: 2, arbitrary: fc.record({ op: fc.constant("delete" as const), source: fc.constantFrom("s1", "s2", "s3", "s4") }) },
    { weight: 3, arbitrary: fc.constant({ op: "build" as const }) },
  );
  const snapshot = (t: ReadonlyMap<string, readonly Backend[]>) => JSON.stringify([...t]);

  it("each build equals vipTable over every task, reports exactly the changed keys, reuses the others' arrays and leaves older tables alone", () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 40 }), (ops) => {
        const builder = new VipTableBuilder();
        const model = new Map<string, Array<{ vip: VipKey; backend: Backend }>>();
        let last: { table: ReadonlyMap<string, readonly Backend[]>; text: string } = { table: builder.build().table, text: "[]" };
        for (const o of [...ops, { op: "build" as const }]) {
          if (o.op === "set") {
            builder.set(o.source, o.entries);
            model.set(o.source, o.entries);
            continue;
          }
          if (o.op === "delete") {
            builder.delete(o.source);
            model.delete(o.source);
            continue;
          }
          const { table, changed } = builder.build();
          const want = vipTable([...model.values()].flat());
          expect([...table]).toEqual([...want]);
          const differs = [...new Set([...last.table.keys(), ...table.keys()])].filter((k) => JSON.stringify(last.table.get(k)) !== JSON.stringify(table.get(k)));
          expect([...changed].sort()).toEqual(differs.sort());
          for (const [k, list] of table) if (!changed.has(k)) expect(list).toBe(last.table.get(k));
          if (changed.size === 0) expect(table).toBe(last.table);
          expect(snapshot(last.table)).toBe(last.text);
          last = { table, text: snapshot(table) };
        }
      }),
      { numRuns: 300 },
    );
  });

  it("one task change at 10,000 VIPs rebuilds its own VIP only (timing printed)", () => {
    const builder = new VipTableBuilder();
    const task = (i: number, weight: 0 | 1): Array<{ vip: VipKey; backend: Backend }> =>
      [0, 1, 2].map((k) => ({ vip: { protocol: "tcp", name: `/app-${i}`, port: 80, framework: "marathon", kind: "named" }, backend: { owner: `n${k}`, taskId: `app-${i}.${k}`, agentIp: `10.0.0.${k}`, ip: `9.${k}.${(i >> 8) & 255}.${i & 255}`, port: 8080, weight } }));
    for (let i = 0; i < 10_000; i++) builder.set(`tasks/n0/native/app-${i}`, task(i, 1));
    const first = builder.build();
    expect(first.table.size).toBe(10_000);
    const times: number[] = [];
    let prev = first.table;
    for (let r = 0; r < 200; r++) {
      const i = (r * 7919) % 10_000;
      const t0 = performance.now();
      builder.set(`tasks/n0/native/app-${i}`, task(i, 0));
      const { table, changed } = builder.build();
      times.push(performance.now() - t0);
      expect([...changed]).toEqual([`tcp:/app-${i}:80@marathon`]);
      expect(table.get("tcp:/app-9999:80@marathon") ?? []).toBe(prev.get("tcp:/app-9999:80@marathon") ?? []);
      prev = table;
    }
    times.sort((a, b) => a - b);
    console.log(`VipTableBuilder one task change at 10,000 VIPs × 3 backends: p50 ${(times[100] ?? 0).toFixed(2)} ms, p99 ${(times[198] ?? 0).toFixed(2)} ms (200 changes)`);
  });
});
