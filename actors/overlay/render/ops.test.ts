import { describe, expect, it } from "@jest/globals";
import fc from "fast-check";
import type { DirectRouting, NodeOverlay } from "../model.js";
import { overlayDesired } from "./desired.js";
import { batchTexts, peerOps, setupOps, setupPlan } from "./ops.js";
import { applyOps, emptyKernel, host, OPTS } from "./testkit.js";

const peers = (...ps: NodeOverlay[]): Map<string, NodeOverlay> => new Map(ps.map((p) => [p.node, p]));

describe("setupOps", () => {
  it("creates the VTEP with its MAC and MTU in one `link add`, then brings it and the bridges up with their addresses", () => {
    const { desired } = overlayDesired(host(1), [], OPTS);
    expect(setupOps(desired)).toBe(
      [
        "link add vtep1024 address 70:b3:d5:00:00:01 mtu 1450 type vxlan id 1024 dstport 64000 local 10.83.0.1 nolearning",
        "link set vtep1024 mtu 1450 up",
        "addr replace 44.128.0.1/20 dev vtep1024",
        "addr replace fd01:a::1/64 dev vtep1024 nodad",
        "link add m-dcos address 0e:58:09:00:01:01 mtu 1450 type bridge",
        "link set m-dcos mtu 1450 up",
        "addr replace 9.0.1.1/25 dev m-dcos",
        "addr replace fd01:b::1:0:0:1/81 dev m-dcos nodad",
        "addr replace fe80::1/64 dev m-dcos nodad",
        "link add d-dcos address 0e:58:09:00:01:81 mtu 1450 type bridge",
        "link set d-dcos mtu 1450 up",
        "addr replace 9.0.1.129/25 dev d-dcos",
        "addr replace fd01:b::1:8000:0:1/81 dev d-dcos nodad",
        "addr replace fe80::1/64 dev d-dcos nodad",
        "",
      ].join("\n"),
    );
    // Never `link set … address`: it flushes every neighbour of the device, permanent ones too.
    expect(setupOps(desired)).not.toMatch(/link set \S+ .*address/);
    expect(batchTexts(setupPlan(desired)).bridge).toBe("");
  });

  it("run twice, changes nothing the second time", () => {
    const { desired } = overlayDesired(host(1), [host(2)], OPTS);
    const k = emptyKernel();
    applyOps(k, [...setupPlan(desired)]);
    const once = JSON.stringify([...k.links].map(([n, l]) => [n, { ...l, addrs: [...l.addrs] }]));
    applyOps(k, [...setupPlan(desired)]);
    expect(JSON.stringify([...k.links].map(([n, l]) => [n, { ...l, addrs: [...l.addrs] }]))).toBe(once);
  });
});

