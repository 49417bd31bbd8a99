import { describe, it, expect } from "@jest/globals";
import { CniConfigError } from "./errors.js";
import { containerInterface, parseResult } from "./result.js";

describe("cni result", () => {
  it("reads a prevResult: interfaces, ips with their interface index, routes, dns", () => {
    const raw = {
      cniVersion: "1.0.0",
      interfaces: [{ name: "m-dcos", mac: "02:00:00:00:00:01" }, { name: "dcv1", mac: "fe:58:09:00:07:02" }, { name: "eth0", mac: "0a:58:09:00:07:02", sandbox: "/var/run/netns/c1" }],
      ips: [{ address: "9.0.7.2/25", gateway: "9.0.7.1", interface: 2 }],
      routes: [{ dst: "0.0.0.0/0", gw: "9.0.7.1" }],
      dns: { nameservers: ["9.0.7.1"] },
    };
    const r = parseResult(raw, "1.0.0");
    expect(r).toEqual(raw);
    expect(containerInterface(r, "eth0", "/var/run/netns/c1")).toBe(2);
    expect(containerInterface(r, "eth0", "/var/run/netns/c2")).toBe(-1);
  });

  it("refuses a prevResult whose ips point past its interfaces, or entries without their key", () => {
    expect(() => parseResult({ interfaces: [{ name: "eth0" }], ips: [{ address: "9.0.7.2/25", interface: 1 }] }, "1.0.0")).toThrow(CniConfigError);
    expect(() => parseResult({ interfaces: [{ mac: "x" }] }, "1.0.0")).toThrow(/interfaces\[0\] has no name/);
    expect(() => parseResult({ routes: "default" }, "1.0.0")).toThrow(/"routes" is not a list/);
  });
});
