import { afterAll, describe, it, expect } from "@jest/globals";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CniAttachmentExistsError, CniBridgeMissingError, CniKernelError, CniNoNetnsError } from "./errors.js";
import { attach, attachBatch, batchJson, containerBatch, detach, failedLine, hostBatch, hostVethName, netnsName, type VethPlan } from "./netns.js";
import type { Run, RunResult } from "./run.js";

const SCRATCH = mkdtempSync(join(tmpdir(), "dcnet-cni-netns-"));
afterAll(() => rmSync(SCRATCH, { recursive: true, force: true }));

const PLAN: VethPlan = {
  bridge: "m-dcos",
  hostVeth: "dcv0123456789ab",
  hostMac: "fe:58:09:00:07:05",
  containerMac: "0a:58:09:00:07:05",
  ifname: "eth0",
  netns: "/var/run/netns/c1",
  mtu: 1450,
  addrs: [
    { family: "ip", address: "9.0.7.5/25", gateway: "9.0.7.1" },
    { family: "ip6", address: "fd01:b::7:0:0:5/81", gateway: "fd01:b::7:0:0:1" },
  ],
  scratchDir: SCRATCH,
};
const BRIDGE = `[{"ifname":"m-dcos","mtu":1450,"address":"02:00:00:00:00:01"}]\n`;

/** A Run that answers each call from a script and records the calls and their stdin. */
function fakeRun(answers: Array<Partial<RunResult>>): { run: Run; calls: string[]; inputs: string[] } {
  const calls: string[] = [];
  const inputs: string[] = [];
  const run: Run = async (file, args, input) => {
    const text = input;
    calls.push([file, ...args].join(" "));
    inputs.push(text ?? "");
    return { code: 0, stdout: "", stderr: "", ...(answers.shift() ?? {}) };
  };
  return { run, calls, inputs };
}

