// The dns section alone, composed with the base keys the way the node composes it.
import { describe, it, expect } from "@jest/globals";
import { composeConfigSchema, validateConfigWith, renderConfigTable } from "../../config/index.js";
import { dnsConfigSection } from "./config.js";

const schema = composeConfigSchema({ dns: dnsConfigSection });
const dns = (section: Record<string, unknown>) => validateConfigWith(schema, { id: "a", dns: section }).dns;

describe("dns config section", () => {
  it("sees a forwarding loop through every spelling of this node's own listener", () => {
    expect(() => dns({ listen: ["[::1]:53"], upstreams: ["[::1]"] })).toThrow("dns.upstreams.0: [::1] is this node's own DNS listener (a forwarding loop)");
    expect(() => dns({ listen: ["[fe80::a]:53"], mesos: { resolvers: ["fe80::a"] } })).toThrow("dns.mesos.resolvers.0: fe80::a is this node's own DNS listener");
    expect(() => dns({ listen: ["10.0.0.1:53"], upstreams: ["10.0.0.1:5353", "10.0.0.1:53"] })).toThrow("dns.upstreams.1: 10.0.0.1:53 is this node's own DNS listener");
    expect(dns({ listen: ["10.0.0.1:53"], upstreams: ["10.0.0.1:5353"] }).upstreams).toEqual(["10.0.0.1:5353"]);
  });

  it("resolver addresses: off by default with dcos-net's three; resolv.conf management needs them on port 53", () => {
    const d = dns({});
    expect(d.resolver).toEqual({ enabled: false, addresses: ["198.51.100.1", "198.51.100.2", "198.51.100.3"], port: 53 });
    expect(d.manageResolvConf).toBe(false);
    expect(d.resolvConf).toEqual({ path: "/etc/resolv.conf", search: [], keepSearch: true, options: [] });
    expect(() => dns({ manageResolvConf: true })).toThrow("dns.manageResolvConf: needs dns.resolver.enabled");
    expect(() => dns({ manageResolvConf: true, resolver: { enabled: true, port: 5353 } })).toThrow("dns.resolver.port: must be 53 with dns.manageResolvConf");
    expect(() => dns({ resolver: { addresses: ["198.51.100.1", "198.51.100.1"] } })).toThrow("dns.resolver.addresses.1: 198.51.100.1 is listed twice");
    expect(() => dns({ resolver: { addresses: ["not-an-ip"] } })).toThrow("dns.resolver.addresses.0");
    expect(() => dns({ resolvConf: { options: ["ndots 2"] } })).toThrow("dns.resolvConf.options.0");
    // forwarding to one of our own resolver addresses is a loop
    expect(() => dns({ resolver: { enabled: true }, upstreams: ["198.51.100.2"] })).toThrow("dns.upstreams.0: 198.51.100.2 is this node's own DNS listener");
    expect(dns({ upstreams: ["198.51.100.2"] }).upstreams).toEqual(["198.51.100.2"]);
  });

  it("checks custom zones with DNS's own rules", () => {
    expect(() => dns({ zones: { "mesos.thisdcos.directory": [] } })).toThrow("dns.zones");
    expect(dns({ zones: { "a.thisdcos.directory": [{ type: "cname", name: "r", value: "b.example" }] } }).zones).toEqual({ "a.thisdcos.directory": [{ type: "cname", name: "r", value: "b.example" }] });
  });

  it("renders its README table with the keys as the whole config names them", () => {
    const table = renderConfigTable(dnsConfigSection, "dns");
    expect(table).toContain("| `dns.listen` | string[] | `[\"127.0.0.1:8053\"]` |");
    expect(table).toContain("| `dns.mesos.mode` | native \\| forward \\| off |");
    // One row per leaf key: 19 of its own, cache 3, thisnode 2, resolver 3, resolvConf 5, mesos 10.
    expect(table.split("\n").filter((row) => row.startsWith("| `dns.")).length).toBe(42);
  });
});
