import { describe, it, expect } from "@jest/globals";
import fc from "fast-check";
import type { DesiredState, KernelVip } from "../model.js";
import { EMPTY_DESIRED, L4LB_TABLE } from "../model.js";
import { renderCleanup, renderDelta, renderFull, type RenderOptions } from "./nft.js";
import { ElementModel, state, vip } from "./testkit.js";

// Address plan: IP VIPs 11.0.0.x / fd01:c::x, backends 9.0.N.x (containers on host N) and
// 10.77.0.N / fd00:77::N (host network); this node's hairpin addresses 9.0.1.x.

const opts: RenderOptions = { table: L4LB_TABLE, selection: "random", maxBackends: 4 };

describe("renderFull (layout D, dataplane.md §3–4)", () => {
  const s = state(
    [vip("11.0.0.10", "tcp", 80, [["9.0.1.2", 80], ["9.0.2.2", 8080]]), vip("11.0.0.14", "udp", 53, [], [["9.0.2.2", 53]]), vip("fd01:c::10", "tcp", 80, [["fd00:77::2", 80]])],
    ["9.0.1.2"],
  );
  const text = renderFull(s, opts);

  it("replaces both tables in one transaction, whether or not they exist", () => {
    expect(text.split("\n").filter((l) => /^(table|delete table)/.test(l))).toEqual([
      "table ip dcnet-l4lb", "delete table ip dcnet-l4lb", "table ip dcnet-l4lb {",
      "table ip6 dcnet-l4lb", "delete table ip6 dcnet-l4lb", "table ip6 dcnet-l4lb {",
    ]);
  });

  it("puts serving VIPs in the vmap and backend map, VIPs with none serving in the reject set, local backends in the hairpin set", () => {
    const m = new ElementModel();
    m.loadFull(text);
    expect(m.dump()).toEqual([
      "ip backends 11.0.0.10 . tcp . 80 . 0 : 9.0.1.2 . 80",
      "ip backends 11.0.0.10 . tcp . 80 . 1 : 9.0.2.2 . 8080",
      "ip hairpin 9.0.1.2 . 9.0.1.2",
      "ip unavailable 11.0.0.14 . udp . 53",
      "ip vips 11.0.0.10 . tcp . 80 : goto nb-2",
      "ip6 backends fd01:c::10 . tcp . 80 . 0 : fd00:77::2 . 80",
      "ip6 vips fd01:c::10 . tcp . 80 : goto nb-1",
    ]);
  });

  it("has one chain per backend count, the hooks, the hairpin masquerade and the reject chains", () => {
    expect(text).toContain("chain nb-4 {\n\t\tmeta l4proto { tcp, udp } dnat ip to ip daddr . meta l4proto . th dport . numgen random mod 4 map @backends\n\t}");
    expect(text).not.toContain("nb-5");
    expect(text).toContain("type nat hook prerouting priority -101; policy accept;\n\t\tip daddr . meta l4proto . th dport vmap @vips");
    expect(text).toContain("type nat hook output priority -101; policy accept;");
    expect(text).toContain("ct status dnat ip saddr . ip daddr @hairpin masquerade");
    expect(text).toContain("ct status dnat ip6 saddr . ip6 daddr @hairpin masquerade");
    expect(text).toContain("type filter hook forward priority 0; policy accept;\n\t\tip6 daddr . meta l4proto . th dport @unavailable goto reject-vip");
    expect(text).toContain("meta l4proto tcp reject with tcp reset\n\t\treject with icmpv6 port-unreachable");
    expect(text).toContain("typeof ip daddr . meta l4proto . th dport . numgen random mod 64 : ip daddr . th dport");
  });

  it("source-hash reads the backend with jhash of the client address; the map keeps its numgen typeof (nft 1.0.6)", () => {
    const t = renderFull(s, { ...opts, selection: "source-hash" });
    expect(t).toContain("dnat ip6 to ip6 daddr . meta l4proto . th dport . jhash ip6 saddr mod 3 map @backends");
    expect(t).toContain("typeof ip6 daddr . meta l4proto . th dport . numgen random mod 64");
    expect(t).not.toContain("numgen random mod 3 map");
  });

  it("without IPv6 there is no ip6 table at all", () => {
    expect(renderFull(s, { ...opts, ipv6: false })).not.toContain("ip6");
    expect(renderCleanup({ table: L4LB_TABLE, ipv6: false })).not.toContain("ip6");
  });

  it("renderCleanup creates then deletes each table, so it succeeds when they are absent", () => {
    expect(renderCleanup({ table: L4LB_TABLE })).toBe("table ip dcnet-l4lb\ndelete table ip dcnet-l4lb\ntable ip6 dcnet-l4lb\ndelete table ip6 dcnet-l4lb\n");
  });
});

