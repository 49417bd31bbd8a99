import { describe, it, expect } from "@jest/globals";
import { parseRequest, type CniRequest, type Env } from "./config.js";
import { CniError } from "./errors.js";

const ENV: Env = { CNI_COMMAND: "ADD", CNI_CONTAINERID: "c1", CNI_NETNS: "/var/run/netns/c1", CNI_IFNAME: "eth0", CNI_PATH: "/opt/cni/bin" };
const CONF = { cniVersion: "1.0.0", name: "dcos", type: "dcnet-cni", subnet: "9.0.7.0/25", gateway: "9.0.7.1", mtu: 1450 };

function req(env: Env, conf: unknown): CniRequest {
  return parseRequest(env, () => (typeof conf === "string" ? conf : JSON.stringify(conf)));
}

/** The CNI code and message a call is refused with. */
function refusal(env: Env, conf: unknown): { code: number; msg: string } {
  try {
    req(env, conf);
  } catch (e) {
    if (e instanceof CniError) return { code: e.cniCode, msg: e.message };
    throw e;
  }
  throw new Error("accepted");
}

describe("cni request parsing", () => {
  it("ADD: the attachment from the environment, the network from stdin, defaults filled in", () => {
    const r = req(ENV, CONF);
    if (r.command !== "ADD") throw new Error(r.command);
    expect(r.att).toEqual({ containerId: "c1", ifname: "eth0", netns: "/var/run/netns/c1" });
    expect(r.conf).toMatchObject({ cniVersion: "1.0.0", name: "dcos", bridge: "m-dcos", mtu: 1450, dataDir: "/var/lib/dcnet/cni/dcos", portMappings: [] });
    expect(r.conf.v4).toEqual({ cidr: { family: "ip", base: 0x09000700n, prefix: 25 }, gateway: 0x09000701n });
  });

  it("missing environment: code 4 naming every missing variable, and stdin is not read", () => {
    let read = false;
    try {
      parseRequest({ CNI_COMMAND: "ADD", CNI_IFNAME: "eth0" }, () => {
        read = true;
        return "{}";
      });
      throw new Error("accepted");
    } catch (e) {
      expect(e).toMatchObject({ cniCode: 4, message: "required env variables [CNI_CONTAINERID,CNI_NETNS] missing" });
    }
    expect(read).toBe(false);
    expect(refusal({}, CONF)).toEqual({ code: 4, msg: "required env variables [CNI_COMMAND] missing" });
    expect(refusal({ ...ENV, CNI_COMMAND: "FROB" }, CONF).code).toBe(4);
  });

  it("bad container id, interface name or netns path: code 4", () => {
    expect(refusal({ ...ENV, CNI_CONTAINERID: "-x" }, CONF).code).toBe(4);
    expect(refusal({ ...ENV, CNI_IFNAME: "a-name-that-is-too-long" }, CONF).msg).toMatch(/longer than 15/);
    expect(refusal({ ...ENV, CNI_IFNAME: "et/h0" }, CONF).code).toBe(4);
    expect(refusal({ ...ENV, CNI_NETNS: "c1" }, CONF).code).toBe(4);
  });

  it("DEL needs no netns (it may be gone)", () => {
    const r = req({ ...ENV, CNI_COMMAND: "DEL", CNI_NETNS: "" }, CONF);
    expect(r).toMatchObject({ command: "DEL", att: { containerId: "c1", ifname: "eth0" } });
  });

  it("malformed JSON: code 6; not an object: code 6", () => {
    expect(refusal(ENV, "{ not json")).toMatchObject({ code: 6, msg: "failed to decode the network config from stdin" });
    expect(refusal(ENV, "[1]").code).toBe(6);
  });

  it("unknown or missing cniVersion: code 1 Incompatible CNI version", () => {
    expect(refusal(ENV, { ...CONF, cniVersion: "9.9.9" })).toEqual({ code: 1, msg: "Incompatible CNI version" });
    expect(refusal(ENV, { ...CONF, cniVersion: undefined }).code).toBe(1);
    expect(refusal(ENV, { ...CONF, cniVersion: "0.4.0" }).code).toBe(1);
  });

  it("STATUS and GC need cniVersion 1.1.0", () => {
    expect(refusal({ CNI_COMMAND: "STATUS" }, CONF).code).toBe(1);
    expect(req({ CNI_COMMAND: "STATUS" }, { ...CONF, cniVersion: "1.1.0" }).command).toBe("STATUS");
    const gc = req({ CNI_COMMAND: "GC" }, { ...CONF, cniVersion: "1.1.0", "cni.dev/valid-attachments": [{ containerID: "a", ifname: "eth0" }] });
    expect(gc).toMatchObject({ command: "GC", valid: [{ containerId: "a", ifname: "eth0" }] });
  });

  it("VERSION answers in the version it was asked in", () => {
    expect(req({ CNI_COMMAND: "VERSION" }, { cniVersion: "1.0.0" })).toEqual({ command: "VERSION", cniVersion: "1.0.0" });
    expect(req({ CNI_COMMAND: "VERSION" }, "")).toEqual({ command: "VERSION", cniVersion: "1.1.0" });
  });

  it("an ipam section: code 2 naming the field (this plugin does its own IPAM)", () => {
    const r = refusal(ENV, { ...CONF, ipam: { type: "host-local" } });
    expect(r.code).toBe(2);
    expect(r.msg).toContain('"ipam"');
  });

  it("invalid network config: code 7 naming the key", () => {
    const bad: Array<[Record<string, unknown>, RegExp]> = [
      [{ name: undefined }, /missing network name/],
      [{ name: "a b" }, /invalid network name/],
      [{ subnet: undefined, gateway: undefined }, /missing "subnet"/],
      [{ subnet: undefined }, /"gateway" without "subnet"/],
      [{ subnet: "9.0.7.5/25" }, /host bits are set \(the network is 9\.0\.7\.0\/25\)/],
      [{ subnet: "9.0.7.0/31" }, /too small/],
      [{ subnet: "fd00::/64" }, /"subnet"/],
      [{ gateway: "9.0.8.1" }, /invalid "gateway"/],
      [{ gateway: "9.0.7.127" }, /invalid "gateway"/],
      [{ mtu: 70000 }, /invalid "mtu"/],
      [{ dataDir: "relative/dir" }, /invalid "dataDir"/],
      [{ bridge: "way-too-long-bridge" }, /invalid "bridge"/],
      [{ subnet6: "fd01:b::/81", gateway6: "fd01:c::1" }, /invalid "gateway6"/],
      [{ dns: { nameservers: "9.0.0.1" } }, /dns.nameservers/],
      [{ prevResult: [1] }, /prevResult/],
    ];
    for (const [patch, msg] of bad) {
      const r = refusal(ENV, { ...CONF, ...patch });
      expect([r.code, r.msg]).toEqual([7, expect.stringMatching(msg)]);
    }
  });

  it("the gateway defaults to the subnet's first address; IPv6 is optional", () => {
    const r = req(ENV, { ...CONF, gateway: undefined, subnet6: "fd01:b::7:0:0:0/81" });
    if (r.command !== "ADD") throw new Error(r.command);
    expect(r.conf.v4.gateway).toBe(0x09000701n);
    expect(r.conf.v6?.gateway).toBe(r.conf.v6 ? r.conf.v6.cidr.base + 1n : -1n);
  });

  it("portMappings from runtimeConfig: normalised, checked, duplicates refused", () => {
    const rc = (portMappings: unknown) => ({ ...CONF, runtimeConfig: { portMappings } });
    const r = req(ENV, rc([{ hostPort: 8080, containerPort: 80 }, { hostPort: 53, containerPort: 53, protocol: "UDP", hostIP: "10.0.0.1" }, { hostPort: 8443, containerPort: 443, hostIP: "0.0.0.0" }]));
    if (r.command !== "ADD") throw new Error(r.command);
    expect(r.conf.portMappings).toEqual([
      { hostPort: 8080, containerPort: 80, protocol: "tcp" },
      { hostPort: 53, containerPort: 53, protocol: "udp", hostIP: "10.0.0.1" },
      { hostPort: 8443, containerPort: 443, protocol: "tcp" },
    ]);
    expect(refusal(ENV, rc([{ hostPort: 0, containerPort: 80 }])).msg).toMatch(/hostPort/);
    expect(refusal(ENV, rc([{ hostPort: 80, containerPort: 80, protocol: "icmp" }])).msg).toMatch(/protocol/);
    expect(refusal(ENV, rc([{ hostPort: 80, containerPort: 80 }, { hostPort: 80, containerPort: 81 }])).msg).toMatch(/twice/);
    expect(refusal(ENV, rc([{ hostPort: 80, containerPort: 80, hostIP: "fd00::1" }])).code).toBe(2);
  });
});
