// Issue 19: every process and every container on a node resolves through dcnet. A 2-host lab
// (integration/support/l4lb-lab.ts) with the overlay and the L4LB on, dns.resolver on both nodes
// (198.51.100.1–3 on lo, port 53, UDP and TCP), dns.manageResolvConf on h1 only, an unbound in the
// lab's bridge namespace as the hosts' original resolver (external names) and as Mesos-DNS (`.mesos`
// forwarded), a private dockerd inside h1 (the `dcos` Docker network).
//
// Address plan (only inside the lab's namespaces; nothing in the root namespace):
//   underlay    10.78.0.N on hN; 10.78.0.254 = bridge namespace: nats-server and unbound (port 53)
//   resolver    198.51.100.1–3/32 on lo of h1 and of h2 (each node its own)
//   overlay     9.64.0.0/10, a /24 per node: m-dcos (CNI containers, first half), d-dcos (Docker, second half)
//   dcbr        9.0.N.1/24, the lab's plain container bridge; h1c1 = 9.0.1.2 (a container on a bridge dcnet did not make)
//   names       unbound: www.example.test A 203.0.113.7, app.marathon.mesos A 10.0.0.1
//
// resolv.conf: the hosts' "own" files are /etc/netns/<ns>/resolv.conf, which `ip netns exec` binds
// over /etc/resolv.conf for whatever runs in that namespace (so `getent` there is the host's system
// resolver); h1's node manages its file (dns.resolvConf.path). Containers' files are written the way
// a runtime writes them: from the CNI result's `dns`, or by Docker (`--dns`). Every /etc/netns/<ns>
// folder made here is removed in afterAll, also on failure. The host's real /etc/resolv.conf is never
// read or written.
import { afterAll, beforeAll, describe, expect, jest, test } from "@jest/globals";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { startL4lbLab, type L4lbLab } from "./support/l4lb-lab.js";
import { CniRuntime, type CniNetworkList } from "./support/cni-runtime.js";
import { NetnsDockerd } from "./support/netns-dockerd.js";
import { dockerApi } from "./harness/docker-api.js";
import { ensureHostfsImage } from "./harness/hostfs-image.js";
import { HOSTFS_IMAGE, TEST_LABEL } from "./harness/paths.js";
import { mustRun, runFile, sleep, waitFor } from "./harness/shell.js";
import type { Task } from "../actors/catalogue/model.js";

jest.setTimeout(120_000);

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const RESOLVERS = ["198.51.100.1", "198.51.100.2", "198.51.100.3"];
const UPSTREAM = "10.78.0.254";
const ORIGINAL_H1 = "# h1's own resolv.conf\nnameserver 10.78.0.254\nsearch corp.example\n";
const ORIGINAL_H2 = "# h2's own resolv.conf\nnameserver 10.78.0.254\n";
const EXTERNAL = { name: "www.example.test", ip: "203.0.113.7" };
const MESOS = { name: "app.marathon.mesos", ip: "10.0.0.1" };

interface HostStatus {
  addresses: Array<{ address: string; state: string; udp: boolean; tcp: boolean; detail?: string; problem?: string }>;
  resolvConf: { state: string; error?: string };
}

/** `getent ahosts` lines → the addresses, in order, each once. */
function addressesOf(getent: string): string[] {
  return [...new Set(getent.split("\n").map((l) => l.trim().split(/\s+/)[0] ?? "").filter(Boolean))];
}

