// An Edge-LB pool pointing at a named L4LB VIP, end to end (issue 14): the L4LB lab
// (integration/support/l4lb-lab.ts) with real `dcnet node` processes; h1 runs both the L4LB and
// the edge (HAProxy started by the node inside h1's namespace). HTTP echo backends in containers
// on h2 and h3 carry the named VIP `/web:80`; a pool applied with `dcnet ctl edge pool apply FILE`
// has one backend whose service endpoint is ADDRESS `web.marathon.l4lb.thisdcos.directory:80`.
// HAProxy's one server is the VIP's address; h1's kernel (nftables, OUTPUT) picks a backend per
// connection (0-hop): every backend answers, and scaling the backends changes who answers with
// no HAProxy reload.
//
// Address plan (the lab's): underlay 10.78.0.N (hN), containers 9.0.N.(K+1) (hNcK), named VIP
// from 11.0.0.0/8; the edge's pool frontend listens on 10.78.0.1:8080; clients run in h2c2.
// Cleanup: lab.cleanup() stops the nodes (each stops its HAProxy), then kills every process left
// in the lab's namespaces (a HAProxy whose node died included) and deletes them, nft tables with
// them; it runs in afterAll, also after a failed beforeAll.
import { afterAll, beforeAll, describe, expect, jest, test } from "@jest/globals";
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { procInfo } from "../actors/edge/index.js";
import { startL4lbLab, type L4lbLab, type LabBackend } from "./support/l4lb-lab.js";
import { waitFor } from "./harness/shell.js";

jest.setTimeout(180_000);

const WEB = "web.marathon.l4lb.thisdcos.directory";
const EDGE_PORT = 8080;
const HTTP_PORT = 8000;

interface EdgeStatusJson {
  readonly running: boolean;
  readonly pid?: number;
  readonly reloads: number;
  readonly services: ReadonlyArray<{ readonly backend: string; readonly ready: number }>;
}

