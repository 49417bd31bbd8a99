import { describe, it, expect, afterEach } from "@jest/globals";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseRequest, type CniRequest, type Env } from "./config.js";
import { CniBridgeMissingError, CniError, CniKernelError, CniPortConflictError } from "./errors.js";
import type { BridgeInfo, ContainerView, HostView, VethPlan } from "./netns.js";
import { handle, type Kernel } from "./plugin.js";
import type { CniResult } from "./result.js";
import type { PortMapping } from "./config.js";

/** The kernel as a few maps: veths by host name, port map elements; failures on demand. */
class FakeKernel implements Kernel {
  netns = new Set(["/var/run/netns/c1", "/var/run/netns/c2"]);
  bridge: BridgeInfo | undefined = { mac: "02:00:00:00:00:01", mtu: 1450 };
  veths = new Map<string, VethPlan>();
  ports = new Map<string, string>();
  failAttach: CniError | undefined;
  netnsExists = (p: string) => this.netns.has(p);
  async bridgeInfo(): Promise<BridgeInfo> {
    if (!this.bridge) throw new CniBridgeMissingError("bridge m-dcos does not exist");
    return this.bridge;
  }
  async attach(p: VethPlan): Promise<BridgeInfo> {
    const b = await this.bridgeInfo();
    if (this.failAttach) throw this.failAttach;
    this.veths.set(p.hostVeth, p);
    return b;
  }
  async detach(v: string): Promise<void> {
    this.veths.delete(v);
  }
  async inspectContainer(netns: string, ifname: string): Promise<ContainerView | undefined> {
    const p = [...this.veths.values()].find((x) => x.netns === netns && x.ifname === ifname);
    return p && { mac: p.containerMac, mtu: p.mtu, up: true, addrs: p.addrs.map((a) => a.address), gateways: p.addrs.map((a) => a.gateway) };
  }
  async inspectHost(v: string): Promise<HostView | undefined> {
    const p = this.veths.get(v);
    return p && { mac: p.hostMac, mtu: p.mtu, master: p.bridge, hairpin: true };
  }
  async addMappings(_b: string, target: string, ms: readonly PortMapping[]): Promise<void> {
    if (ms.some((m) => this.ports.has(`ports ${m.protocol} . ${m.hostPort}`))) throw new CniPortConflictError("taken");
    for (const m of ms) this.ports.set(`ports ${m.protocol} . ${m.hostPort}`, `${target} . ${m.containerPort}`);
  }
  async removeMappings(target: string, ms: readonly PortMapping[]): Promise<void> {
    for (const m of ms) if (this.ports.get(`ports ${m.protocol} . ${m.hostPort}`)?.startsWith(`${target} `)) this.ports.delete(`ports ${m.protocol} . ${m.hostPort}`);
  }
  listMappings = async () => new Map(this.ports);
}

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function setup(extra: Record<string, unknown> = {}) {
  const dir = mkdtempSync(join(tmpdir(), "dcnet-cni-plugin-"));
  dirs.push(dir);
  const k = new FakeKernel();
  const conf = { cniVersion: "1.0.0", name: "dcos", type: "dcnet-cni", subnet: "9.0.7.0/29", gateway: "9.0.7.1", mtu: 1450, dataDir: join(dir, "dcos"), ...extra };
  const env = (command: string, id = "c1"): Env => ({ CNI_COMMAND: command, CNI_CONTAINERID: id, CNI_NETNS: `/var/run/netns/${id}`, CNI_IFNAME: "eth0" });
  const call = (command: string, id = "c1", patch: Record<string, unknown> = {}) => {
    const req: CniRequest = parseRequest(env(command, id), () => JSON.stringify({ ...conf, ...patch }));
    return handle(req, k);
  };
  const code = async (f: () => Promise<unknown>): Promise<number> => {
    try {
      await f();
    } catch (e) {
      if (e instanceof CniError) return e.cniCode;
      throw e;
    }
    return 0;
  };
  const leases = () => readdirSync(conf.dataDir).filter((n) => /^\d/.test(n)).sort();
  return { k, conf, call, code, leases };
}

