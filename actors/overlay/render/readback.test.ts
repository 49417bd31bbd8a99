import { describe, expect, it } from "@jest/globals";
import fc from "fast-check";
import type { OverlayDesired } from "../model.js";
import { overlayDesired } from "./desired.js";
import { peerPlan, setupPlan } from "./ops.js";
import { compareOverlay, parseOverlay, type OverlayListings } from "./readback.js";
import { applyOps, emptyKernel, host, listingsOf, OPTS, UNDERLAY, type KernelModel } from "./testkit.js";

// Printed by iproute2 6.1 on kernel 6.18 for host 1 with peer 2 programmed (v4 and v6).
const REAL: OverlayListings = {
  links: new Map<string, unknown>([
    [
      "vtep1024",
      JSON.parse(
        '[{"ifindex":4,"ifname":"vtep1024","flags":["BROADCAST","MULTICAST","UP","LOWER_UP"],"mtu":1450,"qdisc":"noqueue","operstate":"UNKNOWN","group":"default","txqlen":1000,"link_type":"ether","address":"70:b3:d5:00:00:01","broadcast":"ff:ff:ff:ff:ff:ff","promiscuity":0,"allmulti":0,"min_mtu":68,"max_mtu":65535,"linkinfo":{"info_kind":"vxlan","info_data":{"id":1024,"local":"10.83.0.1","port_range":{"low":0,"high":0},"port":64000,"learning":false,"ttl":0,"df":"unset","ageing":300,"udp_csum":true,"udp_zero_csum6_tx":false,"udp_zero_csum6_rx":false}},"inet6_addr_gen_mode":"eui64","num_tx_queues":1,"num_rx_queues":1,"gso_max_size":65536,"gso_max_segs":65535,"tso_max_size":65536,"tso_max_segs":65535,"gro_max_size":65536,"addr_info":[{"family":"inet","local":"44.128.0.1","prefixlen":20,"scope":"global","label":"vtep1024","valid_life_time":4294967295,"preferred_life_time":4294967295},{"family":"inet6","local":"fd01:a::1","prefixlen":64,"scope":"global","nodad":true,"valid_life_time":4294967295,"preferred_life_time":4294967295},{"family":"inet6","local":"fe80::72b3:d5ff:fe00:1","prefixlen":64,"scope":"link","valid_life_time":4294967295,"preferred_life_time":4294967295}]}]',
      ),
    ],
  ]),
  neigh: JSON.parse('[{"dst":"44.128.0.2","lladdr":"70:b3:d5:00:00:02","state":["PERMANENT"]},{"dst":"fd01:a::2","lladdr":"70:b3:d5:00:00:02","state":["PERMANENT"]}]'),
  fdb: JSON.parse('[{"mac":"70:b3:d5:00:00:02","dst":"10.83.0.2","flags":["self"],"state":"permanent"}]'),
  routes: JSON.parse('[{"dst":"9.0.2.0/24","gateway":"44.128.0.2","flags":["onlink"]},{"dst":"44.128.0.0/20","protocol":"kernel","scope":"link","prefsrc":"44.128.0.1","flags":[]}]'),
  routes6: JSON.parse(
    '[{"dst":"fd01:a::/64","protocol":"kernel","metric":256,"flags":[],"pref":"medium"},{"dst":"fd01:b:0:0:2::/80","gateway":"fd01:a::2","metric":1024,"flags":["onlink"],"pref":"medium"},{"dst":"fe80::/64","protocol":"kernel","metric":256,"flags":[],"pref":"medium"}]',
  ),
};

const desiredOf = (...n: number[]): OverlayDesired => overlayDesired(host(1), n.map((i) => host(i)), OPTS).desired;
/** The same with direct routing on an underlay of 10.83.0.0/30: hosts 2 and 3 are on it, 4 and up are not. */
const directOf = (...n: number[]): OverlayDesired => overlayDesired(host(1), n.map((i) => host(i)), { ...OPTS, direct: { dev: UNDERLAY, net: "10.83.0.1/30" } }).desired;

const norm = (k: KernelModel) => ({
  links: [...k.links].map(([n, l]) => [n, { ...l, addrs: [...l.addrs].sort() }]).sort(),
  neigh: [...k.neigh].sort(),
  fdb: [...k.fdb].sort(),
  routes: [...k.routes].sort(),
});

/** A kernel with everything desired programmed (through the simulator). */
function programmed(d: OverlayDesired): KernelModel {
  const k = emptyKernel();
  applyOps(k, [...setupPlan(d), ...peerPlan(new Map(), d.peers, d.direct)]);
  return k;
}

