// The overlay renderer and its ip/bridge runner against the real kernel, with real TCP and UDP
// between "containers" on three hosts, in network namespaces (issue 13 point 1; dataplane.md §2).
//
// Address plan (nothing leaves the lab's namespaces):
//   hosts h1..h3   10.83.0.N/24 on the lab bridge (underlay MTU 1500, no default route: a
//                  container address is reachable only through the overlay)
//   overlay        vtep1024 44.128.0.N/20 and fd01:a::N/64, MAC 70:b3:d5:00:00:0N, VNI 1024, UDP 64000,
//                  MTU 1450; subnets 9.0.N.0/24 and fd01:b:0:0:N::/80
//   containers cN  9.0.N.2/25 and fd01:b:0:0:N::2/81 on m-dcos of host N (gateway 9.0.N.1,
//                  fd01:b::N:0:0:1), hairpin on, MTU 1450; server: tcp 7000 (greets with its name),
//                  udp 7001 (answers its name and the datagram's length)
import { afterAll, beforeAll, describe, expect, jest, test } from "@jest/globals";
import type { DirectRouting, NodeOverlay, OverlayDesired } from "../actors/overlay/model.js";
import { batchTexts, bridgeBatch, compareOverlay, entryPlan, IpBatchError, ipBatch, overlayDesired, peerEntries, peerOps, readOverlay, setupOps } from "../actors/overlay/index.js";
import { createNetnsLab, type NetnsLab } from "./harness/netns.js";
import { mustRun, waitFor } from "./harness/shell.js";

jest.setTimeout(60_000);

const HOSTS = [1, 2, 3] as const;
type N = (typeof HOSTS)[number];
const OPTS = { mtu: 1450, vtepPrefix: 20, vtepPrefix6: 64, subnetPrefix: 24, subnetPrefix6: 80 };

const fact = (n: N): NodeOverlay => ({
  node: `h${n}`,
  agentIp: `10.83.0.${n}`,
  vtepIp: `44.128.0.${n}`,
  vtepMac: `70:b3:d5:00:00:0${n}`,
  vtepIp6: `fd01:a::${n}`,
  subnet: `9.0.${n}.0/24`,
  subnet6: `fd01:b:0:0:${n}::/80`,
});
const c4 = (n: N): string => `9.0.${n}.2`;
const c6 = (n: N): string => `fd01:b:0:0:${n}::2`;

const SERVER = `
const net = require("net"), dgram = require("dgram");
const name = process.argv[1];
net.createServer((s) => { s.on("error", () => {}); s.end(name + "\\n"); }).listen({ port: 7000, host: "::", ipv6Only: false });
const u = dgram.createSocket({ type: "udp6", ipv6Only: false });
u.on("message", (m, r) => u.send(name + " " + m.length, r.port, r.address));
u.bind(7001, "::");
setTimeout(() => process.exit(0), 120000);
`;

// TCP to each target at once: { target: server name | error code }.
const CLIENT = `
const net = require("net");
const one = (host) => new Promise((res) => {
  const s = net.connect({ host, port: 7000 }); let buf = "";
  const t = setTimeout(() => { s.destroy(); res("timeout"); }, 1500);
  s.on("data", (d) => { buf += d; });
  s.on("end", () => { clearTimeout(t); res(buf.trim()); });
  s.on("error", (e) => { clearTimeout(t); res(e.code || e.message); });
});
const targets = process.argv.slice(1);
Promise.all(targets.map(one)).then((r) => console.log(JSON.stringify(Object.fromEntries(targets.map((t, i) => [t, r[i]])))));
`;

