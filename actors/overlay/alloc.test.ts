import { describe, expect, it } from "@jest/globals";
import fc from "fast-check";
import { parseCidr, parseCidr4, releasable, subnetCandidates, vtepCandidates, vtepMac } from "./alloc.js";

describe("overlay allocation candidates", () => {
  it("walks every /24 of 9.0.0.0/8 once, from a start the node id decides", () => {
    const space = parseCidr4("9.0.0.0/8")!;
    const a = [...subnetCandidates("agent-1", space, 24)];
    expect(a).toHaveLength(65536);
    expect(new Set(a).size).toBe(65536);
    expect(a.every((s) => /^9\.\d+\.\d+\.0\/24$/.test(s))).toBe(true);
    expect([...subnetCandidates("agent-1", space, 24)].slice(0, 3)).toEqual(a.slice(0, 3));
    expect(subnetCandidates("agent-2", space, 24).next().value).not.toBe(a[0]);
  });

  it("VTEP candidates are host addresses of the VTEP subnet, each once", () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 20 }), (node) => {
        const all = [...vtepCandidates(node, parseCidr4("44.128.0.0/28")!)];
        expect(all).toHaveLength(14);
        expect(new Set(all).size).toBe(14);
        expect(all).not.toContain("44.128.0.0");
        expect(all).not.toContain("44.128.0.15");
      }),
    );
  });

  it("IPv6: /80s of fd01:b::/64 and VTEP addresses of fd01:a::/64", () => {
    const subnets = subnetCandidates("agent-1", parseCidr("fd01:b::/64")!, 80);
    const first = subnets.next().value as string;
    expect(first).toMatch(/^fd01:b:0:0:[0-9a-f]{1,4}::\/80$|^fd01:b::[0-9a-f]{1,4}:0:0:0\/80$|^fd01:b::\/80$/);
    expect(subnets.next().value).not.toBe(first);
    const vtep = vtepCandidates("agent-1", parseCidr("fd01:a::/64")!).next().value as string;
    expect(vtep.startsWith("fd01:a:")).toBe(true);
    expect(parseCidr4("fd01:a::/64")).toBeUndefined();
  });

  it("releases a departed node's allocations only after it has been absent for the whole grace", () => {
    const names = ["subnet:a", "vtep:a", "subnet:b", "vtep:b", "subnet6:b", "other-key"];
    const gone = new Map<string, number>();
    expect(releasable(names, new Set(["a"]), gone, 1000, 500)).toEqual([]);
    expect(gone.get("b")).toBe(1000);
    expect(releasable(names, new Set(["a"]), gone, 1499, 500)).toEqual([]);
    expect(releasable(names, new Set(["a"]), gone, 1500, 500)).toEqual(["subnet6:b", "subnet:b", "vtep:b"]);
    // Back before the grace ends: forgotten, and its grace starts over next time.
    const g2 = new Map<string, number>([["b", 0]]);
    expect(releasable(names, new Set(["a", "b"]), g2, 10_000, 500)).toEqual([]);
    expect(g2.has("b")).toBe(false);
  });

  it("a VTEP's MAC is the prefix and the address's low 24 bits", () => {
    expect(vtepMac("70:b3:d5", "44.128.0.7")).toBe("70:b3:d5:80:00:07");
    expect(vtepMac("70:b3:d5", "44.128.15.254")).toBe("70:b3:d5:80:0f:fe");
    expect(parseCidr4("9.1.2.3/8")).toEqual({ family: "ip", base: BigInt(9 * 2 ** 24), prefix: 8 });
    expect(parseCidr4("9.0.0.0/33")).toBeUndefined();
  });
});
