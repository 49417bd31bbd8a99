import { describe, it, expect } from "@jest/globals";
import { discoveryPorts, foldHostPorts, legacyLabelPorts, mergePorts, nthResourcePort, portMappings } from "./mesos-ports.js";

const noWarn = (m: string) => {
  throw new Error(`unexpected warning: ${m}`);
};

describe("ports sources (§3.1)", () => {
  const resources = [
    { name: "cpus", type: "SCALAR", scalar: { value: 1 } },
    { name: "ports", type: "RANGES", ranges: { range: [{ begin: 31000, end: 31001 }, { begin: 32000, end: 32000 }] } },
    { name: "ports", type: "SCALAR", scalar: { value: 33000 } },
  ];
  it("nthResourcePort expands ranges lazily (no allocation for huge ranges)", () => {
    expect([0, 1, 2, 3, 4].map((i) => nthResourcePort(resources, i))).toEqual([31000, 31001, 32000, 33000, undefined]);
    expect(nthResourcePort([{ name: "ports", type: "RANGES", ranges: { range: [{ begin: 1, end: 2 ** 50 }] } }], 2 ** 40)).toBe(2 ** 40 + 1);
  });
  it("legacy VIP_PORT<n> labels are case-insensitive and become host ports", () => {
    const task = { resources, labels: { labels: [{ key: "VIP_PORT2", value: "udp://dns:53" }, { key: "vip_port0", value: "tcp://web:80" }, { key: "other", value: "x" }] } };
    expect(legacyLabelPorts(task, noWarn)).toEqual([
      { protocol: "udp", hostPort: 32000, vips: ["dns:53"] },
      { protocol: "tcp", hostPort: 31000, vips: ["web:80"] },
    ]);
  });
  it("discovery ports: VIP*/vip* labels, network-scope, default name, number 0 ignored", () => {
    const lbl = (key: string, value: string) => ({ key, value });
    const task = { discovery: { ports: { ports: [
      { number: 80, protocol: "TCP", labels: { labels: [lbl("VIP_0", "/a:80"), lbl("vip1", "b:80"), lbl("Vip2", "c:80")] } },
      { number: 31080, name: "h", protocol: "tcp", labels: { labels: [lbl("network-scope", "host")] } },
      { number: 0, name: "zero", protocol: "tcp" },
    ] } } };
    expect(discoveryPorts(task, noWarn)).toEqual([
      { name: "default", protocol: "tcp", port: 80, vips: ["/a:80", "b:80"] },
      { name: "h", protocol: "tcp", hostPort: 31080, vips: [] },
    ]);
  });
  it("port mappings: docker from container.docker, mesos from the task's or the status's network_infos; bad protocol dropped", () => {
    const pm = [{ container_port: 80, host_port: 31000, protocol: "tcp" }, { container_port: 81, host_port: 31001, protocol: "sctp" }];
    const warnings: string[] = [];
    expect(portMappings({ container: { type: "DOCKER", docker: { port_mappings: pm } } }, {}, (m) => warnings.push(m))).toEqual([
      { protocol: "tcp", port: 80, hostPort: 31000, vips: [] }]);
    expect(warnings).toEqual(['port mapping: unsupported protocol "sctp"']);
    const status = { container_status: { network_infos: [{ port_mappings: [pm[0]] }] } };
    expect(portMappings({ container: { type: "MESOS" } }, status, noWarn)).toHaveLength(1);
    expect(portMappings({ container: { type: "MESOS", network_infos: [] } }, status, noWarn)).toEqual([]);
  });
  it("merge matches on (protocol, port) or (protocol, hostPort) and unions VIPs; host folding", () => {
    const merged = mergePorts(
      [{ protocol: "tcp", port: 80, hostPort: 31000, vips: ["x:1"] }],
      [{ name: "web", protocol: "tcp", port: 80, vips: ["/a:80"] }, { protocol: "udp", port: 80, vips: [] }],
    );
    expect(merged).toEqual([
      { name: "web", protocol: "tcp", port: 80, hostPort: 31000, vips: ["/a:80", "x:1"] },
      { protocol: "udp", port: 80, vips: [] },
    ]);
    expect(foldHostPorts([{ protocol: "tcp", hostPort: 31000, vips: ["v:1"] }, { name: "n", protocol: "tcp", port: 31000, vips: [] }])).toEqual([
      { name: "n", protocol: "tcp", port: 31000, vips: ["v:1"] },
    ]);
  });
});