describe("renderDelta", () => {
  const a = vip("11.0.0.10", "tcp", 80, [["9.0.1.2", 80], ["9.0.2.2", 80]]);

  it("is empty between equal states, also when rebuilt", () => {
    const s = state([a], ["9.0.1.2"]);
    expect(renderDelta(s, s, opts)).toEqual({ text: "", ops: 0, parts: [] });
    expect(renderDelta(s, state([{ ...a, draining: [{ ip: "9.0.3.2", port: 80 }] }], ["9.0.1.2"]), opts).ops).toBe(0);
  });

  it("a new VIP: backends, then the vmap element", () => {
    const d = renderDelta(EMPTY_DESIRED, state([a]), opts);
    expect(d.text).toBe(
      "add element ip dcnet-l4lb backends { 11.0.0.10 . tcp . 80 . 0 : 9.0.1.2 . 80, 11.0.0.10 . tcp . 80 . 1 : 9.0.2.2 . 80 }\n" +
        "add element ip dcnet-l4lb vips { 11.0.0.10 . tcp . 80 : goto nb-2 }\n",
    );
    expect(d.ops).toBe(3);
    expect(d.parts.map((p) => p.key)).toEqual(["ip 11.0.0.10 tcp 80"]);
  });

  it("one backend drains: the VIP moves to nb-1 and the shifted index is replaced", () => {
    const next = vip("11.0.0.10", "tcp", 80, [["9.0.2.2", 80]], [["9.0.1.2", 80]]);
    const d = renderDelta(state([a]), state([next]), opts);
    expect(d.text).toBe(
      "delete element ip dcnet-l4lb vips { 11.0.0.10 . tcp . 80 }\n" +
        "delete element ip dcnet-l4lb backends { 11.0.0.10 . tcp . 80 . 0, 11.0.0.10 . tcp . 80 . 1 }\n" +
        "add element ip dcnet-l4lb backends { 11.0.0.10 . tcp . 80 . 0 : 9.0.2.2 . 80 }\n" +
        "add element ip dcnet-l4lb vips { 11.0.0.10 . tcp . 80 : goto nb-1 }\n",
    );
  });

  it("the last serving backend leaves: the VIP goes to the reject set; and back", () => {
    const none = vip("11.0.0.10", "tcp", 80, [], [["9.0.1.2", 80]]);
    const down = renderDelta(state([a]), state([none]), opts);
    expect(down.text).toContain("add element ip dcnet-l4lb unavailable { 11.0.0.10 . tcp . 80 }");
    const up = renderDelta(state([none]), state([a]), opts);
    expect(up.text.split("\n")[0]).toBe("delete element ip dcnet-l4lb unavailable { 11.0.0.10 . tcp . 80 }");
  });

  it("hairpin changes are their own part", () => {
    const d = renderDelta(state([a], ["9.0.1.2"]), state([a], ["9.0.1.3", "fd00:9:1::2"]), opts);
    expect(d.parts).toEqual([
      { key: "hairpin ip", text: "delete element ip dcnet-l4lb hairpin { 9.0.1.2 . 9.0.1.2 }\nadd element ip dcnet-l4lb hairpin { 9.0.1.3 . 9.0.1.3 }\n" },
      { key: "hairpin ip6", text: "add element ip6 dcnet-l4lb hairpin { fd00:9:1::2 . fd00:9:1::2 }\n" },
    ]);
  });

  it("renders only the VIPs that changed (O(changed VIPs))", () => {
    const many = Array.from({ length: 2000 }, (_, i) => vip(`11.0.${i >> 8}.${i & 255}`, "tcp", 80, [["9.0.2.2", 80 + (i % 7)]]));
    const prev = state(many);
    const next = state(many.map((v, i) => (i === 1234 ? { ...v, backends: [...v.backends, { ip: "9.0.3.3", port: 80 }] } : { ...v })));
    const d = renderDelta(prev, next, opts);
    expect(d.parts.map((p) => p.key)).toEqual(["ip 11.0.4.210 tcp 80"]);
    expect(d.ops).toBe(3);
  });

  describe("applied to a model of the kernel's maps (nft semantics), gives exactly renderFull(next)", () => {
    const ep = fc.record({ ip: fc.constantFrom("9.0.1.2", "9.0.2.2", "9.0.3.2", "10.77.0.3"), port: fc.constantFrom(80, 8080) });
    const kv: fc.Arbitrary<KernelVip> = fc
      .record({
        addr: fc.constantFrom("11.0.0.1", "11.0.0.2", "11.0.0.3", "fd01:c::1"),
        protocol: fc.constantFrom("tcp" as const, "udp" as const),
        backends: fc.uniqueArray(ep, { maxLength: 4, selector: (e) => `${e.ip} ${e.port}` }),
      })
      .map((r) => ({ ...r, family: r.addr.includes(":") ? ("ip6" as const) : ("ip" as const), port: 80, draining: [] }));
    const st: fc.Arbitrary<DesiredState> = fc
      .tuple(fc.array(kv, { maxLength: 6 }), fc.subarray(["9.0.1.2", "9.0.1.3", "fd00:9:1::2"]))
      .map(([vips, hp]) => state(vips, hp));

    it("as one transaction", () => {
      fc.assert(
        fc.property(st, st, (prev, next) => {
          const m = new ElementModel();
          m.loadFull(renderFull(prev, opts));
          m.apply(renderDelta(prev, next, opts).text);
          const want = new ElementModel();
          want.loadFull(renderFull(next, opts));
          expect(m.dump()).toEqual(want.dump());
        }),
      );
    });

    it("part by part, in any order", () => {
      fc.assert(
        fc.property(st, st, fc.integer(), (prev, next, seed) => {
          const m = new ElementModel();
          m.loadFull(renderFull(prev, opts));
          const parts = [...renderDelta(prev, next, opts).parts].sort((x, y) => ((x.key.length * 31 + seed) % 7) - ((y.key.length * 31 + seed) % 7));
          for (const p of parts) m.apply(p.text);
          const want = new ElementModel();
          want.loadFull(renderFull(next, opts));
          expect(m.dump()).toEqual(want.dump());
        }),
      );
    });
  });
});
