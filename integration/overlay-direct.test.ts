// Direct routing end to end (overlay.directRouting, flannel's DirectRouting): two real `dcnet node`
// processes on one underlay subnet of the lab find their underlay device themselves, route each
// other's IPv4 subnet over it (proto 77) instead of the VTEP, report it in `overlay status`, carry
// container traffic that way, and remove the route when the peer dies.
import { afterAll, beforeAll, describe, expect, jest, test } from "@jest/globals";
import { execFile } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { startL4lbLab, type L4lbLab } from "./support/l4lb-lab.js";
import { mustRun, waitFor } from "./harness/shell.js";
import { execIn, hostAddr } from "./support/overlay-addr.js";

jest.setTimeout(120_000);

const HOSTS = ["h1", "h2"] as const;
const ECHO = fileURLToPath(new URL("./harness/l4lb-echo.mjs", import.meta.url));
const CLIENT = fileURLToPath(new URL("./harness/l4lb-client.mjs", import.meta.url));

interface Status {
  own?: { subnet: string; agentIp: string };
  mtu?: number;
  peers: Array<{ node: string; state: string; subnet: string; agentIp: string; path?: string }>;
}

describe("overlay with directRouting: 2 nodes on one underlay subnet", () => {
  let lab: L4lbLab;
  const status = new Map<string, Status>();
  const ctr = (h: string) => `${lab.net.prefix}-d${h}`;

  beforeAll(async () => {
    lab = await startL4lbLab({ hosts: 2, containersPerHost: 0, nodeConfig: { l4lb: { enabled: false }, overlay: { enabled: true, subnet: "9.64.0.0/22", directRouting: true, reconcileMs: 1000 } } });
    for (const h of HOSTS) await lab.startNode(h, { overlay: { cniConfDir: join(lab.dir, `cni-${h}`), cniStateDir: join(lab.dir, `cni-state-${h}`) } });
    await lab.waitForMembers();
    for (const h of HOSTS) {
      status.set(h, await waitFor(`${h}'s overlay with its peer programmed`, 30_000, async () => {
        const s = await lab.ctlJson<Status>(h, ["--node", h, "overlay", "status"]);
        return s.own && s.peers.some((p) => p.state === "programmed") ? s : undefined;
      }, 200));
    }
    for (const h of HOSTS) {
      const s = status.get(h) as Status;
      const subnet = s.own?.subnet ?? "";
      const ns = ctr(h);
      await mustRun("ip", ["netns", "add", ns]);
      await mustRun("ip", ["-n", lab.ns(h), "link", "add", `vd-${h}`, "mtu", String(s.mtu), "type", "veth", "peer", "name", "eth0", "netns", ns]);
      await mustRun("ip", ["-n", lab.ns(h), "link", "set", `vd-${h}`, "master", "m-dcos", "up"]);
      await mustRun("ip", ["-n", ns, "link", "set", "lo", "up"]);
      await mustRun("ip", ["-n", ns, "link", "set", "eth0", "mtu", String(s.mtu), "up"]);
      await mustRun("ip", ["-n", ns, "addr", "add", `${hostAddr(subnet, 10)}/25`, "dev", "eth0"]);
      await mustRun("ip", ["-n", ns, "route", "add", "default", "via", hostAddr(subnet, 1)]);
      // Killed with its namespace by the lab's cleanup (every namespace with the lab's prefix).
      execFile("ip", ["netns", "exec", ns, process.execPath, ECHO, `ctr-${h}`, "--tcp", "7000"], { env: { ...process.env, NODE_OPTIONS: "" } }).unref();
    }
    await new Promise((r) => setTimeout(r, 500));
  });
  afterAll(async () => {
    await lab?.cleanup();
  });

  test("each node reports its peer on the direct path and routes the peer's subnet over its underlay device, not the VTEP", async () => {
    for (const [h, other] of [["h1", "h2"], ["h2", "h1"]] as const) {
      const peer = (status.get(h) as Status).peers.find((p) => p.node === other);
      const theirs = status.get(other)?.own as NonNullable<Status["own"]>;
      expect(peer).toMatchObject({ state: "programmed", path: "direct", subnet: theirs.subnet, agentIp: theirs.agentIp });
      const routes = JSON.parse(await execIn(lab.ns(h), "ip", ["-j", "route", "show", "proto", "77"])) as Array<{ dst: string; gateway: string; dev: string }>;
      expect(routes.map((r) => ({ dst: r.dst, gateway: r.gateway, dev: r.dev }))).toEqual([{ dst: theirs.subnet, gateway: theirs.agentIp, dev: "eth0" }]);
      expect(await execIn(lab.ns(h), "ip", ["-4", "route", "show", "dev", "vtep1024", theirs.subnet])).toBe("");
    }
  });

  test("containers on the two hosts reach each other, TCP both ways", async () => {
    for (const [from, to] of [["h1", "h2"], ["h2", "h1"]] as const) {
      const out = await execIn(ctr(from), process.execPath, [CLIENT, "tcp-count", "--addr", hostAddr(status.get(to)?.own?.subnet ?? "", 10), "--port", "7000", "--n", "20", "--concurrency", "4"]);
      const summary = JSON.parse(out.trim().split("\n").pop() ?? "{}") as { ok: number; counts: Record<string, number> };
      expect({ from, to, ok: summary.ok, counts: summary.counts }).toEqual({ from, to, ok: 20, counts: { [`ctr-${to}`]: 20 } });
    }
  });

  test("a peer that dies: its direct route leaves the underlay device", async () => {
    const gone = status.get("h2")?.own?.subnet ?? "";
    await lab.killNode("h2");
    await waitFor("h2's direct route gone on h1", 15_000, async () => ((await execIn(lab.ns("h1"), "ip", ["route", "show", "proto", "77"])).includes(gone) ? undefined : true), 100);
    expect((await lab.ctlJson<Status>("h1", ["--node", "h1", "overlay", "status"])).peers.find((p) => p.node === "h2")?.state ?? "gone").toMatch(/dead|gone/);
  });
});