describe("cni netns", () => {
  it("host end: bridge shown first (nothing made if it is missing), pair born with the container end in the netns, hairpin on", () => {
    expect(hostBatch(PLAN).split("\n")).toEqual([
      "link show dev m-dcos",
      "link add dcv0123456789ab address fe:58:09:00:07:05 mtu 1450 type veth peer name eth0 address 0a:58:09:00:07:05 mtu 1450 netns /var/run/netns/c1",
      "link set dev dcv0123456789ab master m-dcos up",
      "link set dev dcv0123456789ab type bridge_slave hairpin on",
    ]);
  });

  it("container end: addresses (IPv6 without DAD), up, one default route per family", () => {
    expect(containerBatch(PLAN).split("\n")).toEqual([
      "addr add 9.0.7.5/25 dev eth0",
      "addr add fd01:b::7:0:0:5/81 dev eth0 nodad",
      "link set dev eth0 up",
      "route add 0.0.0.0/0 via 9.0.7.1 dev eth0",
      "route add ::/0 via fd01:b::7:0:0:1 dev eth0",
    ]);
  });

  it("host veth names: stable, distinct per (container, ifname), at most 15 bytes", () => {
    const a = hostVethName({ containerId: "c1", ifname: "eth0" });
    expect(a).toMatch(/^dcv[0-9a-f]{12}$/);
    expect(hostVethName({ containerId: "c1", ifname: "eth0" })).toBe(a);
    expect(hostVethName({ containerId: "c1", ifname: "eth1" })).not.toBe(a);
    expect(hostVethName({ containerId: "c", ifname: "1eth0" })).not.toBe(a);
  });

  it("reads ip's batch output: failing line, one JSON array per show", () => {
    expect(failedLine("Error: ...\nCommand failed -:3\n")).toBe(3);
    expect(failedLine("other")).toBeUndefined();
    expect(batchJson(`${BRIDGE}[]\n`)).toEqual([[{ ifname: "m-dcos", mtu: 1450, address: "02:00:00:00:00:01" }], []]);
  });

  it("attach: one process; the host lines, then the container's lines from a file by `netns exec` (file removed after); bridge MAC and MTU", async () => {
    const { run, calls, inputs } = fakeRun([{ stdout: BRIDGE }]);
    expect(await attach(run, PLAN)).toEqual({ mac: "02:00:00:00:00:01", mtu: 1450 });
    expect(calls).toEqual(["ip -j -batch -"]);
    const lines = (inputs[0] ?? "").split("\n");
    expect(lines.slice(0, 4)).toEqual(hostBatch(PLAN).split("\n"));
    expect(lines[4]).toMatch(new RegExp(`^netns exec c1 ip -batch ${SCRATCH}/\\.lease-batch-\\d+-\\w+\\.tmp$`));
    expect(readdirSync(SCRATCH)).toEqual([]);
    expect(attachBatch(PLAN, "c1", "/x/b").split("\n").at(-1)).toBe("netns exec c1 ip -batch /x/b");
  });

  it("ip -n names: a netns file directly in /var/run/netns or /run/netns goes by its name, any other path needs a link", () => {
    expect(netnsName("/var/run/netns/cni-1234")).toBe("cni-1234");
    expect(netnsName("/run/netns/c1")).toBe("c1");
    expect(netnsName("/proc/4711/ns/net")).toBeUndefined();
    expect(netnsName("/var/run/netns/sub/c1")).toBeUndefined();
    expect(netnsName("/var/run/netns/..")).toBeUndefined();
    expect(netnsName("/var/run/docker/netns/abc")).toBeUndefined();
  });

  it("attach failures: bridge missing, interface exists, netns missing → nothing made, nothing deleted", async () => {
    const cases: Array<[string, unknown]> = [
      ['Device "m-dcos" does not exist.\nCommand failed -:1', CniBridgeMissingError],
      ["RTNETLINK answers: File exists\nCommand failed -:2", CniAttachmentExistsError],
      ['Error: argument "/var/run/netns/c1" is wrong: Invalid "netns" value\nCommand failed -:2', CniNoNetnsError],
    ];
    for (const [stderr, type] of cases) {
      const { run, calls, inputs } = fakeRun([{ code: 1, stderr }]);
      await expect(attach(run, PLAN)).rejects.toThrow(type as new () => Error);
      expect(calls).toEqual(["ip -j -batch -"]);
      expect(inputs).toHaveLength(1);
    }
  });

  it("attach failures after the pair exists delete it (no half-made veth)", async () => {
    const late = fakeRun([{ code: 1, stderr: "Error: bad master\nCommand failed -:3" }, {}]);
    await expect(attach(late.run, PLAN)).rejects.toThrow(CniKernelError);
    // The delete is a host batch too (the command the node keeps a process of started ahead).
    expect(late.calls).toEqual(["ip -j -batch -", "ip -j -batch -"]);
    expect(late.inputs.at(-1)).toBe("link del dev dcv0123456789ab");
    const inside = fakeRun([{ code: 1, stdout: BRIDGE, stderr: `RTNETLINK answers: Network is unreachable\nCommand failed ${SCRATCH}/b:4\nCommand failed -:5` }, {}]);
    await expect(attach(inside.run, PLAN)).rejects.toThrow(CniKernelError);
    expect([inside.calls.at(-1), inside.inputs.at(-1)]).toEqual(["ip -j -batch -", "link del dev dcv0123456789ab"]);
    const gone = fakeRun([{ code: 1, stdout: BRIDGE, stderr: 'Cannot open network namespace "c1": No such file or directory\nCommand failed -:5' }, {}]);
    await expect(attach(gone.run, PLAN)).rejects.toThrow(CniNoNetnsError);
    expect([gone.calls.at(-1), gone.inputs.at(-1)]).toEqual(["ip -j -batch -", "link del dev dcv0123456789ab"]);
  });

  it("detach: a veth already gone is fine, another failure is not", async () => {
    await expect(detach(fakeRun([{ code: 1, stderr: 'Cannot find device "dcv0123456789ab"' }]).run, "dcv0123456789ab")).resolves.toBeUndefined();
    await expect(detach(fakeRun([{ code: 2, stderr: "RTNETLINK answers: Operation not permitted" }]).run, "dcv0123456789ab")).rejects.toThrow(CniKernelError);
  });
});