describe("peerOps", () => {
  it("adds a peer: its route, then neighbours (v4, v6), in the ip text; its FDB entry in the bridge text", () => {
    expect(peerOps(new Map(), peers(host(2)))).toEqual({
      ip: [
        "route replace 9.0.2.0/24 via 44.128.0.2 dev vtep1024 onlink",
        "route replace fd01:b:0:0:2::/80 via fd01:a::2 dev vtep1024 onlink",
        "neigh replace 44.128.0.2 lladdr 70:b3:d5:00:00:02 dev vtep1024 nud permanent",
        "neigh replace fd01:a::2 lladdr 70:b3:d5:00:00:02 dev vtep1024 nud permanent",
        "",
      ].join("\n"),
      bridge: "fdb replace 70:b3:d5:00:00:02 dev vtep1024 dst 10.83.0.2 self permanent\n",
    });
  });

  it("removes a departed peer's route, neighbours and FDB entry, and touches no one else", () => {
    expect(peerOps(peers(host(2), host(3, false)), peers(host(2)))).toEqual({
      ip: "route del 9.0.3.0/24 dev vtep1024\nneigh flush to 44.128.0.3 dev vtep1024 nud permanent\n",
      bridge: "fdb del 70:b3:d5:00:00:03 dev vtep1024 self\n",
    });
  });

  it("nothing changed, nothing to run", () => {
    expect(peerOps(peers(host(2), host(3)), peers(host(3), host(2)))).toEqual({ ip: "", bridge: "" });
  });

  it("a peer that moved to another underlay address changes only its FDB entry; a new MAC replaces neighbours and swaps the FDB entry", () => {
    expect(peerOps(peers(host(2)), peers(host(2, true, { agentIp: "10.83.0.99" })))).toEqual({ ip: "", bridge: "fdb replace 70:b3:d5:00:00:02 dev vtep1024 dst 10.83.0.99 self permanent\n" });
    const newMac = peerOps(peers(host(2, false)), peers(host(2, false, { vtepMac: "70:b3:d5:00:00:22" })));
    expect(newMac).toEqual({
      ip: "neigh replace 44.128.0.2 lladdr 70:b3:d5:00:00:22 dev vtep1024 nud permanent\n",
      bridge: "fdb del 70:b3:d5:00:00:02 dev vtep1024 self\nfdb replace 70:b3:d5:00:00:22 dev vtep1024 dst 10.83.0.2 self permanent\n",
    });
  });

  it("a subnet that passed from a departed node to a new one is replaced, never deleted", () => {
    const next = host(4, false, { subnet: "9.0.3.0/24" });
    const ops = peerOps(peers(host(3, false)), peers(next));
    expect(ops.ip).toContain("route replace 9.0.3.0/24 via 44.128.0.4 dev vtep1024 onlink");
    expect(ops.ip).not.toContain("route del 9.0.3.0/24");
  });

  it("direct routing: a peer on the underlay's subnet gets its IPv4 subnet routed over the underlay (proto 77), its IPv6 one and its VXLAN entries as before", () => {
    const direct = { dev: "eth0", net: "10.83.0.0/24" };
    expect(peerOps(new Map(), peers(host(2)), direct)).toEqual({
      ip: [
        "route replace 9.0.2.0/24 via 10.83.0.2 dev eth0 onlink proto 77",
        "route replace fd01:b:0:0:2::/80 via fd01:a::2 dev vtep1024 onlink",
        "neigh replace 44.128.0.2 lladdr 70:b3:d5:00:00:02 dev vtep1024 nud permanent",
        "neigh replace fd01:a::2 lladdr 70:b3:d5:00:00:02 dev vtep1024 nud permanent",
        "",
      ].join("\n"),
      bridge: "fdb replace 70:b3:d5:00:00:02 dev vtep1024 dst 10.83.0.2 self permanent\n",
    });
    // Moved to another subnet of the underlay: back over VXLAN, by one route replace.
    expect(peerOps(peers(host(2, false)), peers(host(2, false, { agentIp: "10.84.0.2" })), direct)).toEqual({
      ip: "route replace 9.0.2.0/24 via 44.128.0.2 dev vtep1024 onlink\n",
      bridge: "fdb replace 70:b3:d5:00:00:02 dev vtep1024 dst 10.84.0.2 self permanent\n",
    });
    // Departed: its route leaves the underlay device.
    expect(peerOps(peers(host(2, false)), new Map(), direct).ip).toBe("route del 9.0.2.0/24 dev eth0\nneigh flush to 44.128.0.2 dev vtep1024 nud permanent\n");
  });

  // Random programmed peer sets (through overlayDesired, so they are valid), from small pools so
  // that keys pass between nodes.
  const peerSet = fc
    .array(
      fc.record({ n: fc.integer({ min: 2, max: 8 }), vtep: fc.integer({ min: 2, max: 12 }), mac: fc.integer({ min: 2, max: 12 }), subnet: fc.integer({ min: 2, max: 12 }), agent: fc.integer({ min: 2, max: 12 }), v6: fc.boolean() }),
      { maxLength: 7 },
    )
    .map((raw) => {
      const facts = raw.map((r) => host(r.n, r.v6, { agentIp: `10.83.0.${r.agent}`, vtepIp: `44.128.0.${r.vtep}`, vtepMac: `70:b3:d5:00:00:${r.mac.toString(16).padStart(2, "0")}`, subnet: `9.0.${r.subnet}.0/24`, ...(r.v6 ? { vtepIp6: `fd01:a::${r.vtep.toString(16)}`, subnet6: `fd01:b:0:0:${r.subnet.toString(16)}::/80` } : {}) }));
      return overlayDesired(host(1), facts, OPTS).desired.peers;
    });

  /** Direct routing off, or on an underlay /29 that holds hosts 1–7 (agents 10.83.0.8–12 are off it). */
  const directArb = fc.constantFrom<DirectRouting | undefined>(undefined, { dev: "eth0", net: "10.83.0.0/29" });

  /** The entries a peer set needs, written out independently of ops.ts; a route as `via@dev`. */
  const expected = (ps: ReadonlyMap<string, NodeOverlay>, direct?: DirectRouting) => {
    const neigh: Record<string, string> = {};
    const fdb: Record<string, string> = {};
    const routes: Record<string, string> = {};
    for (const p of ps.values()) {
      neigh[p.vtepIp] = p.vtepMac;
      fdb[p.vtepMac] = p.agentIp;
      routes[p.subnet] = direct && Number(p.agentIp.split(".")[3]) < 8 ? `${p.agentIp}@eth0` : `${p.vtepIp}@vtep1024`;
      if (p.vtepIp6) neigh[p.vtepIp6] = p.vtepMac;
      if (p.vtepIp6 && p.subnet6) routes[p.subnet6] = `${p.vtepIp6}@vtep1024`;
    }
    return { neigh, fdb, routes };
  };

  /** Applies batch text lines to a model of the VTEP's entries; a delete of something absent fails the test. */
  const run = (m: ReturnType<typeof expected>, text: { ip: string; bridge: string }) => {
    for (const line of [...text.ip.split("\n"), ...text.bridge.split("\n")].filter(Boolean)) {
      let g: RegExpExecArray | null;
      if ((g = /^route replace (\S+) via (\S+) dev (vtep1024 onlink|eth0 onlink proto 77)$/.exec(line))) m.routes[g[1] as string] = `${g[2] as string}@${(g[3] as string).split(" ")[0] as string}`;
      else if ((g = /^route del (\S+) dev (vtep1024|eth0)$/.exec(line))) {
        expect(m.routes[g[1] as string]?.endsWith(`@${g[2] as string}`)).toBe(true);
        delete m.routes[g[1] as string];
      } else if ((g = /^neigh replace (\S+) lladdr (\S+) dev vtep1024 nud permanent$/.exec(line))) m.neigh[g[1] as string] = g[2] as string;
      else if ((g = /^neigh flush to (\S+) dev vtep1024 nud permanent$/.exec(line))) {
        expect(m.neigh).toHaveProperty([g[1] as string]);
        delete m.neigh[g[1] as string];
      } else if ((g = /^fdb replace (\S+) dev vtep1024 dst (\S+) self permanent$/.exec(line))) m.fdb[g[1] as string] = g[2] as string;
      else if ((g = /^fdb del (\S+) dev vtep1024 self$/.exec(line))) {
        expect(m.fdb).toHaveProperty([g[1] as string]);
        delete m.fdb[g[1] as string];
      } else throw new Error(`unexpected line ${line}`);
    }
    return m;
  };

  it("property: the text of peerOps(prev → next) applied to prev's entries gives next's, deleting only what exists", () => {
    fc.assert(
      fc.property(peerSet, peerSet, directArb, (prev, next, direct) => {
        expect(run(expected(prev, direct), peerOps(prev, next, direct))).toEqual(expected(next, direct));
      }),
    );
  });

  it("property: along any sequence of peer sets, the kernel ends with exactly the last set's entries; neighbour lines come last in the ip text", () => {
    fc.assert(
      fc.property(fc.array(peerSet, { minLength: 1, maxLength: 5 }), directArb, (seq, direct) => {
        let m = expected(new Map());
        let prev: ReadonlyMap<string, NodeOverlay> = new Map();
        for (const next of seq) {
          const text = peerOps(prev, next, direct);
          const kinds = text.ip.split("\n").filter(Boolean).map((l) => l.split(" ")[0]);
          expect(kinds.slice(kinds.indexOf("neigh") < 0 ? kinds.length : kinds.indexOf("neigh")).every((k) => k === "neigh")).toBe(true);
          m = run(m, text);
          prev = next;
        }
        expect(m).toEqual(expected(prev, direct));
      }),
    );
  });
});
