import { describe, it, expect } from "@jest/globals";
import { readFileSync } from "node:fs";
import fc from "fast-check";
import type { DesiredState, Family, KernelVip, Selection } from "../model.js";
import { L4LB_TABLE } from "../model.js";
import { renderFull, type RenderOptions } from "./nft.js";
import { compareKernel, expectedStructure, parseKernel, type ObservedKernel } from "./readback.js";
import { ElementModel, state, vip } from "./testkit.js";

// Fixtures: `nft -j list table <family> dcnet-l4lb` of nft 1.0.6 (Debian 12) after loading
// renderFull(S, { maxBackends: 3 }) with S = the state below, captured in a throwaway netns.
// Address plan: IP VIPs 11.0.0.x / fd01:c::x, named 11.0.0.20 / fd01:c::20, backends 9.0.N.x and
// 10.77.0.N / fd00:77::N (host N), this node h1.
const fixture = (family: Family, selection: Selection): unknown =>
  JSON.parse(readFileSync(new URL(`./fixtures/nft-1.0.6-${family}-${selection}.json`, import.meta.url), "utf8"));

const S = state(
  [
    vip("11.0.0.20", "tcp", 80, [["9.0.1.3", 80]]),
    vip("11.0.0.10", "tcp", 80, [["10.77.0.3", 8080], ["9.0.1.2", 80], ["9.0.2.2", 80]]),
    vip("11.0.0.10", "udp", 53, [["9.0.2.2", 53]]),
    vip("11.0.0.14", "tcp", 80, [], [["9.0.2.2", 80]]),
    vip("fd01:c::20", "tcp", 80, [["fd00:77::2", 80]]),
    vip("fd01:c::10", "tcp", 80, [["fd00:77::2", 80], ["fd00:77::3", 80]]),
  ],
  ["9.0.1.3", "9.0.1.2"],
);
const opts = (selection: Selection = "random"): RenderOptions => ({ table: L4LB_TABLE, selection, maxBackends: 3 });

function observed(json: unknown): ObservedKernel {
  const o = parseKernel(json);
  if ("problem" in o) throw new Error(o.problem);
  return o;
}
const both = (selection: Selection) => ({ ip: observed(fixture("ip", selection)), ip6: observed(fixture("ip6", selection)) });

/** What nft would list for renderFull(s): the fixture's sets, chains and rules, and s's elements in nft's JSON shapes. */
function listing(s: DesiredState, family: Family, selection: Selection): unknown {
  const m = new ElementModel();
  m.loadFull(renderFull(s, opts(selection)));
  const base = fixture(family, selection) as { nftables: Array<Record<string, Record<string, unknown>>> };
  const num = (x: string): string | number => (/^[0-9]+$/.test(x) ? Number(x) : x);
  const concat = (text: string) => ({ concat: text.split(" . ").map(num) });
  return {
    nftables: base.nftables.map((item) => {
      const body = item["set"] ?? item["map"];
      if (!body) return item;
      const name = String(body["name"]);
      const elems = [...(m.sets.get(`${family} ${name}`) ?? new Map<string, string | undefined>())].map(([k, v]) =>
        v === undefined ? concat(k) : [concat(k), v.startsWith("goto ") ? { goto: { target: v.slice(5) } } : concat(v)],
      );
      const { elem: _drop, ...rest } = body;
      return { [item["set"] ? "set" : "map"]: elems.length > 0 ? { ...rest, elem: elems } : rest };
    }),
  };
}

describe("parseKernel on nft 1.0.6's own listings", () => {
  it.each([["ip", "random"], ["ip6", "random"], ["ip", "source-hash"], ["ip6", "source-hash"]] as const)("%s %s: structure is exactly what renderFull makes", (family, selection) => {
    const o = observed(fixture(family, selection));
    expect(o.structure).toBe(expectedStructure(family, opts(selection)));
    expect(o.problems).toEqual([]);
  });

  it("reads every element", () => {
    expect(observed(fixture("ip", "random")).elements.map((e) => `${e.set} ${e.key}${e.value ? ` : ${e.value}` : ""}`).sort()).toEqual([
      "backends 11.0.0.10 . tcp . 80 . 0 : 10.77.0.3 . 8080",
      "backends 11.0.0.10 . tcp . 80 . 1 : 9.0.1.2 . 80",
      "backends 11.0.0.10 . tcp . 80 . 2 : 9.0.2.2 . 80",
      "backends 11.0.0.10 . udp . 53 . 0 : 9.0.2.2 . 53",
      "backends 11.0.0.20 . tcp . 80 . 0 : 9.0.1.3 . 80",
      "hairpin 9.0.1.2 . 9.0.1.2",
      "hairpin 9.0.1.3 . 9.0.1.3",
      "unavailable 11.0.0.14 . tcp . 80",
      "vips 11.0.0.10 . tcp . 80 : goto nb-3",
      "vips 11.0.0.10 . udp . 53 : goto nb-1",
      "vips 11.0.0.20 . tcp . 80 : goto nb-1",
    ]);
  });

  it("never throws, whatever the JSON", () => {
    fc.assert(fc.property(fc.anything(), (j) => void parseKernel(j)));
    fc.assert(fc.property(fc.jsonValue(), (j) => void parseKernel({ nftables: [{ table: { family: "ip", name: "dcnet-l4lb" } }, j, { map: { name: "vips", elem: [j] } }, { set: { name: "hairpin", elem: j } }] })));
    expect(parseKernel({ nftables: [{ metainfo: {} }] })).toEqual({ problem: expect.stringContaining("no ip or ip6 table") });
    expect(parseKernel("nope")).toEqual({ problem: expect.stringContaining("not an nft JSON listing") });
  });
});

