// thisnode.thisdcos.directory (dcos-net dcos_net_node.erl push_dns_records/2; dcos_dns_SUITE add_thisnode).
import { describe, expect, it } from "@jest/globals";
import { THISNODE_ORIGIN, thisnodeZone } from "./thisnode.js";

describe("thisnodeZone", () => {
  it("apex = private IP, public.thisnode = every public IP, A or AAAA by family", () => {
    const zone = thisnodeZone({ privateIp: "10.0.0.5", publicIps: ["203.0.113.7", "2001:db8::7"] });
    expect(zone.origin).toBe(THISNODE_ORIGIN);
    expect(zone.names.get(THISNODE_ORIGIN)?.get("A")).toEqual([{ type: "A", ttl: 5, data: "10.0.0.5" }]);
    expect(zone.names.get(`public.${THISNODE_ORIGIN}`)?.get("A")?.map((r) => r.data)).toEqual(["203.0.113.7"]);
    expect(zone.names.get(`public.${THISNODE_ORIGIN}`)?.get("AAAA")?.map((r) => r.data)).toEqual(["2001:db8::7"]);
    expect(zone.soa.data.mname).toBe("ns.spartan");
  });

  it("add_thisnode: an empty zone answers with no address (NODATA at the apex), then the pushed one", () => {
    const empty = thisnodeZone({ publicIps: [] });
    expect([...(empty.names.get(THISNODE_ORIGIN)?.keys() ?? [])].sort()).toEqual(["NS", "SOA"]);
    expect(empty.names.has(`public.${THISNODE_ORIGIN}`)).toBe(false);
    const v6 = thisnodeZone({ privateIp: "fd00::5", publicIps: [] }, { ttl: 60 });
    expect(v6.names.get(THISNODE_ORIGIN)?.get("AAAA")).toEqual([{ type: "AAAA", ttl: 60, data: "fd00::5" }]);
  });

  it("reports a bad address and keeps the rest", () => {
    const problems: string[] = [];
    const zone = thisnodeZone({ privateIp: "not-an-ip", publicIps: ["198.51.100.1"] }, { onProblem: (p) => problems.push(p.message) });
    expect(problems).toEqual(['"not-an-ip" is not an IP address']);
    expect(zone.names.get(`public.${THISNODE_ORIGIN}`)?.get("A")?.map((r) => r.data)).toEqual(["198.51.100.1"]);
  });
});