describe("cni plugin operations", () => {
  it("ADD: a lease, a veth, and the spec's result (bridge, host end, container end; ips point at the container end)", async () => {
    const { k, call, leases } = setup();
    const r = (await call("ADD")) as CniResult;
    expect(r).toEqual({
      cniVersion: "1.0.0",
      interfaces: [
        { name: "m-dcos", mac: "02:00:00:00:00:01" },
        { name: expect.stringMatching(/^dcv[0-9a-f]{12}$/), mac: "fe:58:09:00:07:02" },
        { name: "eth0", mac: "0a:58:09:00:07:02", sandbox: "/var/run/netns/c1" },
      ],
      ips: [{ address: "9.0.7.2/29", gateway: "9.0.7.1", interface: 2 }],
      routes: [{ dst: "0.0.0.0/0", gw: "9.0.7.1" }],
    });
    expect(leases()).toEqual(["9.0.7.2"]);
    expect(k.veths.size).toBe(1);
  });

  it("1.1.0 results carry the interfaces' MTU; dual stack gets two addresses and two default routes", async () => {
    const { call } = setup({ cniVersion: "1.1.0", subnet6: "fd01:b::7:0:0:0/81" });
    const r = (await call("ADD")) as CniResult;
    expect(r.interfaces?.[2]).toMatchObject({ mtu: 1450 });
    expect(r.ips).toEqual([
      { address: "9.0.7.2/29", gateway: "9.0.7.1", interface: 2 },
      { address: "fd01:b::7:0:0:2/81", gateway: "fd01:b::7:0:0:1", interface: 2 },
    ]);
    expect(r.routes).toEqual([{ dst: "0.0.0.0/0", gw: "9.0.7.1" }, { dst: "::/0", gw: "fd01:b::7:0:0:1" }]);
  });

  it("ADD twice for the same (container, ifname): code 100, the first attachment untouched", async () => {
    const { k, call, code, leases } = setup();
    await call("ADD");
    const veths = [...k.veths.keys()];
    expect(await code(() => call("ADD"))).toBe(100);
    expect(leases()).toEqual(["9.0.7.2"]);
    expect([...k.veths.keys()]).toEqual(veths);
  });

  it("a failed ADD leaves no lease: netns missing (3), bridge missing (11), kernel failure (103), port conflict (101, veth removed)", async () => {
    const { k, call, code, leases } = setup({ runtimeConfig: { portMappings: [{ hostPort: 8081, containerPort: 80 }] } });
    expect(await code(() => call("ADD", "c3"))).toBe(3);
    k.bridge = undefined;
    expect(await code(() => call("ADD"))).toBe(11);
    k.bridge = { mac: "02:00:00:00:00:01", mtu: 1450 };
    k.failAttach = new CniKernelError("ip failed");
    expect(await code(() => call("ADD"))).toBe(103);
    k.failAttach = undefined;
    await call("ADD", "c2");
    expect(await code(() => call("ADD"))).toBe(101);
    // Only c2's lease is left (the failed attempts' addresses were released again).
    expect(leases()).toHaveLength(1);
    expect([...k.veths.values()].map((p) => p.netns)).toEqual(["/var/run/netns/c2"]);
  });

  it("exhausted subnet: code 11 with the subnet in the message, nothing leaked", async () => {
    const { k, call, leases } = setup();
    k.netns = new Set(["a", "b", "c", "d", "e", "f"].map((x) => `/var/run/netns/${x}`));
    for (const id of ["a", "b", "c", "d", "e"]) await call("ADD", id);
    await expect(call("ADD", "f")).rejects.toThrow("subnet 9.0.7.0/29 exhausted");
    expect(leases()).toHaveLength(5);
    expect(k.veths.size).toBe(5);
  });

  it("DEL: port mappings, veth and lease go; DEL again, DEL of an unknown container, DEL after the netns is gone all succeed", async () => {
    const { k, call, leases } = setup({ runtimeConfig: { portMappings: [{ hostPort: 8081, containerPort: 80 }] } });
    await call("ADD");
    expect(k.ports.size).toBe(1);
    expect(await call("DEL")).toBeUndefined();
    expect([k.ports.size, k.veths.size, leases()]).toEqual([0, 0, []]);
    expect(await call("DEL")).toBeUndefined();
    expect(await call("DEL", "never-added")).toBeUndefined();
    await call("ADD", "c2");
    k.netns.delete("/var/run/netns/c2");
    k.veths.clear(); // the container end took the pair with it
    expect(await call("DEL", "c2")).toBeUndefined();
    expect(leases()).toEqual([]);
  });

  it("CHECK: needs prevResult (7), passes on a sound attachment, fails (102) on a missing port mapping or another container's prevResult", async () => {
    const { k, call, code } = setup({ runtimeConfig: { portMappings: [{ hostPort: 8081, containerPort: 80 }] } });
    const prevResult = (await call("ADD")) as CniResult;
    expect(await code(() => call("CHECK"))).toBe(7);
    expect(await call("CHECK", "c1", { prevResult })).toBeUndefined();
    k.ports.clear();
    expect(await code(() => call("CHECK", "c1", { prevResult }))).toBe(102);
    await call("ADD", "c2");
    // Another container's prevResult does not describe this one.
    expect(await code(() => call("CHECK", "c2", { prevResult }))).toBe(102);
  });

  it("CHECK failures name what differs", async () => {
    const { k, call } = setup();
    const prevResult = (await call("ADD")) as CniResult;
    const plan = [...k.veths.values()][0] as VethPlan;
    k.veths.set(plan.hostVeth, { ...plan, addrs: [] });
    await expect(call("CHECK", "c1", { prevResult })).rejects.toThrow("address 9.0.7.2/29 is missing");
    k.veths.clear();
    await expect(call("CHECK", "c1", { prevResult })).rejects.toThrow("the interface is missing");
  });

  it("CHECK of a container without its default route names the resolvers it cannot reach (dns in the config)", async () => {
    const { k, call } = setup({ dns: { nameservers: ["198.51.100.1", "198.51.100.2"] } });
    const prevResult = (await call("ADD")) as CniResult;
    expect(prevResult.dns).toEqual({ nameservers: ["198.51.100.1", "198.51.100.2"] });
    const plan = [...k.veths.values()][0] as VethPlan;
    k.veths.set(plan.hostVeth, { ...plan, addrs: plan.addrs.map((a) => ({ ...a, gateway: "9.0.7.6" })) });
    await expect(call("CHECK", "c1", { prevResult })).rejects.toThrow("the default route via 9.0.7.1 is missing: its resolvers 198.51.100.1, 198.51.100.2 (the node's DNS, reached through the gateway) are unreachable");
  });

  it("STATUS (1.1): 50 when the bridge is missing or the subnet exhausted", async () => {
    const { k, call, code } = setup({ cniVersion: "1.1.0" });
    expect(await call("STATUS")).toBeUndefined();
    k.bridge = undefined;
    expect(await code(() => call("STATUS"))).toBe(50);
    k.bridge = { mac: "02:00:00:00:00:01", mtu: 1450 };
    k.netns = new Set(["a", "b", "c", "d", "e"].map((x) => `/var/run/netns/${x}`));
    for (const id of ["a", "b", "c", "d", "e"]) await call("ADD", id);
    expect(await code(() => call("STATUS"))).toBe(50);
  });

  it("GC (1.1): attachments not in the valid list lose lease, veth and port mappings", async () => {
    const { k, call, leases } = setup({ cniVersion: "1.1.0" });
    await call("ADD", "c1");
    await call("ADD", "c2");
    await call("GC", "x", { "cni.dev/valid-attachments": [{ containerID: "c2", ifname: "eth0" }] });
    expect(leases()).toEqual(["9.0.7.3"]);
    expect([...k.veths.values()].map((p) => p.netns)).toEqual(["/var/run/netns/c2"]);
  });

  it("ADD after another plugin (a prevResult): its interfaces and addresses kept, ours appended with shifted indices", async () => {
    const { call } = setup();
    const prevResult = { cniVersion: "1.0.0", interfaces: [{ name: "lo", sandbox: "/var/run/netns/c1" }], ips: [{ address: "127.0.0.1/8", interface: 0 }] };
    const r = (await call("ADD", "c1", { prevResult })) as CniResult;
    expect(r.interfaces?.map((i) => i.name)).toEqual(["lo", "m-dcos", expect.any(String), "eth0"]);
    expect(r.ips).toEqual([{ address: "127.0.0.1/8", interface: 0 }, { address: "9.0.7.2/29", gateway: "9.0.7.1", interface: 3 }]);
  });
});
