import { describe, it, expect } from "@jest/globals";
import { CniAttachmentExistsError, CniBridgeMissingError, CniKernelError, CniNoNetnsError } from "./errors.js";
import { attach, batchJson, containerBatch, detach, failedLine, hostBatch, hostVethName, type VethPlan } from "./netns.js";
import type { Run, RunResult } from "./run.js";

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
};
const BRIDGE = `[{"ifname":"m-dcos","mtu":1450,"address":"02:00:00:00:00:01"}]\n`;

/** A Run that answers each call from a script and records the calls. */
function fakeRun(answers: Array<Partial<RunResult>>): { run: Run; calls: string[] } {
  const calls: string[] = [];
  const run: Run = (file, args) => {
    calls.push([file, ...args].join(" "));
    return { code: 0, stdout: "", stderr: "", ...(answers.shift() ?? {}) };
  };
  return { run, calls };
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

  it("attach: two processes, bridge MAC and MTU from the host batch", () => {
    const { run, calls } = fakeRun([{ stdout: BRIDGE }, {}]);
    expect(attach(run, PLAN)).toEqual({ mac: "02:00:00:00:00:01", mtu: 1450 });
    expect(calls).toEqual(["ip -j -batch -", "nsenter --net=/var/run/netns/c1 ip -batch -"]);
  });

  it("attach failures: bridge missing, interface exists, netns missing → nothing made, nothing deleted", () => {
    const cases: Array<[string, unknown]> = [
      ['Device "m-dcos" does not exist.\nCommand failed -:1', CniBridgeMissingError],
      ["RTNETLINK answers: File exists\nCommand failed -:2", CniAttachmentExistsError],
      ['Error: argument "/var/run/netns/c1" is wrong: Invalid "netns" value\nCommand failed -:2', CniNoNetnsError],
    ];
    for (const [stderr, type] of cases) {
      const { run, calls } = fakeRun([{ code: 1, stderr }]);
      expect(() => attach(run, PLAN)).toThrow(type as new () => Error);
      expect(calls).toEqual(["ip -j -batch -"]);
    }
  });

  it("attach failures after the pair exists delete it (no half-made veth)", () => {
    const late = fakeRun([{ code: 1, stderr: "Error: bad master\nCommand failed -:3" }, {}]);
    expect(() => attach(late.run, PLAN)).toThrow(CniKernelError);
    expect(late.calls).toEqual(["ip -j -batch -", "ip link del dev dcv0123456789ab"]);
    const inside = fakeRun([{ stdout: BRIDGE }, { code: 1, stderr: "RTNETLINK answers: Network is unreachable\nCommand failed -:4" }, {}]);
    expect(() => attach(inside.run, PLAN)).toThrow(CniKernelError);
    expect(inside.calls.at(-1)).toBe("ip link del dev dcv0123456789ab");
    const gone = fakeRun([{ stdout: BRIDGE }, { code: 1, stderr: "nsenter: cannot open /var/run/netns/c1: No such file or directory" }, {}]);
    expect(() => attach(gone.run, PLAN)).toThrow(CniNoNetnsError);
    expect(gone.calls.at(-1)).toBe("ip link del dev dcv0123456789ab");
  });

  it("detach: a veth already gone is fine, another failure is not", () => {
    expect(() => detach(fakeRun([{ code: 1, stderr: 'Cannot find device "dcv0123456789ab"' }]).run, "dcv0123456789ab")).not.toThrow();
    expect(() => detach(fakeRun([{ code: 2, stderr: "RTNETLINK answers: Operation not permitted" }]).run, "dcv0123456789ab")).toThrow(CniKernelError);
  });
});
