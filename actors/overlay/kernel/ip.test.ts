// The runner against a stand-in `ip`/`bridge` (a node script behind the command prefix: it gets
// the tool name and arguments, prints what it is told to and exits with the code it is told to).
// The real tools in a network namespace: integration/overlay-kernel.test.ts.
import { describe, expect, it } from "@jest/globals";
import { IpBatchError, IpListingError, IpTimeoutError, IpToolMissingError } from "../errors.js";
import { alreadySo, batchOutcome, bridgeBatch, ipBatch, readOverlay } from "./ip.js";

/** A stand-in tool: its first argument maps "tool args" to { out, err, code, sleep } (jest's process.env does not reach children). */
const FAKE = `
const [planText, tool, ...args] = process.argv.slice(1);
const plan = JSON.parse(planText)[tool + " " + args.join(" ")] ?? { out: "[]" };
let input = ""; process.stdin.on("data", (d) => input += d);
process.stdin.on("end", () => setTimeout(() => {
  if (plan.out) process.stdout.write(plan.out);
  if (plan.err) process.stderr.write(plan.err);
  process.exit(plan.code ?? 0);
}, plan.sleep ?? 0));
`;
const fake = (plan: Record<string, { out?: string; err?: string; code?: number; sleep?: number }>) => ({ command: [process.execPath, "-e", FAKE, JSON.stringify(plan)] });

describe("batchOutcome", () => {
  const lines = ["link add vtep1024 type vxlan id 1024", "route replace 9.0.2.0/24 via 44.128.0.2 dev vtep1024 onlink", "route del 9.0.9.0/24 dev vtep1024", "neigh replace 44.128.0.2 lladdr 70:b3:d5:00:00:02 dev nope nud permanent"];

  it("gives each refused line its messages and sets apart the ones whose goal already holds", () => {
    const stderr = "RTNETLINK answers: File exists\nCommand failed -:1\nError: Nexthop has invalid gateway.\nCommand failed -:2\nRTNETLINK answers: No such process\nCommand failed -:3\n";
    expect(batchOutcome(lines, 1, stderr)).toEqual({
      failures: [{ line: 2, command: lines[1], message: "Error: Nexthop has invalid gateway." }],
      already: [
        { line: 1, command: lines[0], message: "RTNETLINK answers: File exists" },
        { line: 3, command: lines[2], message: "RTNETLINK answers: No such process" },
      ],
      aborted: undefined,
    });
  });

  it("a message after the last marker of a failed run means the tool stopped there (ip neigh exits even with -force)", () => {
    const stderr = "RTNETLINK answers: File exists\nCommand failed -:1\nCannot find device \"nope\"\n";
    expect(batchOutcome(lines, 2, stderr)).toMatchObject({ failures: [], aborted: 'Cannot find device "nope"' });
    expect(batchOutcome(lines, 0, "")).toEqual({ failures: [], already: [], aborted: undefined });
    expect(batchOutcome(lines, 3, "")).toMatchObject({ aborted: "exit code 3, no message" });
  });

  it("already so: an add of an existing link, a delete or flush of something gone; nothing else", () => {
    expect(alreadySo("link add m-dcos address 0e:58:09:00:01:01 mtu 1450 type bridge", "RTNETLINK answers: File exists")).toBe(true);
    expect(alreadySo("addr del 44.128.0.9/20 dev vtep1024", "RTNETLINK answers: Cannot assign requested address")).toBe(true);
    expect(alreadySo("fdb del 70:b3:d5:00:00:09 dev vtep1024 self", "RTNETLINK answers: No such file or directory")).toBe(true);
    expect(alreadySo("link del vtep1024", 'Cannot find device "vtep1024"')).toBe(true);
    expect(alreadySo("route replace 9.0.2.0/24 via 44.128.0.2 dev vtep1024 onlink", "RTNETLINK answers: File exists")).toBe(false);
    expect(alreadySo("neigh replace 44.128.0.2 lladdr 70:b3:d5:00:00:02 dev vtep1024 nud permanent", "No such file or directory")).toBe(false);
  });
});