describe("parseOverlay + compareOverlay", () => {
  it("reads real listings back with zero drift (the VTEP only: bridges not listed are not judged)", () => {
    const o = parseOverlay(REAL);
    expect(o.problems).toEqual([]);
    expect(o.links.get("vtep1024")).toEqual({ name: "vtep1024", kind: "vxlan", up: true, mtu: 1450, mac: "70:b3:d5:00:00:01", vni: 1024, port: 64000, local: "10.83.0.1", learning: false, addrs: ["44.128.0.1/20", "fd01:a::1/64"], linkLocal: ["fe80::72b3:d5ff:fe00:1/64"] });
    expect(compareOverlay(o, desiredOf(2))).toEqual({ drift: 0, repair: { ip: "", bridge: "" }, ops: [], reasons: [] });
  });

  it("a hand-deleted FDB entry is one drift, repaired by one bridge line", () => {
    const c = compareOverlay(parseOverlay({ ...REAL, fdb: [] }), desiredOf(2));
    expect(c).toMatchObject({ drift: 1, repair: { ip: "", bridge: "fdb replace 70:b3:d5:00:00:02 dev vtep1024 dst 10.83.0.2 self permanent\n" }, reasons: ["missing fdb 70:b3:d5:00:00:02 → 10.83.0.2"] });
  });

  it("direct routing: a peer on the underlay's subnet is routed over it (proto 77), one elsewhere over the VTEP; the host's own underlay routes are not judged", () => {
    const d = directOf(2, 4);
    expect(d.direct).toEqual({ dev: UNDERLAY, net: "10.83.0.0/30" });
    const k = programmed(d);
    expect(k.routes.get("9.0.2.0/24")).toEqual({ via: "10.83.0.2", dev: UNDERLAY, proto: 77 });
    expect(k.routes.get("9.0.4.0/24")).toEqual({ via: "44.128.0.4", dev: "vtep1024" });
    // IPv6 over an IPv4 underlay stays on VXLAN.
    expect(k.routes.get("fd01:b:0:0:2::/80")).toEqual({ via: "fd01:a::2", dev: "vtep1024" });
    const listed = listingsOf(k, "vtep1024", ["m-dcos", "d-dcos"], true);
    // `ip route show dev eth0 proto 77` lists only ours; a host route listed anyway is read as ours, so
    // the filter is what keeps the host's routes out, and the listing itself is what is tested here.
    expect(compareOverlay(parseOverlay(listed), d)).toMatchObject({ drift: 0 });
    // The node restarted with directRouting off: the direct route moves back onto the VTEP in place.
    const c = compareOverlay(parseOverlay(listed), desiredOf(2, 4));
    expect(c).toMatchObject({ drift: 1, repair: { ip: "route replace 9.0.2.0/24 via 44.128.0.2 dev vtep1024 onlink\n", bridge: "" }, reasons: ["route 9.0.2.0/24 via 10.83.0.2 dev eth0 (want 44.128.0.2 dev vtep1024)"] });
  });

  it("direct routing: a departed peer's underlay route is found by its protocol and deleted from the underlay", () => {
    const k = programmed(directOf(2, 3));
    const c = compareOverlay(parseOverlay(listingsOf(k, "vtep1024", ["m-dcos", "d-dcos"], true)), directOf(2));
    expect(c.repair.ip.split("\n")).toContain("route del 9.0.3.0/24 dev eth0");
    expect(c.reasons).toContain("extra route 9.0.3.0/24");
  });

  it("a changed MTU is fixed in place, without recreating the device", () => {
    const k = programmed(desiredOf(2, 3));
    (k.links.get("vtep1024") as { mtu: number }).mtu = 1400;
    const c = compareOverlay(parseOverlay(listingsOf(k)), desiredOf(2, 3));
    expect(c).toMatchObject({ drift: 1, repair: { ip: "link set vtep1024 mtu 1450 up\n", bridge: "" }, reasons: ["vtep1024 has MTU 1400 (want 1450)"] });
  });

  it("a wrong VNI, port, local address or MAC recreates the VTEP and re-adds every peer entry", () => {
    const d = desiredOf(2);
    const k = programmed(d);
    Object.assign(k.links.get("vtep1024") as object, { vni: 42, mac: "70:b3:d5:00:00:99" });
    const c = compareOverlay(parseOverlay(listingsOf(k)), d);
    expect(c.reasons).toEqual(["vtep1024 has VNI 42 (want 1024)", "vtep1024 has MAC 70:b3:d5:00:00:99 (want 70:b3:d5:00:00:01)"]);
    expect(c.drift).toBe(2);
    expect(c.repair.ip.split("\n").slice(0, 3)).toEqual(["link del vtep1024", "link add vtep1024 address 70:b3:d5:00:00:01 mtu 1450 type vxlan id 1024 dstport 64000 local 10.83.0.1 nolearning", "link set vtep1024 mtu 1450 up"]);
    expect(c.repair.ip).toContain("route replace 9.0.2.0/24 via 44.128.0.2 dev vtep1024 onlink");
    expect(c.repair.ip).toContain("neigh replace 44.128.0.2 lladdr 70:b3:d5:00:00:02 dev vtep1024 nud permanent");
    expect(c.repair.bridge).toBe("fdb replace 70:b3:d5:00:00:02 dev vtep1024 dst 10.83.0.2 self permanent\n");
  });

  it("a departed peer's entries left behind are extra, and deleted", () => {
    const k = programmed(desiredOf(2, 3));
    const c = compareOverlay(parseOverlay(listingsOf(k)), desiredOf(2));
    expect([...c.reasons].sort()).toEqual(["extra fdb 70:b3:d5:00:00:03", "extra neighbour 44.128.0.3", "extra neighbour fd01:a::3", "extra route 9.0.3.0/24", "extra route fd01:b:0:0:3::/80"]);
    expect(c.repair).toEqual({
      ip: "route del 9.0.3.0/24 dev vtep1024\nroute del fd01:b:0:0:3::/80 dev vtep1024\nneigh flush to 44.128.0.3 dev vtep1024 nud permanent\nneigh flush to fd01:a::3 dev vtep1024 nud permanent\n",
      bridge: "fdb del 70:b3:d5:00:00:03 dev vtep1024 self\n",
    });
  });

  it("a VTEP set down (the kernel then drops its neighbours and routes) comes back up with them", () => {
    const d = desiredOf(2);
    const k = programmed(d);
    (k.links.get("vtep1024") as { up: boolean }).up = false;
    k.neigh.clear();
    k.routes.clear();
    const c = compareOverlay(parseOverlay(listingsOf(k)), d);
    expect(c.reasons[0]).toBe("vtep1024 is down");
    expect(c.drift).toBe(5);
    expect(c.repair.ip.split("\n")[0]).toBe("link set vtep1024 mtu 1450 up");
  });

  it("a missing bridge is recreated; a stale address is removed; a non-permanent neighbour is made permanent", () => {
    const d = desiredOf(2);
    const k = programmed(d);
    k.links.delete("d-dcos");
    k.links.get("vtep1024")?.addrs.add("44.128.0.9/20");
    k.neigh.set("44.128.0.2", { mac: "70:b3:d5:00:00:02", permanent: false });
    const c = compareOverlay(parseOverlay(listingsOf(k)), d);
    expect(c.reasons).toEqual(["vtep1024 has extra address 44.128.0.9/20", "d-dcos is missing", "missing neighbour 44.128.0.2 70:b3:d5:00:00:02"]);
    expect(c.repair.ip).toBe(
      [
        "addr del 44.128.0.9/20 dev vtep1024",
        "link add d-dcos address 0e:58:09:00:01:81 mtu 1450 type bridge",
        "link set d-dcos mtu 1450 up",
        "addr replace 9.0.1.129/25 dev d-dcos",
        "addr replace fd01:b::1:8000:0:1/81 dev d-dcos nodad",
        "addr replace fe80::1/64 dev d-dcos nodad",
        "neigh replace 44.128.0.2 lladdr 70:b3:d5:00:00:02 dev vtep1024 nud permanent",
        "",
      ].join("\n"),
    );
  });

  it("an FDB entry with a second remote is deleted and written again: one drift", () => {
    const d = desiredOf(2);
    const k = programmed(d);
    k.fdb.get("70:b3:d5:00:00:02")?.push({ dst: "10.83.0.77", permanent: true });
    const c = compareOverlay(parseOverlay(listingsOf(k)), d);
    expect(c.drift).toBe(1);
    expect(c.repair.bridge).toBe("fdb del 70:b3:d5:00:00:02 dev vtep1024 self\nfdb replace 70:b3:d5:00:00:02 dev vtep1024 dst 10.83.0.2 self permanent\n");
  });

  it("an absent VTEP is created with every peer entry", () => {
    const d = desiredOf(2);
    const k = programmed(d);
    applyOps(k, [{ kind: "link-del", name: "vtep1024" }]);
    const c = compareOverlay(parseOverlay(listingsOf(k)), d);
    expect(c.reasons).toEqual(["vtep1024 is missing"]);
    const after = structuredClone(k);
    applyOps(after, c.ops);
    expect(compareOverlay(parseOverlay(listingsOf(after)), d).drift).toBe(0);
  });

  it("an unreadable listing is a problem: its kind is re-added, nothing of it deleted", () => {
    const c = compareOverlay(parseOverlay({ ...REAL, neigh: { oops: true } }), desiredOf(2));
    expect(c.reasons[0]).toBe("neighbours: not a JSON list");
    expect(c.repair.ip).toBe("neigh replace 44.128.0.2 lladdr 70:b3:d5:00:00:02 dev vtep1024 nud permanent\nneigh replace fd01:a::2 lladdr 70:b3:d5:00:00:02 dev vtep1024 nud permanent\n");
  });

  it("property: never throws, whatever the listings hold", () => {
    const d = desiredOf(2, 3);
    fc.assert(
      fc.property(fc.anything(), fc.anything(), fc.anything(), fc.anything(), fc.anything(), fc.anything(), (a, b, c, e, f, g) => {
        const o = parseOverlay({ links: new Map([["vtep1024", a], ["m-dcos", b]]), neigh: c, fdb: e, routes: f, routes6: g });
        compareOverlay(o, d);
        const wrapped = parseOverlay({ links: new Map([["vtep1024", [a]]]), neigh: [c], fdb: [e], routes: [f], routes6: [{ dst: g, gateway: a }] });
        compareOverlay(wrapped, d);
      }),
    );
  });

  // Random damage to a programmed kernel: the repair always brings it back to zero drift.
  const damage = fc.array(
    fc.oneof(
      fc.constant({ t: "del-vtep" as const }),
      fc.constant({ t: "del-bridge" as const }),
      fc.constant({ t: "down" as const }),
      fc.integer({ min: 1200, max: 1500 }).map((mtu) => ({ t: "mtu" as const, mtu })),
      fc.integer({ min: 1, max: 3000 }).map((vni) => ({ t: "vni" as const, vni })),
      fc.integer({ min: 0, max: 20 }).map((i) => ({ t: "drop" as const, i })),
      fc.integer({ min: 2, max: 9 }).map((n) => ({ t: "stale-peer" as const, n })),
      fc.integer({ min: 2, max: 9 }).map((n) => ({ t: "wrong-route" as const, n })),
      fc.integer({ min: 2, max: 5 }).map((n) => ({ t: "other-path" as const, n })),
      fc.integer({ min: 2, max: 9 }).map((n) => ({ t: "stale-direct" as const, n })),
    ),
    { maxLength: 6 },
  );

  it("property: after any damage, applying the repair leaves zero drift", () => {
    fc.assert(
      fc.property(fc.subarray([2, 3, 4, 5]), damage, fc.boolean(), (peersN, harm, direct) => {
        const d = direct ? directOf(...peersN) : desiredOf(...peersN);
        const k = programmed(d);
        for (const h of harm) {
          const vtep = k.links.get("vtep1024");
          if (h.t === "del-vtep") applyOps(k, [{ kind: "link-del", name: "vtep1024" }]);
          else if (h.t === "del-bridge") k.links.delete("m-dcos");
          else if (h.t === "down" && vtep) {
            vtep.up = false;
            k.neigh.clear();
            for (const [dst, r] of k.routes) if (r.dev === "vtep1024") k.routes.delete(dst);
          } else if (h.t === "mtu" && vtep) vtep.mtu = h.mtu;
          else if (h.t === "vni" && vtep) vtep.vni = h.vni;
          else if (h.t === "drop") {
            const all = [...k.neigh.keys()].map((x) => () => k.neigh.delete(x));
            all.push(...[...k.fdb.keys()].map((x) => () => k.fdb.delete(x)), ...[...k.routes.keys()].map((x) => () => k.routes.delete(x)));
            all[h.i % Math.max(all.length, 1)]?.();
          } else if (vtep && h.t === "stale-peer") applyOps(k, peerPlan(new Map(), new Map([[`h${h.n}x`, host(h.n + 10, false)]])));
          else if (vtep && h.t === "wrong-route") k.routes.set(`9.0.${h.n}.0/24`, { via: "44.128.0.200", dev: "vtep1024" });
          else if (h.t === "stale-direct") k.routes.set(`9.0.${h.n + 20}.0/24`, { via: "10.83.0.2", dev: UNDERLAY, proto: 77 });
          else if (h.t === "other-path") {
            // A peer's route on the other path: over the VTEP where it should go direct, or the reverse.
            const dst = `9.0.${h.n}.0/24`;
            const r = k.routes.get(dst);
            if (r?.dev === UNDERLAY) k.routes.set(dst, { via: `44.128.0.${h.n}`, dev: "vtep1024" });
            else if (r) k.routes.set(dst, { via: `10.83.0.${h.n}`, dev: UNDERLAY, proto: 77 });
          }
        }
        const c = compareOverlay(parseOverlay(listingsOf(k, "vtep1024", ["m-dcos", "d-dcos"], true)), d);
        applyOps(k, c.ops);
        const again = compareOverlay(parseOverlay(listingsOf(k, "vtep1024", ["m-dcos", "d-dcos"], true)), d);
        expect(again.reasons).toEqual([]);
        // …and the kernel holds exactly what a fresh programming gives, judged apart from compareOverlay.
        expect(norm(k)).toEqual(norm(programmed(d)));
        expect(c.drift === 0).toBe(c.ops.length === 0);
      }),
    );
  });
});
