// Self-test of the L4LB lab (support/l4lb-lab.ts) without dcnet's L4LB: the topology routes every
// container subnet between hosts (v4 and v6, TCP and UDP), the echo backends answer with their
// names, the client script counts them, holds a connection and loops, real `dcnet node` processes
// run inside the hosts against the lab's NATS, and cleanup leaves nothing behind.
import { afterAll, beforeAll, describe, expect, jest, test } from "@jest/globals";
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { waitFor } from "./harness/shell.js";
import { startL4lbLab, type L4lbLab, type LabBackend } from "./support/l4lb-lab.js";

jest.setTimeout(60_000);

describe("l4lb lab - 3 hosts, containers, routes, NATS, clients (no L4LB)", () => {
  let lab: L4lbLab;
  let c21: LabBackend;
  let c32: LabBackend;
  let h3: LabBackend;

  beforeAll(async () => {
    // l4lb: null drops the lab's default `l4lb` section: this test is about the lab, not the L4LB.
    lab = await startL4lbLab({ nodeConfig: { l4lb: null } });
    [c21, c32, h3] = await Promise.all([
      lab.backend("h2", 1, { name: "c21", tcpPort: 7000, udpPort: 7000 }),
      lab.backend("h3", 2, { name: "c32", tcpPort: 7000, udpPort: 7000 }),
      lab.backend("h3", "host", { name: "h3net", tcpPort: 7001, udpPort: 7001 }),
    ]);
  });

  afterAll(async () => {
    await lab?.cleanup();
  });

  test("every backend answers with its name, over TCP and UDP, v4 and v6, from hosts and containers on any host", async () => {
    const cases = [
      { from: "h1c1", to: c21 }, // container → container on another host
      { from: "h1", to: c32 }, // host network → container on another host
      { from: "h2c2", to: c21 }, // container → container on the same bridge
      { from: "h2c1", to: h3 }, // container → another host's network
    ];
    for (const { from, to } of cases) {
      for (const addr of [to.ip4, to.ip6]) {
        const port = to.tcpPort as number;
        const tcp = await lab.tcpCount(from, { addr, port }, { n: 40 });
        expect({ from, addr, counts: tcp.counts, errors: tcp.errors }).toEqual({ from, addr, counts: { [to.name]: 40 }, errors: {} });
        const udp = await lab.udpCount(from, { addr, port }, { n: 40 });
        expect({ from, addr, counts: udp.counts, errors: udp.errors }).toEqual({ from, addr, counts: { [to.name]: 40 }, errors: {} });
      }
    }
    // One UDP flow (one source port) for every exchange: what conntrack tests need.
    const flow = await lab.udpCount("h1c2", { addr: c32.ip6, port: 7000 }, { n: 20, samePort: true });
    expect(flow.counts).toEqual({ c32: 20 });
    expect(flow.sourcePort).toBeGreaterThan(0);
  });

  test("the container ports have the hairpin flag and nothing of the lab is in the root namespace", async () => {
    const link = await lab.exec("h1", "ip", ["-d", "link", "show", "vc1"]);
    expect(link.stdout).toMatch(/hairpin on/);
    expect(execFileSync("ip", ["-o", "link"], { encoding: "utf8" })).not.toMatch(/\bdcbr\b|\bvc1@/);
  });

  test("a VIP no one programmed goes nowhere: the client gives up within its bound and says why", async () => {
    const r = await lab.tcpCount("h1c1", { addr: "11.0.0.1", port: 80 }, { n: 4, timeoutMs: 300 });
    expect(r).toMatchObject({ ok: 0, failed: 4, complete: true, errors: { ETIMEDOUT: 4 } });
    const refused = await lab.tcpCount("h1c1", { addr: c21.ip4, port: 7999 }, { n: 3 });
    expect(refused.errors).toEqual({ ECONNREFUSED: 3 });
  });

  test("tcp-hold reports its backend, and when the connection breaks; tcp-loop reports failures with their time", async () => {
    const b = await lab.backend("h2", 2, { name: "victim", tcpPort: 7100 });
    const hold = await lab.tcpHold("h1c1", { addr: b.ip4, port: 7100 }, { intervalMs: 20 });
    expect(hold.backend).toBe("victim");
    const loop = await lab.tcpLoop("h3c1", { addr: b.ip6, port: 7100 }, { intervalMs: 2 });
    await new Promise((r) => setTimeout(r, 500));
    const killedAt = Date.now();
    await b.kill();
    const broken = await hold.waitForEvent("broken");
    expect(broken.at).toBeGreaterThanOrEqual(killedAt - 50);
    await new Promise((r) => setTimeout(r, 200));
    const held = await hold.stop();
    expect(held.exchanges).toBeGreaterThan(0);
    expect(held.broken?.error).toMatch(/closed|ECONNRESET/);

    const back = await lab.backend("h2", 2, { name: "victim", tcpPort: 7100 });
    const backAt = Date.now();
    await new Promise((r) => setTimeout(r, 300));
    const looped = await loop.stop();
    await back.stop();
    expect(looped.counts.victim).toBe(looped.ok);
    expect(looped.ok).toBeGreaterThan(0);
    expect(looped.failed).toBeGreaterThan(0);
    // Every failure falls between the kill and the restart, and successes resumed after it.
    for (const f of looped.failures) expect(f.at).toBeGreaterThanOrEqual(killedAt - 50);
    for (const f of looped.failures) expect(f.at).toBeLessThanOrEqual(backAt);
    expect(looped.okPerSecond.reduce((a, x) => a + x, 0)).toBe(looped.ok);
    expect(looped.failures.length).toBe(Math.min(looped.failed, 1000));
  });

  test("dcnet nodes run inside the hosts on the lab's NATS: membership, ctl, a task registered on h2 answered by h1's DNS to a container", async () => {
    await lab.startNodes();
    await lab.registerTask("h2", c21.task({ tcp: ["/web:7000"] }));
    const owners = await waitFor("the task in h3's catalogue", 10_000, async () => {
      const ls = await lab.ctlJson<{ tasks: Array<{ owner: string; task: { id: string } }> }>("h3", ["--node", "h3", "task", "ls"]);
      return ls.tasks.length > 0 ? ls.tasks.map((t) => [t.task.id, t.owner]) : undefined;
    });
    expect(owners).toEqual([["c21", "h2"]]);
    const name = "c21.marathon.containerip.dcos.thisdcos.directory";
    const answer = await waitFor(`${name} from h1's DNS`, 10_000, async () => {
      const r = await lab.dig("h1c2", name, "AAAA");
      return r.answer.length > 0 ? r.answer.map((a) => a.data) : undefined;
    }, 100);
    expect(answer).toEqual([c21.ip6]);
    // The client resolves a name through its host's node.
    const byName = await lab.tcpCount("h1c2", { addr: name, port: 7000, family: 6 }, { n: 5 });
    expect(byName).toMatchObject({ addr: c21.ip6, counts: { c21: 5 } });

    await lab.killNode("h3");
    expect(lab.node("h3")?.child.signalCode).toBe("SIGKILL");
    await lab.restartNode("h1");
    await lab.startNode("h3");
    await lab.waitForMembers();
  });

  test("cleanup kills every process of the lab and deletes every namespace, containers included", async () => {
    const pids = [c21.pid, c32.pid, h3.pid, ...lab.hosts.map((h) => lab.node(h)?.pid ?? -1)];
    const before = execFileSync("ip", ["netns", "list"], { encoding: "utf8" });
    expect(before.split("\n").filter((l) => l.startsWith(`${lab.prefix}-`))).toHaveLength(1 + 3 + 3 * 2);
    await lab.cleanup();
    expect(execFileSync("ip", ["netns", "list"], { encoding: "utf8" })).not.toContain(lab.prefix);
    for (const pid of pids) expect(existsSync(`/proc/${pid}`)).toBe(false);
    expect(existsSync(lab.dir)).toBe(false);
  });
});
