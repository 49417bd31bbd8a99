// The response documents, field by field, from hand-made inputs (no node, no sockets).
import { describe, expect, it } from "@jest/globals";
import { type FieldView, cleanName, dcosHosts, dcosNodes, dcosRecord, dcosServices, dcosVips, isMesosName, mesosDnsAxfr, mesosDnsEnumerate, mesosDnsHosts, mesosDnsServices, redact, REDACTED, type Answer } from "./shapes.js";
import { filterMetrics } from "./routes.js";

const backend = (ip: string, port: number) => ({ owner: "n1", taskId: "t", agentIp: ip, ip, port, weight: 1 as const });

describe("dcos-net shapes", () => {
  it("/v1/vips: named VIPs by their l4lb name, IP VIPs by address (v6 bracketed), sorted", () => {
    const table = new Map([
      ["tcp:/web:80@marathon", [backend("10.0.0.1", 8080), backend("10.0.0.2", 8080)]],
      ["udp:11.1.1.1:53", [backend("10.0.0.3", 5353)]],
      ["tcp:[fd01::1]:443", [backend("10.0.0.4", 8443)]],
      ["garbage", [backend("10.0.0.5", 1)]],
    ]);
    expect(dcosVips(table)).toEqual([
      { vip: "11.1.1.1:53", protocol: "udp", backend: [{ ip: "10.0.0.3", port: 5353 }] },
      { vip: "[fd01::1]:443", protocol: "tcp", backend: [{ ip: "10.0.0.4", port: 8443 }] },
      { vip: "web.marathon.l4lb.thisdcos.directory:80", protocol: "tcp", backend: [{ ip: "10.0.0.1", port: 8080 }, { ip: "10.0.0.2", port: 8080 }] },
    ]);
  });

  it("/v1/nodes: private_ip, public_ips, hostname, updated = newest write (RFC 3339 ms Z); facts without an ip are left out", () => {
    const facts = new Map<string, Record<string, FieldView>>([
      ["nodes/a", { ip: { type: "lww" as const, value: "10.0.0.2", ts: { t: 1_700_000_000_000 } }, hostname: { type: "lww" as const, value: "agent-a", ts: { t: 1_700_000_000_500 } }, publicIps: { type: "set" as const, values: ["203.0.113.2", "203.0.113.1"] } }],
      ["nodes/b", { hostname: { type: "lww" as const, value: "b", ts: { t: 1 } } }],
    ]);
    expect(dcosNodes(facts)).toEqual([{ private_ip: "10.0.0.2", public_ips: ["203.0.113.1", "203.0.113.2"], hostname: "agent-a", updated: "2023-11-14T22:13:20.500Z" }]);
  });

  it("/v1/hosts and /v1/services: A answers as {host, ip}; SRV as {host, port (number), service, ip?}", () => {
    const a: Answer[] = [{ type: "A", name: "x.thisdcos.directory", data: "10.0.0.1" }, { type: "other", name: "x" }];
    expect(dcosHosts(a)).toEqual([{ host: "x.thisdcos.directory", ip: "10.0.0.1" }]);
    expect(dcosHosts([])).toEqual([]);
    const srv: Answer[] = [{ type: "SRV", name: "_http._tcp.x", data: { target: "T.x", port: 80 } }, { type: "SRV", name: "_http._tcp.x", data: { target: "u.x", port: 81 } }];
    expect(dcosServices(srv, new Map([["t.x", "10.0.0.9"]]))).toEqual([{ host: "T.x", port: 80, service: "_http._tcp.x", ip: "10.0.0.9" }, { host: "u.x", port: 81, service: "_http._tcp.x" }]);
  });

  it("/v1/records: A/AAAA as-is, SRV host target:port, names without the trailing dot, other types dropped", () => {
    expect(dcosRecord({ name: "a.b.", type: "A", ttl: 5, data: "1.2.3.4" })).toEqual({ name: "a.b", host: "1.2.3.4", rtype: "A" });
    expect(dcosRecord({ name: "_s._tcp.b.", type: "SRV", ttl: 5, data: "0 1 8080 t.b." })).toEqual({ name: "_s._tcp.b", host: "t.b:8080", rtype: "SRV" });
    expect(dcosRecord({ name: "b.", type: "SOA", ttl: 5, data: "x" })).toBeUndefined();
  });
});