describe("DNS everywhere: the host and every kind of container resolve through the node", () => {
  let lab: L4lbLab;
  let dockerd: NetnsDockerd | undefined;
  const netnsDirs: string[] = [];
  let roDir = "";
  let squatterPid: number | undefined;
  let ctrIp = "";
  let names: Record<string, string> = {};

  /** The "own" resolv.conf of a namespace, as `ip netns exec` will bind it. */
  const netnsResolvConf = (ns: string, text?: string): string => {
    const dir = `/etc/netns/${ns}`;
    if (!netnsDirs.includes(dir)) netnsDirs.push(dir);
    mkdirSync(dir, { recursive: true });
    const file = join(dir, "resolv.conf");
    if (text !== undefined) writeFileSync(file, text);
    return file;
  };

  // Not beside the file: `ip netns exec` binds every file of /etc/netns/<ns> over /etc/<file>.
  const h1Backup = (): string => join(lab.dir, "h1-resolv.conf.dcnet-backup");

  const getent = async (ns: string, name: string): Promise<string[]> => {
    const r = await runFile("ip", ["netns", "exec", ns, "getent", "ahosts", name], { timeoutMs: 15_000 });
    return r.code === 0 ? addressesOf(r.stdout) : [`(exit ${r.code})`];
  };

  const resolveAll = async (ns: string): Promise<Record<string, string[]>> => {
    const out: Record<string, string[]> = {};
    for (const name of Object.keys(names)) out[name] = await getent(ns, name);
    return out;
  };

  const expected = (): Record<string, string[]> => Object.fromEntries(Object.entries(names).map(([n, ip]) => [n, [ip]]));

  beforeAll(async () => {
    lab = await startL4lbLab({ hosts: 2, containersPerHost: 1, nodeConfig: { overlay: { enabled: true, subnet: "9.64.0.0/10", reconcileMs: 1000 } } });
    const unboundDir = join(lab.dir, "unbound");
    mkdirSync(unboundDir);
    writeFileSync(
      join(unboundDir, "unbound.conf"),
      [
        "server:",
        `    interface: ${UPSTREAM}`,
        "    port: 53",
        "    do-daemonize: no",
        '    chroot: ""',
        '    username: ""',
        `    directory: "${unboundDir}"`,
        '    pidfile: ""',
        "    use-syslog: no",
        '    logfile: ""',
        "    num-threads: 1",
        "    access-control: 0.0.0.0/0 allow",
        '    module-config: "iterator"',
        "    do-ip6: no",
        '    local-zone: "." static',
        '    local-data: ". 3600 IN SOA a.root.test. hostmaster.root.test. 1 60 600 86400 30"',
        `    local-data: "${EXTERNAL.name}. 300 IN A ${EXTERNAL.ip}"`,
        `    local-data: "${MESOS.name}. 60 IN A ${MESOS.ip}"`,
        "remote-control:",
        "    control-enable: no",
        "",
      ].join("\n"),
    );
    lab.net.run("bridge", "/usr/sbin/unbound", ["-d", "-c", join(unboundDir, "unbound.conf")]);
    netnsResolvConf(lab.ns("h1"), ORIGINAL_H1);
    netnsResolvConf(lab.ns("h2"), ORIGINAL_H2);
    // dockerd sees h1's resolv.conf as the host's: started once the node has installed its own.
    dockerd = new NetnsDockerd(lab.ns("h1"), join(lab.dir, "dockerd-h1"), netnsResolvConf(lab.ns("h1")));
    const common = (h: string) => ({ overlay: { cniConfDir: join(lab.dir, `cni-${h}`), cniStateDir: join(lab.dir, `cni-state-${h}`) }, dns: { resolver: { enabled: true }, mesos: { mode: "forward", resolvers: [UPSTREAM] } } });
    await Promise.all([
      lab.startNode("h1", { ...common("h1"), overlay: { ...common("h1").overlay, docker: dockerd.socketPath }, dns: { ...common("h1").dns, manageResolvConf: true, resolvConf: { path: netnsResolvConf(lab.ns("h1")), backupPath: h1Backup(), search: ["dcos.thisdcos.directory"] } } }),
      lab.startNode("h2", { ...common("h2"), dns: { ...common("h2").dns, upstreams: [UPSTREAM] } }),
    ]);
    await Promise.all([lab.waitForMembers(), dockerd.start().then(() => ensureHostfsImage((dockerd as NetnsDockerd).socketPath))]);
    // A container of h1's overlay, attached by dcnet-cni from the config the node wrote, as a task.
    const own = await waitFor("h1's overlay", 30_000, async () => (await lab.ctlJson<{ own?: { subnet: string } }>("h1", ["--node", "h1", "overlay", "status"])).own, 200);
    expect(own.subnet).toMatch(/^9\./);
  });

  afterAll(async () => {
    if (squatterPid !== undefined) {
      try {
        process.kill(squatterPid, "SIGKILL");
      } catch {
        // gone with its namespace
      }
    }
    await dockerd?.stop().catch((err: unknown) => console.error(`netns dockerd cleanup: ${String(err)}`));
    // The read-only mount is inside the lab's folder: off before the lab removes the folder.
    if (roDir && (await runFile("umount", [roDir])).code !== 0) await runFile("umount", ["-l", roDir]);
    try {
      await lab?.cleanup();
    } finally {
      for (const d of netnsDirs) rmSync(d, { recursive: true, force: true });
    }
  });

  function taskFor(ip: string): Task {
    return { id: "web", name: "web", framework: "marathon", runtime: "native", agentIp: lab.ip("h1"), taskIps: [ip], state: "running", ports: [{ name: "http", protocol: "tcp", port: 80, vips: ["/web:80"] }] };
  }

  const cniContainers: Array<{ ns: string; what: string }> = [];
  let runtime: CniRuntime | undefined;

  test("the resolver addresses are on lo (labelled dcnet's) on both hosts and answer over UDP and TCP", async () => {
    for (const h of ["h1", "h2"]) {
      const lo = JSON.parse(await mustRun("ip", ["-n", lab.ns(h), "-j", "addr", "show", "dev", "lo"])) as Array<{ addr_info: Array<{ local: string; prefixlen: number; label?: string }> }>;
      const ours = (lo[0]?.addr_info ?? []).filter((a) => a.label === "lo:dcnet").map((a) => `${a.local}/${a.prefixlen}`);
      expect(ours.sort()).toEqual(RESOLVERS.map((a) => `${a}/32`));
      const st = await waitFor(`${h} serving every resolver address`, 10_000, async () => {
        const s = await lab.ctlJson<HostStatus>(h, ["--node", h, "dns", "host"]);
        return s.addresses.every((a) => a.udp && a.tcp) ? s : undefined;
      }, 200);
      expect(st.addresses.map((a) => a.state)).toEqual(["added", "added", "added"]);
      for (const server of RESOLVERS) {
        for (const tcp of [false, true]) {
          const r = await lab.dig(h, "thisnode.thisdcos.directory", "A", { server, port: 53, tcp });
          expect({ server, tcp, rcode: r.status, answers: r.answer.map((a) => a.data) }).toEqual({ server, tcp, rcode: "NOERROR", answers: [lab.ip(h)] });
        }
      }
    }
  });

  test("resolv.conf: h1's points at the resolver addresses with its own search kept, the host's file is backed up; h2's (management off) is untouched", () => {
    const file = readFileSync(`/etc/netns/${lab.ns("h1")}/resolv.conf`, "utf8");
    expect(file.startsWith("# Written by dcnet")).toBe(true);
    expect(file.split("\n").filter((l) => /^(nameserver|search|options)/.test(l))).toEqual([...RESOLVERS.map((a) => `nameserver ${a}`), "search dcos.thisdcos.directory corp.example"]);
    expect(readFileSync(h1Backup(), "utf8")).toBe(ORIGINAL_H1);
    expect(readFileSync(`/etc/netns/${lab.ns("h2")}/resolv.conf`, "utf8")).toBe(ORIGINAL_H2);
    expect(existsSync(`/etc/netns/${lab.ns("h2")}/resolv.conf.dcnet-backup`)).toBe(false);
  });

  test("a task's agentip/containerip/autoip, its l4lb name, a .mesos name and an external name resolve from the host (glibc), CNI containers (overlay, and bridge mode with a port mapping), a container on a plain bridge and a Docker container on `dcos`", async () => {
    // dcnet-cni, driven as a runtime drives it, from the conflist the node wrote.
    const network = JSON.parse(readFileSync(join(lab.dir, "cni-h1", "dcos.conflist"), "utf8")) as CniNetworkList;
    expect(network.plugins[0]?.dns).toEqual({ nameservers: RESOLVERS, search: ["dcos.thisdcos.directory"] });
    const binDir = mkdtempSync(join(lab.dir, "cni-bin-"));
    symlinkSync(join(ROOT, "bin/dcnet-cni.js"), join(binDir, "dcnet-cni"));
    runtime = new CniRuntime({ hostNetns: lab.ns("h1"), cniPath: [binDir], network });
    for (const [i, what, caps] of [
      [1, "overlay", {}],
      [2, "bridge mode, port 8080→80", { portMappings: [{ hostPort: 8080, containerPort: 80, protocol: "tcp" }] }],
    ] as const) {
      const ns = `${lab.prefix}-cni${i}`; // the lab's prefix: its cleanup deletes it
      await mustRun("ip", ["netns", "add", ns]);
      await mustRun("ip", ["-n", ns, "link", "set", "lo", "up"]);
      const out = await (runtime as CniRuntime).add({ containerId: `dns-ctr-${i}`, ifname: "eth0", netns: `/run/netns/${ns}` }, caps);
      if (!out.ok) throw new Error(`CNI ADD: ${out.msg}`);
      const result = out.result as { ips: Array<{ address: string }>; dns?: { nameservers: string[]; search?: string[] } };
      // What a runtime does with the result's dns: the container's resolv.conf.
      expect(result.dns?.nameservers).toEqual(RESOLVERS);
      netnsResolvConf(ns, [...(result.dns?.nameservers ?? []).map((n) => `nameserver ${n}`), `search ${(result.dns?.search ?? []).join(" ")}`, ""].join("\n"));
      if (i === 1) ctrIp = (result.ips.find((x) => !x.address.includes(":"))?.address ?? "").split("/")[0] ?? "";
      cniContainers.push({ ns, what });
    }
    expect(ctrIp).toMatch(/^9\./);
    await lab.registerTask("h1", taskFor(ctrIp));
    names = {
      "web.marathon.agentip.dcos.thisdcos.directory": lab.ip("h1"),
      "web.marathon.containerip.dcos.thisdcos.directory": ctrIp,
      "web.marathon.autoip.dcos.thisdcos.directory": ctrIp,
      [MESOS.name]: MESOS.ip,
      [EXTERNAL.name]: EXTERNAL.ip,
    };
    // The named VIP's address comes from the KV: its name resolves once h1's kernel routes it.
    const vip = await waitFor("web.marathon.l4lb.thisdcos.directory on h1", 30_000, async () => {
      const r = await lab.dig("h1", "web.marathon.l4lb.thisdcos.directory", "A", { server: RESOLVERS[0], port: 53 });
      return r.answer[0]?.data;
    }, 250);
    names["web.marathon.l4lb.thisdcos.directory"] = vip;
    await waitFor("the task's names on h1", 15_000, async () => ((await getent(lab.ns("h1"), "web.marathon.containerip.dcos.thisdcos.directory"))[0] === ctrIp ? true : undefined), 200);

    const started = Date.now();
    // The host: glibc through h1's managed resolv.conf; the external name goes h1 → unbound, the
    // host's previous resolver, which the node took as its upstream.
    expect({ place: "host h1", ...(await resolveAll(lab.ns("h1"))) }).toEqual({ place: "host h1", ...expected() });
    for (const c of cniContainers) expect({ place: c.what, ...(await resolveAll(c.ns)) }).toEqual({ place: c.what, ...expected() });
    // A container on a bridge dcnet did not make (the lab's dcbr), its resolv.conf naming the resolver addresses.
    netnsResolvConf(lab.ns("h1c1"), RESOLVERS.map((n) => `nameserver ${n}`).join("\n") + "\n");
    expect({ place: "dcbr container", ...(await resolveAll(lab.ns("h1c1"))) }).toEqual({ place: "dcbr container", ...expected() });

    // Docker on the `dcos` network, with the resolver addresses as its DNS (what Mesos passes as
    // default_container_dns), and without: Docker's embedded DNS then forwards to the host's
    // resolv.conf nameservers, i.e. the resolver addresses the node installed. Either way it
    // forwards from inside the container, through d-dcos.
    // Only the host's /usr is mounted (no /etc: Docker writes the container's resolv.conf), so the
    // script uses no tool behind /etc/alternatives.
    const sock = (dockerd as NetnsDockerd).socketPath;
    await waitFor("the dcos Docker network", 30_000, async () => ((await dockerApi(sock, "GET", "/networks/dcos")).status === 200 ? true : undefined), 200);
    const script = Object.keys(names).map((n) => `echo "${n} $(getent ahosts ${n} | cut -d' ' -f1 | sort -u | tr '\\n' ' ')"`).join("; ");
    for (const [name, dns] of [
      ["docker dcos, --dns the resolver addresses", { Dns: RESOLVERS }],
      ["docker dcos, the host's resolv.conf", {}],
    ] as const) {
      const body = JSON.stringify({ Image: HOSTFS_IMAGE, Cmd: ["sh", "-c", script], Tty: true, Labels: { [TEST_LABEL]: "true" }, HostConfig: { NetworkMode: "dcos", ...dns, Binds: ["/usr:/usr:ro"], Tmpfs: { "/tmp": "rw" } } });
      const created = await dockerApi(sock, "POST", `/containers/create?name=dns-docker-${Object.keys(dns).length}`, { body, contentType: "application/json" });
      expect(created.status).toBe(201);
      const id = (JSON.parse(created.body) as { Id: string }).Id;
      expect((await dockerApi(sock, "POST", `/containers/${id}/start`)).status).toBe(204);
      await dockerApi(sock, "POST", `/containers/${id}/wait`, { timeoutMs: 60_000 });
      const logs = (await dockerApi(sock, "GET", `/containers/${id}/logs?stdout=1&stderr=1`)).body;
      const seen = Object.fromEntries(
        logs
          .split(/\r?\n/)
          .map((l) => l.trim().split(/\s+/))
          .filter((w) => w[0] && w[0] in names)
          .map(([n, ...ips]) => [n as string, ips]),
      );
      if (Object.values(seen).some((ips) => ips.length === 0)) console.error(`${name} output:\n${logs}`);
      expect({ place: name, ...seen }).toEqual({ place: name, ...expected() });
    }
    console.log(`dns-everywhere: ${Object.keys(names).length} names × 6 places resolved in ${Date.now() - started} ms`);
  });

  test("bad input, a container without the route: its lookups fail, and the plugin's CHECK names the resolvers it cannot reach and how to mend it", async () => {
    const ns = cniContainers[0]?.ns as string;
    const gw = (await mustRun("ip", ["-n", ns, "-j", "route", "show", "default"])).match(/"gateway":"([^"]+)"/)?.[1] as string;
    await mustRun("ip", ["-n", ns, "route", "del", "default"]);
    expect(await getent(ns, EXTERNAL.name)).toEqual(["(exit 2)"]);
    const out = await (runtime as CniRuntime).check({ containerId: "dns-ctr-1", ifname: "eth0", netns: `/run/netns/${ns}` });
    expect(out.ok).toBe(false);
    expect(out.ok ? "" : out.msg).toContain(`the default route via ${gw} is missing: its resolvers ${RESOLVERS.join(", ")} (the node's DNS, reached through the gateway) are unreachable, so every DNS lookup in it fails; add it back (ip route add default via ${gw})`);
    await mustRun("ip", ["-n", ns, "route", "add", "default", "via", gw]);
    expect(await getent(ns, EXTERNAL.name)).toEqual([EXTERNAL.ip]);
  });

  test("bad input: an address on another interface, port 53 taken by another process, a read-only resolv.conf — each named with what to do and counted; the node serves the address it could bind, and takes the freed one", async () => {
    await lab.stopNode("h2");
    const h2 = lab.ns("h2");
    // 198.51.100.3 already belongs to eth0; 198.51.100.2:53 is held by another process (UDP and TCP).
    await mustRun("ip", ["-n", h2, "addr", "add", "198.51.100.3/24", "dev", "eth0"]);
    await mustRun("ip", ["-n", h2, "addr", "add", "198.51.100.2/32", "dev", "lo"]);
    const squatter = lab.net.run("h2", process.execPath, ["-e", "const d=require('dgram').createSocket('udp4');d.bind(53,'198.51.100.2');require('net').createServer().listen(53,'198.51.100.2');setInterval(()=>{},1e6)"], { stdio: "ignore", env: { ...process.env, NODE_OPTIONS: "" } });
    squatterPid = squatter.pid;
    await waitFor("the squatter on 198.51.100.2:53", 10_000, async () => ((await lab.exec("h2", "ss", ["-H", "-lnt", "sport = :53"])).stdout.includes("198.51.100.2:53") ? true : undefined), 100);
    // A resolv.conf on a read-only mount (a bind mount of a folder of the lab, in the root mount namespace, undone in afterAll).
    roDir = join(lab.dir, "ro");
    mkdirSync(roDir);
    writeFileSync(join(roDir, "resolv.conf"), ORIGINAL_H2);
    await mustRun("mount", ["--bind", roDir, roDir]);
    await mustRun("mount", ["-o", "remount,bind,ro", roDir]);
    const p = await lab.startNode("h2", { overlay: { cniConfDir: join(lab.dir, "cni-h2"), cniStateDir: join(lab.dir, "cni-state-h2") }, metrics: { listen: "127.0.0.1:9163" }, dns: { resolver: { enabled: true }, upstreams: [UPSTREAM], manageResolvConf: true, resolvConf: { path: join(roDir, "resolv.conf") } } });
    const st = await waitFor("h2's resolver status with the port problem", 15_000, async () => {
      const s = await lab.ctlJson<HostStatus>("h2", ["--node", "h2", "dns", "host"]);
      return s.addresses.find((a) => a.address === "198.51.100.2")?.problem && s.addresses[0]?.udp ? s : undefined;
    }, 200);
    const [a1, a2, a3] = st.addresses;
    expect(a1).toMatchObject({ address: "198.51.100.1", state: "added", udp: true, tcp: true });
    expect(a2).toMatchObject({ address: "198.51.100.2", state: "adopted", udp: false, tcp: false });
    expect(a2?.problem).toContain(`taken by node (pid ${squatterPid}) on 198.51.100.2:53`);
    expect(a3).toMatchObject({ address: "198.51.100.3", state: "conflict" });
    expect(a3?.detail).toContain("already on eth0 (/24)");
    expect(st.resolvConf.state).toBe("failed");
    expect(st.resolvConf.error).toContain("read-only");
    expect(readFileSync(join(roDir, "resolv.conf"), "utf8")).toBe(ORIGINAL_H2);
    // the log says it too, in words
    expect(p.lines().some((l) => String(l.msg).includes("port 53/udp on resolver address 198.51.100.2 is taken by node"))).toBe(true);
    const metrics = (await lab.exec("h2", process.execPath, ["-e", "fetch('http://127.0.0.1:9163/metrics').then(r=>r.text()).then(t=>console.log(t))"])).stdout;
    for (const reason of ["address-conflict", "port-taken", "resolv-conf-read-only"]) expect(metrics).toMatch(new RegExp(`dcnet_dns_resolver_problems_total\\{[^}]*reason="${reason}"[^}]*\\} 1`));
    expect(metrics).toMatch(/dcnet_dns_resolver_listening\{[^}]*address="198.51.100.2"[^}]*transport="udp"[^}]*\} 0/);
    // the address it could bind answers; the one on eth0 too (a local address with port 53 free)
    expect((await lab.dig("h2", "thisnode.thisdcos.directory", "A", { server: "198.51.100.1", port: 53 })).answer.map((a) => a.data)).toEqual([lab.ip("h2")]);
    // the other resolver goes away: the node binds the freed address within its retry period
    process.kill(squatterPid as number, "SIGKILL");
    squatterPid = undefined;
    await waitFor("198.51.100.2 served once freed", 10_000, async () => {
      const s = await lab.ctlJson<HostStatus>("h2", ["--node", "h2", "dns", "host"]);
      return s.addresses[1]?.udp && s.addresses[1]?.tcp && !s.addresses[1]?.problem ? true : undefined;
    }, 250);
    expect((await lab.dig("h2", "thisnode.thisdcos.directory", "A", { server: "198.51.100.2", port: 53, tcp: true })).answer.map((a) => a.data)).toEqual([lab.ip("h2")]);
  });

  test("a node killed (no stop) leaves the host pointing at it; a restart takes its addresses and the backup back as its own; `dcnet node --dns-cleanup` undoes it all without a node", async () => {
    const h1 = lab.ns("h1");
    const file = `/etc/netns/${h1}/resolv.conf`;
    const loAddrs = async (): Promise<string> => mustRun("ip", ["-n", h1, "-o", "addr", "show", "dev", "lo"]);
    await lab.killNode("h1");
    expect(readFileSync(file, "utf8").startsWith("# Written by dcnet")).toBe(true);
    expect((await loAddrs()).match(/198\.51\.100\.\d/g)?.sort()).toEqual(RESOLVERS);
    await lab.startNode("h1");
    const st = await waitFor("h1 serving its resolver addresses again", 10_000, async () => {
      const s = await lab.ctlJson<HostStatus>("h1", ["--node", "h1", "dns", "host"]);
      return s.addresses.every((a) => a.udp && a.tcp) ? s : undefined;
    }, 200);
    expect({ states: st.addresses.map((a) => a.state), resolvConf: st.resolvConf.state }).toEqual({ states: ["owned", "owned", "owned"], resolvConf: "installed" });
    // the host's own file is still the backup (not overwritten with dcnet's), and its resolver still the upstream
    expect(readFileSync(h1Backup(), "utf8")).toBe(ORIGINAL_H1);
    expect(await getent(h1, EXTERNAL.name)).toEqual([EXTERNAL.ip]);
    await lab.killNode("h1");
    const r = await lab.exec("h1", process.execPath, [join(ROOT, "bin/dcnet.js"), "node", "--dns-cleanup", "--config", join(lab.dir, "node-h1.json")], { timeoutMs: 20_000 });
    expect({ code: r.code, out: r.stdout.trim() }).toEqual({ code: 0, out: `dcnet: ${file} restored from dcnet's backup; resolver addresses removed from lo: ${RESOLVERS.join(", ")}` });
    expect(readFileSync(file, "utf8")).toBe(ORIGINAL_H1);
    expect(existsSync(h1Backup())).toBe(false);
    expect(await loAddrs()).not.toContain("198.51.100.");
    // back for the next tests, with its task
    await lab.startNode("h1");
    await lab.registerTask("h1", taskFor(ctrIp));
  });

  test("NATS gone: each node keeps answering on its resolver addresses from its own replica", async () => {
    const name = "web.marathon.containerip.dcos.thisdcos.directory";
    await waitFor("h2's replica has the task", 15_000, async () => ((await lab.dig("h2", name, "A", { server: RESOLVERS[0], port: 53 })).answer[0]?.data === ctrIp ? true : undefined), 200);
    const bridgeNs = lab.ns("bridge");
    const pids = (await mustRun("ip", ["netns", "pids", bridgeNs])).split(/\s+/).filter(Boolean);
    const nats = pids.filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, "utf8").includes("nats-server");
      } catch {
        return false;
      }
    });
    expect(nats).toHaveLength(1);
    process.kill(Number(nats[0]), "SIGKILL");
    await sleep(3000); // past the nodes' ping interval: they know NATS is gone
    for (const h of ["h1", "h2"]) {
      for (const server of RESOLVERS.slice(0, 2)) {
        const r = await lab.dig(h, name, "A", { server, port: 53 });
        expect({ h, server, answers: r.answer.map((a) => a.data) }).toEqual({ h, server, answers: [ctrIp] });
      }
    }
    expect(await getent(lab.ns("h1"), name)).toEqual([ctrIp]);
  });

  test("stop: h1's resolv.conf is the host's own again, the backup gone, the resolver addresses off lo", async () => {
    const p = lab.node("h1");
    await lab.stopNode("h1");
    expect(p?.lines().some((l) => l.msg === "dns: the host's resolv.conf is back")).toBe(true);
    expect(readFileSync(`/etc/netns/${lab.ns("h1")}/resolv.conf`, "utf8")).toBe(ORIGINAL_H1);
    expect(existsSync(h1Backup())).toBe(false);
    const lo = await mustRun("ip", ["-n", lab.ns("h1"), "-o", "addr", "show", "dev", "lo"]);
    expect(lo).not.toContain("198.51.100.");
    expect(readdirSync(`/etc/netns/${lab.ns("h1")}`)).toEqual(["resolv.conf"]);
  });
});