describe("ipBatch / bridgeBatch", () => {
  it("runs `<prefix> ip -force -batch -` and returns the lines that were already so", async () => {
    const opts = fake({ "ip -force -batch -": { err: "RTNETLINK answers: File exists\nCommand failed -:1\n", code: 1 } });
    expect(await ipBatch("link add m-dcos type bridge\nlink set m-dcos up\n", opts)).toEqual({ lines: 2, already: [{ line: 1, command: "link add m-dcos type bridge", message: "RTNETLINK answers: File exists" }] });
    expect(await bridgeBatch("", opts)).toEqual({ lines: 0, already: [] });
  });

  it("throws IpBatchError naming the refused line", async () => {
    const opts = fake({ "bridge -force -batch -": { err: "RTNETLINK answers: Invalid argument\nCommand failed -:2\n", code: 1 } });
    const err = await bridgeBatch("fdb replace a dev v dst 1 self permanent\nfdb replace b dev v dst x self permanent\n", opts).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IpBatchError);
    expect(err).toMatchObject({ code: "DCNET_E_OVERLAY_BATCH_FAILED", tool: "bridge", failures: [{ line: 2, command: "fdb replace b dev v dst x self permanent" }] });
    expect((err as Error).message).toBe("bridge batch exited 1: line 2 (fdb replace b dev v dst x self permanent): RTNETLINK answers: Invalid argument");
  });

  it("a missing tool and a hung one are errors of their own", async () => {
    await expect(ipBatch("link set lo up\n", { command: ["/nonexistent/netns-exec"] })).rejects.toBeInstanceOf(IpToolMissingError);
    const hung = fake({ "ip -force -batch -": { sleep: 5000 } });
    await expect(ipBatch("link set lo up\n", { ...hung, timeoutMs: 200 })).rejects.toBeInstanceOf(IpTimeoutError);
  });
});

describe("readOverlay", () => {
  it("runs the seven listings, takes an absent device as absent and its entries as none", async () => {
    const opts = fake({
      "ip -j -d addr show dev vtep1024": { err: 'Device "vtep1024" does not exist.\n', code: 1 },
      "ip -j -d addr show dev m-dcos": { out: '[{"ifname":"m-dcos","flags":["UP"],"mtu":1450,"address":"02:00:00:00:00:01","linkinfo":{"info_kind":"bridge"},"addr_info":[{"family":"inet","local":"9.0.1.1","prefixlen":25,"scope":"global"}]}]' },
      "ip -j -d addr show dev d-dcos": { err: 'Device "d-dcos" does not exist.\n', code: 1 },
      "ip -j neigh show dev vtep1024": { err: 'Cannot find device "vtep1024"\n', code: 1 },
      "bridge -j fdb show dev vtep1024": { err: 'Cannot find device "vtep1024"\n', code: 255 },
      "ip -j route show dev vtep1024": { err: 'Cannot find device "vtep1024"\n', code: 1 },
      "ip -j -6 route show dev vtep1024": { out: "" },
    });
    const o = await readOverlay(opts);
    expect(o.links.get("vtep1024")).toBeNull();
    expect(o.links.get("d-dcos")).toBeNull();
    expect(o.links.get("m-dcos")).toMatchObject({ kind: "bridge", up: true, addrs: ["9.0.1.1/25"] });
    expect([o.neigh?.size, o.fdb?.size, o.routes?.size, o.problems]).toEqual([0, 0, 0, []]);
  });

  it("a listing that fails otherwise, or prints something that is not JSON, is an IpListingError", async () => {
    await expect(readOverlay(fake({ "ip -j neigh show dev vtep1024": { err: "Operation not permitted\n", code: 2 } }))).rejects.toBeInstanceOf(IpListingError);
    await expect(readOverlay(fake({ "bridge -j fdb show dev vtep1024": { out: "[{" } }))).rejects.toMatchObject({ code: "DCNET_E_OVERLAY_LISTING" });
  });
});