describe("Mesos-DNS shapes", () => {
  it("names: .mesos decides the shape; .* removed and lower-cased", () => {
    expect([isMesosName("a.Mesos."), isMesosName("mesos.thisdcos.directory"), cleanName("A.*.B.mesos")]).toEqual([true, false, "a.b.mesos"]);
  });

  it("/v1/hosts: A then AAAA with a trailing dot; none → one empty record", () => {
    expect(mesosDnsHosts([{ type: "A", name: "l.mesos", data: "1.2.3.4" }], [{ type: "AAAA", name: "l.mesos", data: "fd01::1" }])).toEqual([{ host: "l.mesos.", ip: "1.2.3.4" }, { host: "l.mesos.", ip: "fd01::1" }]);
    expect(mesosDnsHosts([], [])).toEqual([{ host: "", ip: "" }]);
  });

  it("/v1/services: service as asked, port a string, first A, an extra entry for an AAAA; none → one empty record", () => {
    const srv: Answer[] = [{ type: "SRV", name: "_leader._tcp.mesos", data: { target: "leader.mesos", port: 5050 } }];
    expect(mesosDnsServices("_leader._tcp.mesos.", srv, new Map([["leader.mesos", "1.2.3.4"]]), new Map([["leader.mesos", "fd01::4"]]))).toEqual([
      { service: "_leader._tcp.mesos.", host: "leader.mesos.", ip: "1.2.3.4", port: "5050" },
      { service: "_leader._tcp.mesos.", host: "leader.mesos.", ip: "fd01::4", port: "5050" },
    ]);
    expect(mesosDnsServices("x", [], new Map(), new Map())).toEqual([{ service: "", host: "", ip: "", port: "" }]);
  });

  const rows = [
    { name: "mesos.", type: "SOA", ttl: 60, data: "ns1.mesos. root.ns1.mesos. 42 60 600 86400 60" },
    { name: "web.marathon.mesos.", type: "A", ttl: 60, data: "10.0.0.1" },
    { name: "web-abcde-s1.marathon.mesos.", type: "A", ttl: 60, data: "10.0.0.1" },
    { name: "web.marathon.slave.mesos.", type: "A", ttl: 60, data: "10.0.0.9" },
    { name: "_web._tcp.marathon.mesos.", type: "SRV", ttl: 60, data: "0 1 31000 web-abcde-s1.marathon.mesos." },
    { name: "v6.marathon.mesos.", type: "AAAA", ttl: 60, data: "fd01::2" },
  ];

  it("/v1/axfr: models.AXFR from the zone's rows", () => {
    expect(mesosDnsAxfr(rows, "mesos", 30, 60)).toEqual({
      Records: {
        As: { "web.marathon.mesos.": ["10.0.0.1"], "web-abcde-s1.marathon.mesos.": ["10.0.0.1"], "web.marathon.slave.mesos.": ["10.0.0.9"] },
        AAAAs: { "v6.marathon.mesos.": ["fd01::2"] },
        SRVs: { "_web._tcp.marathon.mesos.": ["web-abcde-s1.marathon.mesos.:31000"] },
      },
      Serial: 42,
      Mname: "ns1.mesos.",
      Rname: "root.ns1.mesos.",
      TTL: 60,
      RefreshSeconds: 30,
      Domain: "mesos",
    });
  });

  it("/v1/enumerate: records grouped by framework and task, id the canonical name", () => {
    const e = mesosDnsEnumerate(rows, "mesos");
    expect(e.frameworks.map((f) => f.name)).toEqual(["marathon"]);
    const web = e.frameworks[0]?.tasks.find((t) => t.name === "web");
    expect(web?.id).toBe("web-abcde-s1");
    expect(web?.records).toEqual([
      { name: "web.marathon.mesos.", host: "10.0.0.1", rtype: "A" },
      { name: "web-abcde-s1.marathon.mesos.", host: "10.0.0.1", rtype: "A" },
      // the agent's name of the task is the task's too (Mesos-DNS docs: nginx.marathon.slave.mesos.)
      { name: "web.marathon.slave.mesos.", host: "10.0.0.9", rtype: "A" },
      { name: "_web._tcp.marathon.mesos.", host: "web-abcde-s1.marathon.mesos.:31000", rtype: "SRV" },
    ]);
  });
});

describe("secrets and metrics", () => {
  it("redacts values of secret-looking keys and of paths marked secret, at any depth", () => {
    const out = redact({ mesos: { token: "s3cr3t", masters: ["http://m:5050"] }, nats: { credentials: "/etc/x.pem" }, api: { tls: { key: "/k" } }, custom: { value: "v" } }, new Set(["custom.value"]));
    expect(out).toEqual({ mesos: { token: REDACTED, masters: ["http://m:5050"] }, nats: { credentials: REDACTED }, api: { tls: { key: REDACTED } }, custom: { value: REDACTED } });
    expect(JSON.stringify(out)).not.toContain("s3cr3t");
  });

  it("/v1/metrics/{registry}: only the families with the registry's prefix", () => {
    const text = "# HELP dcnet_dns_a x\n# TYPE dcnet_dns_a counter\ndcnet_dns_a{n=\"1\"} 1\n# HELP dcnet_gossip_b y\n# TYPE dcnet_gossip_b gauge\ndcnet_gossip_b 2\n";
    expect(filterMetrics(text, ["dcnet_dns_"])).toBe("# HELP dcnet_dns_a x\n# TYPE dcnet_dns_a counter\ndcnet_dns_a{n=\"1\"} 1\n");
    expect(filterMetrics(text, [""])).toBe(text);
  });
});