// UDP datagrams of the given payload sizes with DF set (IP_PMTUDISC_DO), one socket each: the
// answer, or the errno name when the kernel refuses to send it unfragmented. ping -M do checks
// the same thing; ping is not installed here, python3 is.
const DF = `
import errno, json, socket, sys
dst, port, sizes = sys.argv[1], int(sys.argv[2]), [int(x) for x in sys.argv[3:]]
out = {}
for n in sizes:
    v6 = ":" in dst
    s = socket.socket(socket.AF_INET6 if v6 else socket.AF_INET, socket.SOCK_DGRAM)
    if v6: s.setsockopt(socket.IPPROTO_IPV6, 23, 2)  # IPV6_MTU_DISCOVER = IPV6_PMTUDISC_DO
    else: s.setsockopt(socket.IPPROTO_IP, 10, 2)      # IP_MTU_DISCOVER = IP_PMTUDISC_DO
    s.settimeout(2)
    try:
        s.sendto(b"x" * n, (dst, port))
        out[n] = s.recv(200).decode()
    except socket.timeout:
        out[n] = "timeout"
    except OSError as e:
        out[n] = errno.errorcode.get(e.errno, str(e.errno))
    s.close()
print(json.dumps(out))
`;

describe("overlay kernel: renderer + ip/bridge batches in a 3-host netns lab", () => {
  let lab: NetnsLab;
  const desired = new Map<N, OverlayDesired>();
  const ipOpts = (n: N) => ({ command: ["ip", "netns", "exec", lab.ns(`h${n}`)] });

  const tcp = async (from: N, ...targets: string[]): Promise<Record<string, string>> => {
    const r = await lab.exec(`c${from}`, process.execPath, ["-e", CLIENT, ...targets], { timeoutMs: 10_000 });
    if (r.code !== 0) throw new Error(`client in c${from} exited ${r.code}: ${r.stderr}`);
    return JSON.parse(r.stdout) as Record<string, string>;
  };
  const df = async (from: N, dst: string, ...sizes: number[]): Promise<Record<string, string>> => {
    const r = await lab.exec(`c${from}`, "python3", ["-c", DF, dst, "7001", ...sizes.map(String)], { timeoutMs: 10_000 });
    if (r.code !== 0) throw new Error(`python3 in c${from} exited ${r.code}: ${r.stderr}`);
    return JSON.parse(r.stdout) as Record<string, string>;
  };
  // The underlay's routes of the overlay (direct routing) are read too, so a leftover one is drift.
  const drift = async (n: N) => compareOverlay(await readOverlay({ ...ipOpts(n), underlay: "eth0" }), desired.get(n) as OverlayDesired);

  /** What host n programs for the given peers, from nothing or from what it had. */
  const program = async (n: N, peers: readonly N[], direct?: DirectRouting): Promise<void> => {
    const prev = desired.get(n);
    const { desired: d, skipped } = overlayDesired(fact(n), peers.map(fact), { ...OPTS, ...(direct ? { direct } : {}) });
    expect(skipped).toEqual([]);
    if (!prev) await ipBatch(setupOps(d), ipOpts(n));
    // From what was programmed, routes on either path: what the applier does (entries, not peers).
    const ops = prev ? batchTexts(entryPlan(peerEntries(prev.peers, prev.direct), peerEntries(d.peers, d.direct))) : peerOps(new Map(), d.peers, d.direct);
    await ipBatch(ops.ip, ipOpts(n));
    await bridgeBatch(ops.bridge, ipOpts(n));
    desired.set(n, d);
  };

  beforeAll(async () => {
    const t0 = Date.now();
    lab = await createNetnsLab({ hosts: { h1: "10.83.0.1/24", h2: "10.83.0.2/24", h3: "10.83.0.3/24" } });
    for (const n of HOSTS) {
      await mustRun("ip", ["netns", "exec", lab.ns(`h${n}`), "sysctl", "-qw", "net.ipv4.ip_forward=1", "net.ipv6.conf.all.forwarding=1"]);
      await program(
        n,
        HOSTS.filter((m) => m !== n),
      );
      // A container: a veth into m-dcos as dcnet-cni makes it.
      const hn = lab.ns(`h${n}`);
      const cn = lab.ns(`c${n}`); // under the lab's prefix: cleanup() deletes it with the rest
      await mustRun("ip", ["netns", "add", cn]);
      await mustRun("ip", ["-n", hn, "link", "add", "vc", "mtu", "1450", "type", "veth", "peer", "name", "eth0", "netns", cn]);
      await mustRun("ip", ["-n", hn, "link", "set", "vc", "master", "m-dcos", "up"]);
      await mustRun("ip", ["-n", hn, "link", "set", "vc", "type", "bridge_slave", "hairpin", "on"]);
      await mustRun("ip", ["-n", cn, "link", "set", "lo", "up"]);
      await mustRun("ip", ["-n", cn, "link", "set", "eth0", "mtu", "1450", "up"]);
      await mustRun("ip", ["-n", cn, "addr", "add", `${c4(n)}/25`, "dev", "eth0"]);
      await mustRun("ip", ["-n", cn, "addr", "add", `${c6(n)}/81`, "dev", "eth0", "nodad"]);
      await mustRun("ip", ["-n", cn, "route", "add", "default", "via", `9.0.${n}.1`]);
      await mustRun("ip", ["-n", cn, "-6", "route", "add", "default", "via", `fd01:b:0:0:${n}::1`]);
      lab.run(`c${n}`, process.execPath, ["-e", SERVER, `c${n}`]);
    }
    for (const n of HOSTS) await waitFor(`server c${n}`, 10_000, async () => ((await tcp(n, "127.0.0.1"))["127.0.0.1"] === `c${n}` ? true : undefined), 100);
    console.log(`overlay lab: 3 hosts programmed, 3 containers serving in ${Date.now() - t0} ms`);
  });

  afterAll(async () => {
    await lab?.cleanup();
  });

  test("every host reads back with zero drift", async () => {
    for (const n of HOSTS) expect(await drift(n)).toMatchObject({ drift: 0, reasons: [], repair: { ip: "", bridge: "" } });
  });

  // The first packets to each container: over IPv6 these were lost for 1–2 s while the bridge's
  // own link-local address was tentative, until setup gave bridges fe80::1 without DAD (ops.ts).
  test("containers reach each other across hosts over TCP, every direction, IPv4 and IPv6", async () => {
    for (const n of HOSTS) {
      const others = HOSTS.filter((m) => m !== n);
      const targets = others.flatMap((m) => [c4(m), c6(m)]);
      expect(await tcp(n, ...targets)).toEqual(Object.fromEntries(others.flatMap((m) => [[c4(m), `c${m}`], [c6(m), `c${m}`]])));
    }
  });

  test("MTU 1450: a 1422-byte DF datagram crosses the overlay, 1423 is refused (IPv6: 1402 and 1403)", async () => {
    expect(await df(1, c4(2), 1422, 1423)).toEqual({ 1422: "c2 1422", 1423: "EMSGSIZE" });
    expect(await df(3, c6(1), 1402, 1403)).toEqual({ 1402: "c1 1402", 1403: "EMSGSIZE" });
  });

  test("setup again on a live node keeps its peers (the MAC is set only on link add)", async () => {
    const before = await readOverlay(ipOpts(1));
    const again = await ipBatch(setupOps(desired.get(1) as OverlayDesired), ipOpts(1));
    // Every `link add` refused as already there, nothing else refused.
    expect(again.already.map((a) => a.command.split(" ").slice(0, 3).join(" "))).toEqual(["link add vtep1024", "link add m-dcos", "link add d-dcos"]);
    const after = await readOverlay(ipOpts(1));
    expect(after.neigh).toEqual(before.neigh);
    expect((await drift(1)).drift).toBe(0);
  });

  test("drift: a hand-deleted FDB entry and a changed MTU are found and repaired", async () => {
    const h1 = lab.ns("h1");
    await mustRun("ip", ["netns", "exec", h1, "bridge", "fdb", "del", "70:b3:d5:00:00:02", "dev", "vtep1024", "self"]);
    await mustRun("ip", ["-n", h1, "link", "set", "vtep1024", "mtu", "1400"]);
    expect(await tcp(1, c4(2))).toEqual({ [c4(2)]: "timeout" });
    const cmp = await drift(1);
    expect(cmp.reasons).toEqual(["vtep1024 has MTU 1400 (want 1450)", "missing fdb 70:b3:d5:00:00:02 → 10.83.0.2"]);
    expect(cmp.repair).toEqual({ ip: "link set vtep1024 mtu 1450 up\n", bridge: "fdb replace 70:b3:d5:00:00:02 dev vtep1024 dst 10.83.0.2 self permanent\n" });
    await ipBatch(cmp.repair.ip, ipOpts(1));
    await bridgeBatch(cmp.repair.bridge, ipOpts(1));
    expect((await drift(1)).drift).toBe(0);
    expect(await tcp(1, c4(2))).toEqual({ [c4(2)]: "c2" });
    expect(await df(1, c4(2), 1422)).toEqual({ 1422: "c2 1422" });
  });

  test("drift: a VTEP with another VNI is recreated, and every peer entry with it", async () => {
    const h2 = lab.ns("h2");
    await mustRun("ip", ["-n", h2, "link", "del", "vtep1024"]);
    await mustRun("ip", ["-n", h2, "link", "add", "vtep1024", "type", "vxlan", "id", "99", "dstport", "64000", "local", "10.83.0.2", "nolearning"]);
    const cmp = await drift(2);
    expect(cmp.reasons).toEqual(expect.arrayContaining(["vtep1024 has VNI 99 (want 1024)"]));
    await ipBatch(cmp.repair.ip, ipOpts(2));
    await bridgeBatch(cmp.repair.bridge, ipOpts(2));
    expect(await drift(2)).toMatchObject({ drift: 0, reasons: [] });
    expect(await tcp(2, c4(1), c6(3))).toEqual({ [c4(1)]: "c1", [c6(3)]: "c3" });
  });

  test("the runner reports a refused line with the kernel's words and runs the lines after it", async () => {
    // The middle line's gateway is not on the VTEP's link (and no onlink): the kernel refuses it.
    const lines = ["route replace 9.0.99.0/24 via 44.128.0.99 dev vtep1024 onlink", "route replace 9.0.98.0/24 via 10.83.0.250 dev vtep1024", "route replace 9.0.97.0/24 via 44.128.0.97 dev vtep1024 onlink"];
    const err = await ipBatch(`${lines.join("\n")}\n`, ipOpts(3)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IpBatchError);
    expect((err as IpBatchError).failures).toEqual([{ line: 2, command: lines[1], message: expect.stringMatching(/gateway|Network is unreachable/) }]);
    const routes = (await readOverlay(ipOpts(3))).routes;
    expect([routes?.get("9.0.99.0/24")?.via, routes?.get("9.0.97.0/24")?.via]).toEqual(["44.128.0.99", "44.128.0.97"]);
    const undo = "route del 9.0.99.0/24 dev vtep1024\nroute del 9.0.97.0/24 dev vtep1024\n";
    await ipBatch(undo, ipOpts(3));
    // Deleting what is already gone is "already so", not an error.
    expect((await ipBatch(undo, ipOpts(3))).already).toHaveLength(2);
    expect((await drift(3)).drift).toBe(0);
  });

  test("direct routing: IPv4 between the hosts goes over the underlay (proto 77 routes), not through the VTEP; IPv6 stays on VXLAN; the same MTU; drift repaired; and back", async () => {
    const execOk = async (host: string, cmd: string, args: readonly string[]): Promise<string> => {
      const r = await lab.exec(host, cmd, args, { timeoutMs: 10_000 });
      if (r.code !== 0) throw new Error(`${cmd} ${args.join(" ")} in ${host} exited ${r.code}: ${r.stderr}`);
      return r.stdout.trim();
    };
    const direct: DirectRouting = { dev: "eth0", net: "10.83.0.1/24" };
    const others = (n: N) => HOSTS.filter((m) => m !== n);
    for (const n of HOSTS) await program(n, others(n), { ...direct, net: `10.83.0.${n}/24` });
    for (const n of HOSTS) expect(await drift(n)).toMatchObject({ drift: 0, reasons: [] });
    const h1 = lab.ns("h1");
    const listed = JSON.parse(await execOk("h1", "ip", ["-j", "route", "show", "dev", "eth0", "proto", "77"])) as Array<{ dst: string; gateway: string }>;
    expect(listed.map((r) => `${r.dst} via ${r.gateway}`).sort()).toEqual(["9.0.2.0/24 via 10.83.0.2", "9.0.3.0/24 via 10.83.0.3"]);
    const txPackets = async (dev: string): Promise<number> => (JSON.parse(await execOk("h1", "ip", ["-j", "-s", "link", "show", dev])) as Array<{ stats64: { tx: { packets: number } } }>)[0]?.stats64.tx.packets ?? -1;
    const [vtep0, eth0] = [await txPackets("vtep1024"), await txPackets("eth0")];
    expect(await tcp(1, c4(2), c4(3))).toEqual({ [c4(2)]: "c2", [c4(3)]: "c3" });
    expect(await df(1, c4(2), 1422, 1423)).toEqual({ 1422: "c2 1422", 1423: "EMSGSIZE" });
    // The client's side of two TCP connections and one datagram (the 1423 one is refused before
    // it leaves) is ≥ 8 packets out; the VTEP may send a stray IPv6 neighbour or MLD packet of its
    // own meanwhile, never these.
    expect(await txPackets("vtep1024")).toBeLessThan(vtep0 + 3);
    expect(await txPackets("eth0")).toBeGreaterThanOrEqual(eth0 + 8);
    expect(JSON.parse(await execOk("h1", "ip", ["-j", "route", "get", c4(2)]))).toMatchObject([{ dst: c4(2), gateway: "10.83.0.2", dev: "eth0" }]);
    // IPv6 over the IPv4 underlay: VXLAN as before.
    const vtepV6 = await txPackets("vtep1024");
    expect(await tcp(1, c6(2))).toEqual({ [c6(2)]: "c2" });
    expect(await txPackets("vtep1024")).toBeGreaterThanOrEqual(vtepV6 + 4);
    // A direct route deleted by hand is drift, and the repair puts it back on the underlay.
    await mustRun("ip", ["-n", h1, "route", "del", "9.0.2.0/24", "dev", "eth0"]);
    expect(await tcp(1, c4(2))).toEqual({ [c4(2)]: "ENETUNREACH" });
    const cmp = await drift(1);
    expect(cmp).toMatchObject({ drift: 1, reasons: ["missing route 9.0.2.0/24 via 10.83.0.2 dev eth0"], repair: { ip: "route replace 9.0.2.0/24 via 10.83.0.2 dev eth0 onlink proto 77\n", bridge: "" } });
    await ipBatch(cmp.repair.ip, ipOpts(1));
    expect(await tcp(1, c4(2))).toEqual({ [c4(2)]: "c2" });
    // Off again: each IPv4 route moves back onto the VTEP by one replace, none is left on the underlay.
    for (const n of HOSTS) await program(n, others(n));
    for (const n of HOSTS) expect(await drift(n)).toMatchObject({ drift: 0, reasons: [] });
    expect(await execOk("h1", "ip", ["route", "show", "dev", "eth0", "proto", "77"])).toBe("");
    const vtep1 = await txPackets("vtep1024");
    expect(await tcp(1, c4(2), c4(3))).toEqual({ [c4(2)]: "c2", [c4(3)]: "c3" });
    expect(await txPackets("vtep1024")).toBeGreaterThanOrEqual(vtep1 + 8);
  });

  test("a peer that leaves: its neighbours, FDB entry and routes are deleted, and its container is unreachable", async () => {
    expect(await tcp(1, c4(3))).toEqual({ [c4(3)]: "c3" });
    for (const n of [1, 2] as const) await program(n, HOSTS.filter((m) => m !== n && m !== 3));
    for (const n of [1, 2] as const) {
      const o = await readOverlay(ipOpts(n));
      expect([o.neigh?.has("44.128.0.3"), o.neigh?.has("fd01:a::3"), o.fdb?.has("70:b3:d5:00:00:03"), o.routes?.has("9.0.3.0/24"), o.routes?.has("fd01:b:0:0:3::/80")]).toEqual([false, false, false, false, false]);
      expect(compareOverlay(o, desired.get(n) as OverlayDesired).drift).toBe(0);
    }
    // h1 has no route to h3's subnets any more (and no default route): it answers "network unreachable".
    expect(await tcp(1, c4(3), c6(3), c4(2))).toEqual({ [c4(3)]: "ENETUNREACH", [c6(3)]: "ENETUNREACH", [c4(2)]: "c2" });
    // …and from h3, which still has h1 as a peer, the SYN gets there but the answer has no way back.
    expect(await tcp(3, c4(1))).toEqual({ [c4(1)]: "timeout" });
  });
});
