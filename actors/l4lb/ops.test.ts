import { describe, it, expect } from "@jest/globals";
import type { ActorRef, ReplyTo } from "../../supervisors/index.js";
import type { OpContext } from "../admin/ops.js";
import type { VipsMsg } from "../catalogue/index.js";
import type { ApplierMsg, ApplierStatus } from "./applier.actor.js";
import type { VipView } from "./render/desired.js";
import { formatStatus, l4lbStatus, vipLs } from "./ops.js";

function fakeRef<M>(path: string, answer: (m: M) => void): ActorRef<never> {
  const ref: ActorRef<M> = { path, tell: answer, ask: <R>(build: (reply: ReplyTo<R>) => M) => new Promise<R>((resolve) => answer(build(resolve))) };
  return ref as unknown as ActorRef<never>;
}

function context(enabled: boolean, refs: ReadonlyArray<ActorRef<never>>): OpContext {
  return {
    config: { id: "n1", l4lb: { enabled } } as OpContext["config"],
    actor: <M>(path: string) => {
      const ref = refs.find((r) => r.path === path);
      if (!ref) throw new Error(`${path} is not running on this node`);
      return ref as unknown as ActorRef<M>;
    },
  } as OpContext;
}

const backend = { owner: "n2", taskId: "web-1", agentIp: "10.0.0.2", ip: "9.0.2.2", port: 80, weight: 1 as const };

describe("l4lb admin ops", () => {
  it("vip ls shows each VIP's DNS name, address and every backend's state from the applier", async () => {
    const views: VipView[] = [
      {
        vip: "tcp:/web:80@marathon",
        kind: "named",
        dnsName: "web.marathon",
        protocol: "tcp",
        port: 80,
        addresses: [{ family: "ip", addr: "11.0.0.37" }],
        pending: false,
        backends: [
          { ...backend, state: "serving" },
          { ...backend, taskId: "web-2", ip: "9.0.3.2", weight: 0, state: "draining" },
          { ...backend, taskId: "web-3", owner: "n3", ip: "9.0.4.2", state: "unreachable" },
        ],
      },
      { vip: "tcp:/db:5432@marathon", kind: "named", dnsName: "db.marathon", protocol: "tcp", port: 5432, addresses: [], pending: true, backends: [{ ...backend, port: 5432, state: "serving" }] },
    ];
    const applier = fakeRef<ApplierMsg>("/node/l4lb/applier", (m) => m.type === "views" && m.reply(views));
    const r = await vipLs.handle({}, context(true, [applier]));
    expect(r.programmed).toBe(true);
    const text = vipLs.human(r, 0);
    expect(text).toMatch(/tcp:\/web:80@marathon\s+web\.marathon\.l4lb\.thisdcos\.directory\s+11\.0\.0\.37\s+9\.0\.2\.2:80\s+serving\s+n2\s+web-1/);
    expect(text).toMatch(/9\.0\.3\.2:80\s+draining/);
    expect(text).toMatch(/9\.0\.4\.2:80\s+unreachable\s+n3/);
    expect(text).toMatch(/tcp:\/db:5432@marathon\s+db\.marathon\.l4lb\.thisdcos\.directory\s+allocating/);
  });

  it("vip ls on a node without the L4LB shows the catalogue's table, states from the weights", async () => {
    const vips = fakeRef<VipsMsg>("/node/catalogue/vips", (m) => m.type === "table" && m.reply(new Map([["tcp:11.1.1.1:80", [backend, { ...backend, ip: "9.0.3.2", weight: 0 as const }]]])));
    const r = await vipLs.handle({}, context(false, [vips]));
    expect(r.programmed).toBe(false);
    expect(r.vips[0]?.backends.map((b) => b.state)).toEqual(["serving", "draining"]);
    expect(vipLs.human(r, 0)).toMatch(/tcp:11\.1\.1\.1:80\s+-\s+\(l4lb off\)\s+9\.0\.2\.2:80\s+serving/);
  });

  it("l4lb status: last sync, elements, repairs, skipped VIPs; says so when the L4LB is off", async () => {
    const st: ApplierStatus = {
      paused: false,
      generation: 7,
      lastSync: { at: Date.parse("2026-12-06T23:00:00Z"), ms: 12.5, ok: true },
      vips: 3,
      backends: 7,
      unreachableBackends: 1,
      elements: 12,
      repairs: { adopt: 0, drift: 2 },
      conntrack: { flushed: 4, failed: 0 },
      nftFailures: 0,
      skipped: [{ vip: "tcp:9.0.0.50:80", reason: "forbidden-range", message: "9.0.0.50 is inside the forbidden range 9.0.0.0/8" }],
    };
    const applier = fakeRef<ApplierMsg>("/node/l4lb/applier", (m) => m.type === "status" && m.reply(st));
    const r = await l4lbStatus.handle({}, context(true, [applier]));
    const text = formatStatus(r);
    expect(text).toMatch(/last sync: ok 2026-12-06T23:00:00\.000Z in 12\.5 ms/);
    expect(text).toMatch(/kernel: 3 VIPs, 12 elements; backends 7 \(1 unreachable\)/);
    expect(text).toMatch(/repairs: 0 at adoption, 2 drift; conntrack entries flushed 4/);
    expect(text).toMatch(/tcp:9\.0\.0\.50:80\s+forbidden-range/);
    const off = await l4lbStatus.handle({}, context(false, []));
    expect(formatStatus(off)).toBe("l4lb is off on n1 (l4lb.enabled: false)");
  });
});
