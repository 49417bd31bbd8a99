// The L4LB applier and reconciler against a real kernel (nft inside a network namespace this test
// makes), fed by a stand-in VIP table: what reaches the kernel for each table change, adoption after
// a restart (nothing flushed, only the difference repaired), drift found and repaired by the
// read-back, names published to DNS only once the kernel has their VIP, and bad input (a VIP nft
// refuses, a VIP in a forbidden range, no nft at all) skipped with a reason while the rest works.
import { afterAll, beforeAll, describe, expect, jest, test } from "@jest/globals";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { Registry } from "prom-client";
import { startTree, supervisor, worker, type ActorRef, type Behaviour, type Tree } from "../supervisors/index.js";
import { validateConfig } from "../actors/node/config.js";
import type { Backend } from "../actors/catalogue/model.js";
import type { VipsMsg, VipTable } from "../actors/catalogue/index.js";
import { applierBehaviour, NamesBoard, reconcilerBehaviour, type AllocatorMsg, type AllocatorView, type ApplierMsg, type ApplierStatus, type PublishedNames } from "../actors/l4lb/index.js";
import { createNetnsLab, type NetnsLab } from "./harness/netns.js";

jest.setTimeout(60_000);

type FakeVipsMsg = VipsMsg | { readonly type: "set"; readonly table: VipTable };

/** The catalogue's VIP table actor as the applier sees it: a watch, and a table the test sets. */
function fakeVips(initial: VipTable): Behaviour<{ table: VipTable; subs: Map<number, (t: VipTable) => void>; next: number }, FakeVipsMsg> {
  return {
    init: () => ({ table: initial, subs: new Map(), next: 1 }),
    handle(s, msg) {
      if (msg.type === "watch") {
        const id = s.next++;
        s.subs.set(id, msg.subscriber);
        msg.reply(id);
        msg.subscriber(s.table);
      } else if (msg.type === "unwatch") s.subs.delete(msg.id);
      else if (msg.type === "table") msg.reply(s.table);
      else if (msg.type === "set") {
        s.table = msg.table;
        for (const sub of s.subs.values()) sub(s.table);
      }
      return s;
    },
  };
}

/** A fixed named-VIP allocation, as the allocator would hand it over once its KV is read. */
function fakeAllocator(addresses: ReadonlyMap<string, string>): Behaviour<null, AllocatorMsg> {
  return {
    init: () => null,
    handle(s, msg) {
      if (msg.type === "watch") {
        msg.reply(1);
        const view: AllocatorView = { addresses, ready: true };
        msg.subscriber(view);
      }
      return s;
    },
  };
}

const be = (ip: string, port: number, weight: 0 | 1 = 1, owner = "n2"): Backend => ({ owner, taskId: `t-${ip}-${port}`, agentIp: ip, ip, port, weight });

