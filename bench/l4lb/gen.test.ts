// The generated VIP sets bench/l4lb-sync measures with: the right size and shape, tasks the node
// accepts, and one-backend replacements that change nothing else.
import { describe, expect, it } from "@jest/globals";
import { taskRegistrationSchema, vipKeyFromString } from "../../actors/catalogue/model.js";
import { backendsOf, mesosStateFromGetState, tasksFromMesosState, vipTable } from "../../actors/catalogue/index.js";
import { benchAgentState, benchTable, benchTasks, replaceBackend, replacementIp } from "./gen.js";

describe("bench VIP generator", () => {
  const table = benchTable({ vips: 10_000, backends: 3, owner: "h1" });

  it("gives 10,000 IP VIPs with 3 distinct serving backends each, owned by the given node", () => {
    expect(table.size).toBe(10_000);
    const endpoints = new Set<string>();
    for (const [key, backends] of table) {
      expect(vipKeyFromString(key)?.kind).toBe("ip");
      expect(backends).toHaveLength(3);
      for (const b of backends) {
        expect([b.owner, b.weight]).toEqual(["h1", 1]);
        endpoints.add(`${b.ip}:${b.port}`);
      }
    }
    expect(endpoints.size).toBe(30_000);
  });

  it("makes tasks the admin task-add accepts, one per backend", () => {
    const tasks = [...benchTasks({ vips: 200, backends: 3, owner: "h1", udpEvery: 4 })];
    expect(tasks).toHaveLength(600);
    const rejected = tasks.map((t) => taskRegistrationSchema.safeParse(t)).filter((r) => !r.success);
    expect(rejected).toEqual([]);
    expect(new Set(tasks.map((t) => t.id)).size).toBe(600);
  });

  it("makes every udpEvery-th VIP a UDP one", () => {
    const keys = [...benchTable({ vips: 8, backends: 1, owner: "h1", udpEvery: 4 }).keys()];
    expect(keys.filter((k) => k.startsWith("udp:")).sort()).toEqual(["udp:11.100.0.3:80", "udp:11.100.0.7:80"]);
  });

  it("replaces one backend of one VIP, keeps the catalogue's order, and leaves everything else as it was", () => {
    const rep = replaceBackend(table, 42, 1, 7);
    const before = table.get(rep.key) ?? [];
    const after = rep.table.get(rep.key) ?? [];
    expect(after).toHaveLength(3);
    expect(after.map((b) => b.ip)).toContain(replacementIp(7));
    expect(after.map((b) => b.ip)).not.toContain(rep.removed.ip);
    expect(before.filter((b) => b.ip !== rep.removed.ip)).toEqual(after.filter((b) => b.ip !== replacementIp(7)));
    expect(after.map((b) => b.ip)).toEqual([...after.map((b) => b.ip)].sort());
    // The input table is untouched and every other VIP is the same object (what a real change looks like).
    expect(before.map((b) => b.ip)).toContain(rep.removed.ip);
    expect([...rep.table].filter(([k, v]) => k !== rep.key && v !== table.get(k))).toEqual([]);
  });

  it("gives replacement addresses that never collide with generated ones or each other", () => {
    const ips = new Set([...table.values()].flatMap((bs) => bs.map((b) => b.ip)));
    for (let c = 0; c < 1000; c++) ips.add(replacementIp(c));
    expect(ips.size).toBe(30_000 + 1000);
  });

  it("refuses sizes outside its address plan", () => {
    expect(() => benchTable({ vips: 70_000, backends: 3, owner: "h1" })).toThrow(RangeError);
    expect(() => benchTable({ vips: 10, backends: 0, owner: "h1" })).toThrow(RangeError);
    expect(() => replacementIp(-1)).toThrow(RangeError);
  });
});

describe("bench Mesos agent state", () => {
  it("is read by the node's Mesos conversion as the same VIPs and backends, on the given agent", () => {
    const o = { vips: 300, backends: 3, owner: "h1", udpEvery: 7 };
    const { getState, getAgent } = benchAgentState(o, "10.78.0.200");
    const state = mesosStateFromGetState({ type: "GET_STATE", get_state: getState });
    const converted = tasksFromMesosState({ ...state, agents: [getAgent] });
    expect(converted.problems).toEqual([]);
    expect(converted.tasks).toHaveLength(900);
    const fromAgent = vipTable(converted.tasks.flatMap((t) => backendsOf(t, "h1")));
    const endpoints = (t: ReadonlyMap<string, readonly { ip: string; port: number }[]>) => [...t].map(([k, bs]) => `${k} ${bs.map((b) => `${b.ip}:${b.port}`).join(",")}`);
    expect(endpoints(fromAgent)).toEqual(endpoints(benchTable(o)));
    expect(new Set([...fromAgent.values()].flatMap((bs) => bs.map((b) => b.agentIp)))).toEqual(new Set(["10.78.0.200"]));
  });
});
