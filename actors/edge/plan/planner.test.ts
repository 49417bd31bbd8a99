import { describe, expect, it } from "@jest/globals";
import { plan } from "./planner.js";
import { render, reloadReason, type Slots } from "./render.js";
import { buildModel } from "./desired.js";
import { DESIRED_OPTS, RENDER_OPTS, task } from "./fixtures.js";
import type { EdgeModel, EdgeTask } from "./types.js";

const L = { HAPROXY_GROUP: "external", HAPROXY_0_VHOST: "shop.example.com" };
const tasks = (ids: number[], over: Partial<EdgeTask> = {}) => ids.map((i) => task("shop", L, { id: `t${i}`, hostPort: 31000 + i, ...over }));
const model = (ts: EdgeTask[]): EdgeModel => buildModel(ts, [], DESIRED_OPTS);
const step = (ts: EdgeTask[], slots: Slots) => plan(model(ts), slots, 8);

describe("the planner", () => {
  it("scaling 3→6→1→3 is runtime commands only: the structure hash never changes, ids stay in their slots", () => {
    let p = step(tasks([1, 2, 3]), new Map());
    const hash0 = render(model(tasks([1, 2, 3])), p.slots, RENDER_OPTS).structureHash;
    expect(p.slots.get("marathon_shop_0")?.map((e) => e?.id ?? "-")).toEqual(["t1#0", "t2#0", "t3#0", "-", "-", "-", "-", "-"]);
    for (const ids of [[1, 2, 3, 4, 5, 6], [4], [4, 7, 8]]) {
      p = step(tasks(ids), p.slots);
      expect(render(model(tasks(ids)), p.slots, RENDER_OPTS).structureHash).toBe(hash0);
      expect(p.grown).toEqual([]);
    }
    // t4 kept slot 4 throughout; t7, t8 took the lowest free slots.
    expect(p.slots.get("marathon_shop_0")?.map((e) => e?.id ?? "-")).toEqual(["t7#0", "t8#0", "-", "t4#0", "-", "-", "-", "-"]);
  });

  it("emits removals before additions, with address and state", () => {
    const a = step(tasks([1, 2]), new Map());
    const b = step(tasks([2, 3]), a.slots);
    expect(b.cmds).toEqual(["set server marathon_shop_0/s1 state maint", "set server marathon_shop_0/s1 addr 10.0.0.1 port 31003", "set server marathon_shop_0/s1 state ready"]);
  });

  it("a killing task is drained at once, then freed", () => {
    const a = step(tasks([1, 2]), new Map());
    const killing = [...tasks([1]), ...tasks([2], { state: "killing" })];
    const b = step(killing, a.slots);
    expect(b.cmds).toEqual(["set server marathon_shop_0/s2 state drain"]);
    expect(step(tasks([1]), b.slots).cmds).toEqual(["set server marathon_shop_0/s2 state maint"]);
  });

  it("nothing changed: no commands", () => {
    const a = step(tasks([1, 2]), new Map());
    expect(step(tasks([1, 2]), a.slots).cmds).toEqual([]);
  });

  it("outgrowing the slots doubles them: one structural change (a reload) carrying every endpoint", () => {
    const a = step(tasks([1, 2]), new Map());
    const ids = Array.from({ length: 9 }, (_, i) => i + 1);
    const b = step(tasks(ids), a.slots);
    expect(b.grown).toEqual(["marathon_shop_0"]);
    expect(b.cmds).toEqual([]);
    expect(b.slots.get("marathon_shop_0")).toHaveLength(16);
    const r0 = render(model(tasks([1, 2])), a.slots, RENDER_OPTS);
    const r1 = render(model(tasks(ids)), b.slots, RENDER_OPTS);
    expect(r1.structureHash).not.toBe(r0.structureHash);
    expect(reloadReason(r0.sections, r1.sections)).toBe("~backend marathon_shop_0");
    expect(r1.text.match(/server s\d+ 10\.0\.0\.1:310\d\d$/gm)).toHaveLength(9);
  });

  it("a new vhost is a structural change; its reason names the sections", () => {
    const a = step(tasks([1]), new Map());
    const ts = [...tasks([1]), task("blog", { ...L, HAPROXY_0_VHOST: "blog.example.com" }, { id: "b1", hostPort: 1 })];
    const b = step(ts, a.slots);
    const r0 = render(model(tasks([1])), a.slots, RENDER_OPTS);
    const r1 = render(model(ts), b.slots, RENDER_OPTS);
    expect(reloadReason(r0.sections, r1.sections)).toBe("~frontend labels_http_in, +backend marathon_blog_0");
  });
});

describe("the renderer", () => {
  it("is deterministic and carries the current servers", () => {
    const ts = [
      task("shop", { ...L, HAPROXY_0_PATH: "/api", HAPROXY_0_STICKY: "true", HAPROXY_0_REDIRECT_TO_HTTPS: "true", HAPROXY_0_BACKEND_NETWORK_ALLOWED_ACL: "10.0.0.0/8" }, { id: "x", hostPort: 31001 }),
      task("tcp", { HAPROXY_GROUP: "external", HAPROXY_0_PORT: "10001" }, { id: "y", hostPort: 31002, state: "killing" }),
    ];
    const p = plan(model(ts), new Map(), 2);
    const a = render(model(ts), p.slots, RENDER_OPTS);
    const b = render(model([...ts].reverse()), plan(model([...ts].reverse()), new Map(), 2).slots, RENDER_OPTS);
    expect(a.text).toBe(b.text);
    expect(a.text).toContain("  acl r0_host hdr(host),lower,field(1,:) -m str shop.example.com\n  acl r0_path path_beg /api\n  http-request redirect scheme https code 301 if !{ ssl_fc } r0_host r0_path\n  use_backend marathon_shop_0 if r0_host r0_path");
    expect(a.text).toContain("backend marathon_shop_0\n  mode http\n  balance roundrobin\n  http-request deny deny_status 403 unless { src 10.0.0.0/8 }\n  cookie DCNETSRV insert indirect nocache dynamic");
    expect(a.text).toContain("  server s1 10.0.0.1:31001\n  server s2 127.0.0.1:1 disabled");
    // Draining: in maintenance in the file (a new worker has no connections to it).
    expect(a.text).toContain("backend marathon_tcp_0\n  mode tcp\n  balance roundrobin\n  server s1 10.0.0.1:31002 disabled");
    expect(a.text).toContain("frontend marathon_tcp_0_10001\n  bind :10001\n  mode tcp\n  default_backend marathon_tcp_0");
  });
});