describe("l4lb applier + reconciler on a real kernel", () => {
  let lab: NetnsLab;
  let dir: string;
  let tree: Tree | undefined;
  let board: NamesBoard;
  let metrics: Registry;

  beforeAll(async () => {
    lab = await createNetnsLab({ hosts: { h1: "10.203.0.1/24" } });
    dir = mkdtempSync(join(tmpdir(), "dcnet-l4lb-applier-"));
  });
  afterAll(async () => {
    await tree?.shutdown();
    await lab?.cleanup();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const nsExec = (args: string[]): string => execFileSync("ip", ["netns", "exec", lab.ns("h1"), ...args], { encoding: "utf8" });
  const backendsInKernel = (): string => nsExec(["nft", "list", "map", "ip", "dcnet-l4lb", "backends"]);
  const vipsInKernel = (): string => nsExec(["nft", "list", "map", "ip", "dcnet-l4lb", "vips"]);

  async function start(table: VipTable, opts: { l4lb?: Record<string, unknown>; addresses?: ReadonlyMap<string, string>; prefix?: string[] } = {}) {
    await tree?.shutdown();
    const config = validateConfig({ id: "n1", l4lb: { enabled: true, reconcileMs: 300, ...opts.l4lb } });
    metrics = new Registry();
    const logger = pino({ level: process.env.L4LB_TEST_LOG ?? "silent" });
    // The tree is reachable from its own actors' init only through onCreated (as actors/node/run.ts does).
    const slot: { tree?: Tree } = {};
    const lookup = <M>(path: string) => slot.tree?.lookup<M>(path);
    const prefix = opts.prefix ?? ["ip", "netns", "exec", lab.ns("h1")];
    tree = await startTree(
      supervisor("node", "one_for_one", [
        worker("vips", fakeVips(table)),
        ...(opts.addresses ? [worker("allocator", fakeAllocator(opts.addresses))] : []),
        worker("applier", applierBehaviour({ config: config.l4lb, logger, metrics, board, vips: () => lookup<VipsMsg>("/node/vips"), allocator: () => (opts.addresses ? lookup<AllocatorMsg>("/node/allocator") : undefined), membership: () => undefined, commandPrefix: prefix })),
        worker("reconciler", reconcilerBehaviour({ config: config.l4lb, logger, metrics, applier: () => lookup<ApplierMsg>("/node/applier"), commandPrefix: prefix })),
      ]),
      { onCreated: (t) => (slot.tree = t), onEvent: (e) => (e.type === "crashed" || e.type === "gave-up" ? logger.error({ event: e }, "tree event") : undefined) },
    );
  }
  const applier = () => tree?.lookup<ApplierMsg>("/node/applier") as ActorRef<ApplierMsg>;
  const status = () => applier().ask<ApplierStatus>((reply) => ({ type: "status", reply }), 10_000);
  const setTable = (t: VipTable) => (tree?.lookup<FakeVipsMsg>("/node/vips") as ActorRef<FakeVipsMsg>).tell({ type: "set", table: t });
  /** The first status after `after` (that also satisfies `until`: a sync of an earlier table may land after `after`). */
  async function synced(after: number, cond: (s: ApplierStatus) => boolean = () => true): Promise<ApplierStatus> {
    const until = Date.now() + 20_000;
    for (;;) {
      const s = await status();
      if (s.lastSync && s.lastSync.at >= after && cond(s)) return s;
      if (Date.now() > until) throw new Error(`no sync after ${after}: ${JSON.stringify(s)}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  test("an empty kernel gets the tables; each table change reaches the kernel as exactly that change", async () => {
    board = new NamesBoard();
    const t0 = Date.now();
    await start(new Map([["tcp:11.1.1.1:80", [be("9.0.2.2", 80), be("9.0.3.2", 80)]]]));
    const s = await synced(t0);
    expect(s.lastSync?.ok).toBe(true);
    expect(s.vips).toBe(1);
    expect(backendsInKernel()).toMatch(/11\.1\.1\.1 \. tcp \. 80 \. 0 : 9\.0\.2\.2 \. 80/);
    expect(backendsInKernel()).toMatch(/11\.1\.1\.1 \. tcp \. 80 \. 1 : 9\.0\.3\.2 \. 80/);
    expect(vipsInKernel()).toMatch(/11\.1\.1\.1 \. tcp \. 80 : goto nb-2/);

    // A backend drains (weight 0): it leaves the selection; a second VIP (UDP) arrives.
    const t1 = Date.now();
    setTable(
      new Map([
        ["tcp:11.1.1.1:80", [be("9.0.2.2", 80, 0), be("9.0.3.2", 80)]],
        ["udp:11.1.1.2:53", [be("9.0.2.3", 5353)]],
      ]),
    );
    await synced(t1, (x) => x.vips === 2);
    expect(vipsInKernel()).toMatch(/11\.1\.1\.1 \. tcp \. 80 : goto nb-1/);
    expect(vipsInKernel()).toMatch(/11\.1\.1\.2 \. udp \. 53 : goto nb-1/);
    expect(backendsInKernel()).not.toMatch(/9\.0\.2\.2/);

    // Every backend gone: the VIP leaves the kernel.
    const t2 = Date.now();
    setTable(new Map([["udp:11.1.1.2:53", [be("9.0.2.3", 5353)]]]));
    await synced(t2, (x) => x.vips === 1);
    expect(vipsInKernel()).not.toMatch(/11\.1\.1\.1/);
  });

  test("a restarted applier adopts the kernel as it is: zero repairs, the same elements", async () => {
    const before = backendsInKernel();
    const t0 = Date.now();
    await start(new Map([["udp:11.1.1.2:53", [be("9.0.2.3", 5353)]]]));
    const s = await synced(t0);
    expect(s.repairs).toEqual({ adopt: 0, drift: 0 });
    expect(backendsInKernel()).toBe(before);
  });

  test("the read-back finds an element deleted by hand and repairs it, counting the repair", async () => {
    nsExec(["nft", "delete", "element", "ip", "dcnet-l4lb", "vips", "{ 11.1.1.2 . udp . 53 }"]);
    expect(vipsInKernel()).not.toMatch(/11\.1\.1\.2/);
    const until = Date.now() + 10_000;
    while ((await status()).repairs.drift === 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    expect((await status()).repairs.drift).toBeGreaterThanOrEqual(1);
    expect(vipsInKernel()).toMatch(/11\.1\.1\.2 \. udp \. 53 : goto nb-1/);
    const drift = await metrics.getSingleMetric("dcnet_l4lb_reconcile_repairs_total")?.get();
    expect(drift?.values.find((v) => v.labels.reason === "drift")?.value).toBeGreaterThanOrEqual(1);
  });

  test("a restart over a damaged table repairs only the difference", async () => {
    nsExec(["nft", "delete", "element", "ip", "dcnet-l4lb", "vips", "{ 11.1.1.2 . udp . 53 }"]);
    const t0 = Date.now();
    await start(new Map([["udp:11.1.1.2:53", [be("9.0.2.3", 5353)]]]));
    const s = await synced(t0);
    expect(s.repairs.adopt).toBeGreaterThanOrEqual(1);
    expect(vipsInKernel()).toMatch(/11\.1\.1\.2 \. udp \. 53 : goto nb-1/);
  });

  test("a named VIP's DNS name is published only once the kernel routes its address", async () => {
    board = new NamesBoard();
    const seen: Array<{ names: PublishedNames; kernel: string }> = [];
    board.subscribe((names) => seen.push({ names, kernel: names.size > 0 ? vipsInKernel() : "" }));
    const t0 = Date.now();
    await start(new Map([["tcp:/web:80@marathon", [be("9.0.2.2", 8080)]]]), { addresses: new Map([["v4:web.marathon", "11.0.0.37"]]) });
    await synced(t0);
    const published = seen.find((x) => x.names.size > 0);
    expect(published?.names.get("web.marathon")).toEqual({ v4: "11.0.0.37" });
    // At the moment the name was published, the kernel already had the VIP.
    expect(published?.kernel).toMatch(/11\.0\.0\.37 \. tcp \. 80 : goto nb-1/);
  });

  test("bad input: a VIP nft refuses and a VIP in a forbidden range are skipped with a reason; the others are programmed", async () => {
    // A stand-in nft that refuses any transaction naming 11.9.9.9 (as a kernel without a needed
    // feature would), and otherwise runs the real one in the namespace.
    const wrapper = join(dir, "picky-nft");
    writeFileSync(wrapper, `#!/bin/sh\nif [ "$1" = "-f" ]; then t=$(cat); case "$t" in *11.9.9.9*) echo "Error: Could not process rule: Operation not supported" >&2; exit 1;; esac; printf '%s' "$t" | exec ip netns exec ${lab.ns("h1")} nft "$@"; fi\nexec ip netns exec ${lab.ns("h1")} nft "$@"\n`);
    chmodSync(wrapper, 0o755);
    const t0 = Date.now();
    await start(new Map([["udp:11.1.1.2:53", [be("9.0.2.3", 5353)]]]), { prefix: [], l4lb: { nft: wrapper } });
    await synced(t0);
    const t1 = Date.now();
    setTable(
      new Map([
        ["tcp:11.9.9.9:80", [be("9.0.2.2", 80)]],
        ["tcp:9.0.0.50:80", [be("9.0.2.2", 80)]],
        ["tcp:11.1.1.3:80", [be("9.0.2.4", 80)]],
        ["udp:11.1.1.2:53", [be("9.0.2.3", 5353)]],
      ]),
    );
    const s = await synced(t1, (x) => x.skipped.length >= 2);
    expect(s.lastSync?.ok).toBe(true);
    const reasons = Object.fromEntries(s.skipped.map((k) => [k.vip, k.reason]));
    expect(reasons["tcp:9.0.0.50:80"]).toBe("forbidden-range");
    expect(s.skipped.find((k) => k.vip.includes("11.9.9.9"))?.message).toMatch(/refused by nft: .*Operation not supported/);
    expect(vipsInKernel()).toMatch(/11\.1\.1\.3 \. tcp \. 80/);
    expect(vipsInKernel()).not.toMatch(/11\.9\.9\.9|9\.0\.0\.50/);
    const skippedTotal = await metrics.getSingleMetric("dcnet_l4lb_vips_skipped_total")?.get();
    expect(skippedTotal?.values.find((v) => v.labels.reason === "forbidden-range")?.value).toBe(1);
  });

  test("no nft binary: the sync fails with a message saying so, the actor keeps running, the kernel keeps its state", async () => {
    const before = vipsInKernel();
    const t0 = Date.now();
    await start(new Map([["tcp:11.1.1.4:80", [be("9.0.2.5", 80)]]]), { prefix: [], l4lb: { nft: "/nonexistent/nft" } });
    const s = await synced(t0);
    expect(s.lastSync?.ok).toBe(false);
    expect(s.lastSync?.error).toMatch(/nft/);
    expect(s.nftFailures).toBeGreaterThanOrEqual(1);
    expect(vipsInKernel()).toBe(before);
    expect((await status()).paused).toBe(false);
  });
});