describe("edge: a pool whose backend is a named L4LB VIP (ADDRESS endpoint)", () => {
  let lab: L4lbLab;
  let runDir: string;
  const web: LabBackend[] = [];

  /** `n` HTTP requests through the edge from a container on h2, one connection each; answers per backend name. */
  async function through(n: number): Promise<Record<string, number>> {
    const url = `http://${lab.ip("h1")}:${EDGE_PORT}/`;
    // Bounded: n tries, each at most 3 s.
    const r = await lab.exec("h2c2", "sh", ["-c", `for i in $(seq ${n}); do curl -sS --max-time 3 ${url}; echo; done`], { timeoutMs: n * 3000 + 5000 });
    const counts: Record<string, number> = {};
    for (const line of r.stdout.split("\n").filter(Boolean)) {
      const name = line.split(" ")[0] ?? "";
      counts[name] = (counts[name] ?? 0) + 1;
    }
    if (r.stderr.trim() !== "") counts["curl-error"] = r.stderr.trim().split("\n").length;
    return counts;
  }
  const status = () => lab.ctlJson<EdgeStatusJson>("h1", ["--node", "h1", "edge", "status"]);
  const register = (b: LabBackend) => lab.registerTask(b.host, b.task({ http: ["/web:80"] }));

  beforeAll(async () => {
    lab = await startL4lbLab({ hosts: 3, containersPerHost: 2 });
    runDir = join(lab.dir, "edge-h1");
    mkdirSync(runDir);
    web.push(await lab.backend("h2", 1, { name: "web-h2", httpPort: HTTP_PORT }));
    web.push(await lab.backend("h3", 1, { name: "web-h3", httpPort: HTTP_PORT }));
    web.push(await lab.backend("h3", 2, { name: "web-h3b", httpPort: HTTP_PORT }));
    await Promise.all([lab.startNode("h1", { edge: { enabled: true, runDir, minReloadIntervalMs: 300, healthListen: "127.0.0.1:9090" } }), lab.startNode("h2"), lab.startNode("h3")]);
    await lab.waitForMembers();
    for (const b of web.slice(0, 2)) await register(b);
  });
  afterAll(async () => {
    await lab?.cleanup();
  });

  test("HTTP through HAProxy reaches every backend behind the VIP; HAProxy's one server is the VIP's address", async () => {
    const vip = await waitFor(`${WEB} in h1's DNS`, 20_000, async () => (await lab.dig("h1", WEB, "A")).answer[0]?.data, 100);
    expect(vip).toMatch(/^11\./);
    const pool = { name: "vipweb", haproxy: { frontends: [{ bindPort: EDGE_PORT, protocol: "HTTP", linkBackend: { defaultBackend: "web" } }], backends: [{ name: "web", protocol: "HTTP", services: [{ endpoint: { type: "ADDRESS", address: WEB, port: 80 } }] }] } };
    const file = join(lab.dir, "vipweb.json");
    writeFileSync(file, JSON.stringify(pool));
    expect((await lab.ctl("h1", ["--node", "h1", "edge", "pool", "apply", file])).trim()).toBe("pool vipweb applied (1 frontends, 1 backends)");
    await waitFor("the pool served by h1's edge", 20_000, async () => {
      const c = await through(1);
      return c["web-h2"] !== undefined || c["web-h3"] !== undefined ? true : undefined;
    }, 200);

    const config = await lab.ctl("h1", ["--node", "h1", "edge", "config"]);
    // Servers in use (free slots are rendered disabled).
    const servers = config.split("\n").filter((l) => /^\s*server s\d+ /.test(l) && !l.endsWith(" disabled"));
    expect(servers).toHaveLength(1);
    expect(servers[0]).toContain(` ${vip}:80`);

    const counts = await through(40);
    expect(counts["curl-error"]).toBeUndefined();
    expect(Object.keys(counts).sort()).toEqual(["web-h2", "web-h3"]);
    // 0-hop: h1's kernel sent HAProxy's connection straight to the container; the backend saw h1's own address.
    const peer = await lab.exec("h2c2", "curl", ["-sS", "--max-time", "3", `http://${lab.ip("h1")}:${EDGE_PORT}/`]);
    expect(peer.stdout.trim().split(" ")[1]).toBe(lab.ip("h1"));
    expect((await status()).services.find((s) => s.backend === "pool_vipweb_web")).toMatchObject({ ready: 1 });
  });

  test("scaling the backends changes who answers, with no HAProxy reload", async () => {
    const master = join(runDir, "master.sock");
    const before = await procInfo(master);
    const s0 = await status();
    // Up: a third backend joins the VIP; h1's L4LB programs it, HAProxy is not told anything.
    await register(web[2] as LabBackend);
    const up = await waitFor("web-h3b answering through the edge", 20_000, async () => {
      const c = await through(10);
      return c["web-h3b"] !== undefined ? c : undefined;
    }, 200);
    expect(up["curl-error"]).toBeUndefined();
    const three = await through(45);
    expect(Object.keys(three).sort()).toEqual(["web-h2", "web-h3", "web-h3b"]);
    // Down: two go (drained as a scheduler stops them, then removed); only web-h3b is left.
    for (const b of web.slice(0, 2)) await lab.registerTask(b.host, b.task({ http: ["/web:80"], state: "killing" }));
    for (const b of web.slice(0, 2)) await lab.removeTask(b.host, b.name);
    const down = await waitFor("only web-h3b answering", 20_000, async () => {
      const c = await through(10);
      return Object.keys(c).join(",") === "web-h3b" ? c : undefined;
    }, 200);
    expect(down).toEqual({ "web-h3b": 10 });
    expect(await through(20)).toEqual({ "web-h3b": 20 });

    const after = await procInfo(master);
    const s1 = await status();
    console.log(`edge → named VIP: scaled 2→3→1 behind the VIP; HAProxy master reloads ${before?.reloads} → ${after?.reloads}, edge reloads ${s0.reloads} → ${s1.reloads}, pid ${s0.pid} → ${s1.pid}`);
    expect(after?.reloads).toBe(before?.reloads);
    expect(s1.reloads).toBe(s0.reloads);
    expect(s1.pid).toBe(s0.pid);
  });

  test("cleanup stops HAProxy and deletes every namespace (and the nft tables in them)", async () => {
    const pid = (await status()).pid as number;
    expect(existsSync(`/proc/${pid}`)).toBe(true);
    await lab.cleanup();
    expect(existsSync(`/proc/${pid}`)).toBe(false);
    expect(execFileSync("ip", ["netns", "list"], { encoding: "utf8" })).not.toContain(lab.prefix);
  });
});
