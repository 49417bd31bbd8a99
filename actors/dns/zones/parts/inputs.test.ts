// The built-in zone parts' border with the store: what they accept from store events, and that
// anything malformed is skipped (never thrown, never a half-parsed record).
import { describe, expect, it } from "@jest/globals";
import type { KeyView } from "../../../gossip/index.js";
import type { WatchEvent } from "../../../gossip/index.js";
import { decodeRrs, encodeRrs, mesosRecordsKey, parseNodeFacts } from "./inputs.js";
import { foldDcos, type DcosInputs } from "./dcos.js";
import { foldMesos, type MesosInputs } from "./mesos.js";

const ts = { t: 1, c: 0, r: "x" };
const lww = (value: unknown) => ({ type: "lww", value, ts }) as KeyView[string];
const ev = (key: string, value: KeyView | undefined): WatchEvent => ({ key, value, initial: false });
const empty = (): DcosInputs & { readonly mesos: MesosInputs } => ({ tasks: new Map(), nodes: new Map(), leaderNode: undefined, mesos: new Map() });
/** The built-in store-fed part an event dirties, as the zone actor routes it (each part sees only its own prefixes). */
function foldEvent(inputs: ReturnType<typeof empty>, e: WatchEvent): "dcos" | "mesos" | undefined {
  if (foldDcos(inputs, e)) return "dcos";
  if (foldMesos(inputs.mesos, e)) return "mesos";
  return undefined;
}
const task = { id: "t1", name: "web", framework: "marathon", runtime: "native", agentIp: "10.0.0.1", taskIps: [], state: "running", ports: [] };

describe("dns inputs", () => {
  it("record sets round-trip through the store encoding, and junk elements are skipped", () => {
    const records = [
      { name: "a.mesos", type: "A" as const, value: "10.0.0.1" },
      { name: "a.mesos", type: "SRV" as const, value: "a-x-1.marathon.slave.mesos.:31000" },
    ];
    expect(decodeRrs("a.mesos", { rrs: lww(encodeRrs(records)) })).toEqual([records[0], records[1]]);
    expect(decodeRrs("a.mesos", { rrs: lww(["A 10.0.0.1", 7, "TXT hello", "AAAA ::1"]) })).toEqual([
      { name: "a.mesos", type: "A", value: "10.0.0.1" },
      { name: "a.mesos", type: "AAAA", value: "::1" },
    ]);
    expect(decodeRrs("a.mesos", { rrs: lww("A 10.0.0.1") })).toEqual([]);
    expect(decodeRrs("a.mesos", undefined)).toEqual([]);
  });

  it("node facts keep only string roles and a string ip", () => {
    expect(parseNodeFacts({ ip: lww("10.0.0.9"), roles: lww(["master", 3]) })).toEqual({ ip: "10.0.0.9", roles: ["master"] });
    expect(parseNodeFacts({ ip: lww(42) })).toEqual({ roles: [] });
    expect(parseNodeFacts(undefined)).toBeUndefined();
  });

  it("folds tasks, node facts, the leader and .mesos names, naming the zones each change dirties", () => {
    const inputs = empty();
    expect(foldEvent(inputs, ev("tasks/n1/native/t1", { task: lww(task) }))).toBe("dcos");
    expect(inputs.tasks.size).toBe(1);
    expect(foldEvent(inputs, ev("tasks/n1/native/bad", { task: lww({ id: "bad" }) }))).toBeUndefined();
    expect(foldEvent(inputs, ev("tasks/n1/native/t1", undefined))).toBe("dcos");
    expect(inputs.tasks.size).toBe(0);
    expect(foldEvent(inputs, ev("nodes/n1", { ip: lww("10.0.0.9"), roles: lww(["master"]) }))).toBe("dcos");
    expect(foldEvent(inputs, ev("mesos/leader", { node: lww("n1"), master: lww("http://m:5050") }))).toBe("dcos");
    expect(inputs.leaderNode).toBe("n1");
    expect(foldEvent(inputs, ev(mesosRecordsKey("a.marathon.mesos"), { rrs: lww(["A 10.0.0.1"]) }))).toBe("mesos");
    expect(foldEvent(inputs, ev(mesosRecordsKey("a.marathon.mesos"), undefined))).toBe("mesos");
    expect(foldEvent(inputs, ev(mesosRecordsKey("never.seen.mesos"), undefined))).toBeUndefined();
    expect(foldEvent(inputs, ev("vips/whatever", { x: lww(1) }))).toBeUndefined();
  });
});