describe("compareKernel", () => {
  it("the kernel renderFull made has no drift (both selections)", () => {
    expect(compareKernel(both("random"), S, opts())).toEqual({ drift: 0, repair: "", full: false, reasons: [] });
    expect(compareKernel(both("source-hash"), S, opts("source-hash"))).toMatchObject({ drift: 0, full: false });
  });

  it("property: any desired state, listed as nft lists it, has no drift", () => {
    const ep = fc.record({ ip: fc.constantFrom("9.0.1.2", "9.0.2.2", "10.77.0.3", "fd00:77::2"), port: fc.constantFrom(80, 53) });
    const kv: fc.Arbitrary<KernelVip> = fc
      .record({ addr: fc.constantFrom("11.0.0.1", "11.0.0.2", "fd01:c::1"), protocol: fc.constantFrom("tcp" as const, "udp" as const), eps: fc.uniqueArray(ep, { maxLength: 3, selector: (e) => `${e.ip} ${e.port}` }) })
      .map(({ addr, protocol, eps }) => {
        const family = addr.includes(":") ? ("ip6" as const) : ("ip" as const);
        return { family, addr, protocol, port: 80, backends: eps.filter((e) => e.ip.includes(":") === (family === "ip6")), draining: [] };
      });
    fc.assert(
      fc.property(fc.array(kv, { maxLength: 5 }), fc.subarray(["9.0.1.2", "fd00:77::2"]), fc.constantFrom<Selection>("random", "source-hash"), (vips, hp, sel) => {
        const s = state(vips, hp);
        const o = { ip: observed(listing(s, "ip", sel)), ip6: observed(listing(s, "ip6", sel)) };
        expect(compareKernel(o, s, opts(sel))).toMatchObject({ drift: 0, full: false, repair: "" });
      }),
    );
  });

  it("an element deleted by hand is found and put back with element operations only", () => {
    const json = fixture("ip", "random") as { nftables: Array<Record<string, { name?: string; elem?: unknown[] }>> };
    const backends = json.nftables.find((i) => i["map"]?.name === "backends")?.["map"];
    backends?.elem?.splice(1, 1); // 11.0.0.10 . tcp . 80 . 0 → 10.77.0.3 . 8080
    const cmp = compareKernel({ ip: observed(json), ip6: observed(fixture("ip6", "random")) }, S, opts());
    expect(cmp).toEqual({ drift: 1, full: false, reasons: [], repair: "add element ip dcnet-l4lb backends { 11.0.0.10 . tcp . 80 . 0 : 10.77.0.3 . 8080 }\n" });
  });

  it("a wrong element counts once and is replaced; an extra one is deleted", () => {
    // Desired: 11.0.0.20 moved to another backend, the UDP VIP gone; the kernel still has the old ones.
    const vips = [...S.vips.values()].filter((v) => !(v.addr === "11.0.0.10" && v.protocol === "udp"));
    const wrong = state(vips.map((v) => (v.addr === "11.0.0.20" ? { ...v, backends: [{ ip: "9.0.1.4", port: 80 }] } : v)), ["9.0.1.3", "9.0.1.2"]);
    const cmp = compareKernel(both("random"), wrong, opts());
    expect(cmp.drift).toBe(3);
    expect(cmp.repair).toBe(
      "delete element ip dcnet-l4lb vips { 11.0.0.10 . udp . 53 }\n" +
        "delete element ip dcnet-l4lb backends { 11.0.0.20 . tcp . 80 . 0, 11.0.0.10 . udp . 53 . 0 }\n" +
        "add element ip dcnet-l4lb backends { 11.0.0.20 . tcp . 80 . 0 : 9.0.1.4 . 80 }\n",
    );
  });

  it("a missing table, a flushed chain, a changed hook priority or other options mean a full reload", () => {
    const ip6 = observed(fixture("ip6", "random"));
    expect(compareKernel({ ip6 }, S, opts())).toMatchObject({ full: true, repair: renderFull(S, opts()), reasons: ["table ip dcnet-l4lb is missing"] });
    const flushed = fixture("ip", "random") as { nftables: Array<Record<string, { chain?: string }>> };
    flushed.nftables = flushed.nftables.filter((i) => i["rule"]?.chain !== "postrouting");
    expect(compareKernel({ ip: observed(flushed), ip6 }, S, opts())).toMatchObject({ full: true, drift: 1 });
    const prio = JSON.parse(JSON.stringify(fixture("ip", "random")).replace('"prio":-101', '"prio":-100')) as unknown;
    expect(compareKernel({ ip: observed(prio), ip6 }, S, opts()).full).toBe(true);
    expect(compareKernel(both("random"), S, opts("source-hash")).full).toBe(true);
    expect(compareKernel(both("random"), S, { ...opts(), maxBackends: 4 }).full).toBe(true);
  });
});
