import { describe, it, expect } from "@jest/globals";
import type { PortMapping } from "./config.js";
import { CniKernelError, CniPortConflictError } from "./errors.js";
import { addMappings, mapElements, missingMappings, removeMappings, renderAdd, renderDelete } from "./portmap.js";
import type { Run, RunResult } from "./run.js";

const M: PortMapping[] = [
  { hostPort: 8081, containerPort: 80, protocol: "tcp" },
  { hostPort: 5353, containerPort: 53, protocol: "udp", hostIP: "10.77.0.1" },
];
const LISTING = (elem: unknown[]) => JSON.stringify({ nftables: [{ metainfo: {} }, { map: { name: "ports", elem } }] });

function fakeRun(answers: Array<Partial<RunResult>>): { run: Run; inputs: string[]; calls: string[] } {
  const inputs: string[] = [];
  const calls: string[] = [];
  const run: Run = async (file, args, input) => {
    calls.push([file, ...args].join(" "));
    inputs.push(input ?? "");
    return { code: 0, stdout: "", stderr: "", ...(answers.shift() ?? {}) };
  };
  return { run, inputs, calls };
}

describe("cni portmap", () => {
  it("ADD renders the table whole and creates one element per mapping in its map", () => {
    const text = renderAdd("9.0.7.0/25", "9.0.7.5", M);
    const lines = text.trim().split("\n");
    expect(lines.slice(0, 4)).toEqual([
      "add table ip dcnet-portmap",
      "add map ip dcnet-portmap ports { type inet_proto . inet_service : ipv4_addr . inet_service; }",
      "add map ip dcnet-portmap addrports { type ipv4_addr . inet_proto . inet_service : ipv4_addr . inet_service; }",
      "add set ip dcnet-portmap subnets { type ipv4_addr; flags interval; }",
    ]);
    expect(lines.filter((l) => l.startsWith("flush chain"))).toHaveLength(3);
    expect(lines.filter((l) => l.includes("fib daddr type local"))).toHaveLength(4);
    expect(lines.slice(-3)).toEqual([
      "add element ip dcnet-portmap subnets { 9.0.7.0/25 }",
      "create element ip dcnet-portmap ports { tcp . 8081 : 9.0.7.5 . 80 }",
      "create element ip dcnet-portmap addrports { 10.77.0.1 . udp . 5353 : 9.0.7.5 . 53 }",
    ]);
    expect(renderDelete(M).trim().split("\n")).toEqual(["delete element ip dcnet-portmap ports { tcp . 8081 }", "delete element ip dcnet-portmap addrports { 10.77.0.1 . udp . 5353 }"]);
  });

  it("a host port held by another container: CniPortConflictError; other nft failures: CniKernelError", async () => {
    await expect(addMappings(fakeRun([{ code: 1, stderr: "Error: Could not process rule: File exists" }]).run, "9.0.7.0/25", "9.0.7.5", M)).rejects.toThrow(CniPortConflictError);
    await expect(addMappings(fakeRun([{ code: 1, stderr: "Error: syntax error" }]).run, "9.0.7.0/25", "9.0.7.5", M)).rejects.toThrow(CniKernelError);
    const none = fakeRun([]);
    await addMappings(none.run, "9.0.7.0/25", "9.0.7.5", []);
    expect(none.calls).toEqual([]);
  });

  it("reads map elements from nft's JSON listing", () => {
    expect(mapElements(LISTING([[{ concat: ["tcp", 8081] }, { concat: ["9.0.7.5", 80] }]]))).toEqual([["tcp . 8081", "9.0.7.5 . 80"]]);
    expect(mapElements(LISTING([]))).toEqual([]);
  });

  it("DEL: one transaction; if it fails, only the elements still pointing at this container are deleted", async () => {
    const ok = fakeRun([{}]);
    await removeMappings(ok.run, "9.0.7.5", M);
    expect(ok.calls).toEqual(["nft -f -"]);
    // A repeated DEL: ours are gone, and tcp/8081 belongs to another container by now.
    const again = fakeRun([{ code: 1, stderr: "No such file or directory" }, { stdout: LISTING([[{ concat: ["tcp", 8081] }, { concat: ["9.0.7.9", 80] }]]) }, { code: 1, stderr: "Error: No such file or directory; did you mean table ‘dcnet-portmap’" }]);
    await removeMappings(again.run, "9.0.7.5", M);
    expect(again.calls).toEqual(["nft -f -", "nft -j list map ip dcnet-portmap ports", "nft -j list map ip dcnet-portmap addrports"]);
  });

  it("CHECK: mappings missing or pointing elsewhere", () => {
    const present = new Map([["ports tcp . 8081", "9.0.7.5 . 80"]]);
    expect(missingMappings(present, "9.0.7.5", M)).toEqual([M[1]]);
    expect(missingMappings(present, "9.0.7.6", M)).toEqual(M);
  });
});
