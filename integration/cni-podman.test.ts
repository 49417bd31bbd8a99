// dcnet-cni driven by a real CNI runtime: Debian's podman (4.3) with its CNI network backend and a
// network config list naming `dcnet-cni`, as a user would configure it. Podman runs inside a lab
// "host" namespace (nsenter --net, not `ip netns exec`: that one remounts /sys and hides the cgroup
// mounts podman's runc needs), with its own storage, run and config folders under a temp dir, so the
// machine's podman state is never touched. The image is the 31-byte skeleton of stack.md §4.3 with
// /usr and /etc bind-mounted read-only (no registry here).
// Shown: the container gets an address from the plugin's subnet (a lease named by podman's container
// id), reaches and is reached over m-dcos, its `-p` port mapping (the portMappings capability) works
// from another host, and `podman rm` (CNI DEL) leaves no lease, no veth and no mapping.
import { afterAll, beforeAll, describe, expect, jest, test } from "@jest/globals";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createNetnsLab, type NetnsLab } from "./harness/netns.js";
import { mustRun, runFile } from "./harness/shell.js";

jest.setTimeout(120_000);

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const CLIENT = `const net=require("net");const [host,port]=process.argv.slice(1);const s=net.connect({host,port:+port,timeout:1500});let d="";s.on("data",x=>d+=x);s.on("end",()=>{process.stdout.write(d);process.exit(0)});s.on("timeout",()=>{console.error("timeout");process.exit(2)});s.on("error",e=>{console.error(e.message);process.exit(1)})`;
const SERVER = `const net=require("net");net.createServer(s=>s.end("podman-web\\n")).listen(7000,"0.0.0.0")`;
const IMAGE = "localhost/dcnet-hostfs:podman";

describe("dcnet-cni under podman (CNI backend)", () => {
  let lab: NetnsLab;
  let dir: string;
  let H1: string;

  const podman = async (args: readonly string[], timeoutMs = 60_000): Promise<string> => {
    const r = await runFile("env", [`CONTAINERS_CONF=${join(dir, "containers.conf")}`, "nsenter", `--net=/var/run/netns/${H1}`, "podman", "--root", join(dir, "root"), "--runroot", join(dir, "run"), "--storage-driver", "vfs", ...args], { timeoutMs });
    if (r.code !== 0) throw new Error(`podman ${args.join(" ")}: exit ${r.code}: ${r.stderr.trim()}`);
    return r.stdout.trim();
  };
  const leases = (): string[] => readdirSync(join(dir, "leases")).filter((n) => /^[0-9.]+$/.test(n) || n.includes(":"));
  const fetchTag = async (netns: string, host: string, port: number): Promise<string> => {
    const r = await runFile("ip", ["netns", "exec", netns, "node", "-e", CLIENT, host, String(port)], { timeoutMs: 10_000 });
    return r.code === 0 ? r.stdout.trim() : `error: ${r.stderr.trim()}`;
  };
  const veths = async (): Promise<string[]> => (JSON.parse(await mustRun("ip", ["-n", H1, "-j", "link", "show", "type", "veth"])) as Array<{ ifname: string }>).map((l) => l.ifname).filter((n) => n.startsWith("dcv"));

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "dcnet-podman-"));
    for (const d of ["bin", "net.d", "root", "run", "tmp", "leases", "skel"]) mkdirSync(join(dir, d));
    symlinkSync(join(ROOT, "bin/dcnet-cni.js"), join(dir, "bin", "dcnet-cni"));
    writeFileSync(
      join(dir, "containers.conf"),
      [
        "[network]",
        'network_backend = "cni"',
        `cni_plugin_dirs = ["${join(dir, "bin")}", "/usr/lib/cni"]`,
        `network_config_dir = "${join(dir, "net.d")}"`,
        'default_network = "dcos"',
        "[engine]",
        'cgroup_manager = "cgroupfs"',
        'events_logger = "file"',
        `events_logfile_path = "${join(dir, "events.log")}"`,
        'runtime = "runc"',
        `tmp_dir = "${join(dir, "tmp")}"`,
        `static_dir = "${join(dir, "static")}"`,
        `volume_path = "${join(dir, "volumes")}"`,
        "",
      ].join("\n"),
    );
    // The config list a dcnet node writes (actors/overlay/cni-config.ts), for this lab's bridge.
    writeFileSync(
      join(dir, "net.d", "dcos.conflist"),
      JSON.stringify({ cniVersion: "1.0.0", name: "dcos", plugins: [{ type: "dcnet-cni", bridge: "m-dcos", subnet: "9.0.7.0/25", gateway: "9.0.7.1", mtu: 1450, dataDir: join(dir, "leases"), capabilities: { portMappings: true } }] }),
    );
    lab = await createNetnsLab({ hosts: { h1: "10.79.0.1/24", h2: "10.79.0.2/24" } });
    H1 = lab.ns("h1");
    await mustRun("ip", ["-n", H1, "link", "add", "m-dcos", "type", "bridge"]);
    await mustRun("ip", ["-n", H1, "link", "set", "m-dcos", "mtu", "1450", "up"]);
    await mustRun("ip", ["-n", H1, "addr", "add", "9.0.7.1/25", "dev", "m-dcos"]);
    await mustRun("ip", ["netns", "exec", H1, "sysctl", "-qw", "net.ipv4.ip_forward=1"]);
    const skel = join(dir, "skel");
    for (const d of ["usr", "etc", "tmp", "proc", "sys", "dev", "app", "run", "root"]) mkdirSync(join(skel, d));
    for (const [l, t] of [["bin", "usr/bin"], ["lib", "usr/lib"], ["lib64", "usr/lib64"], ["sbin", "usr/sbin"]] as const) symlinkSync(t, join(skel, l));
    const tar = join(dir, "skel.tar");
    await mustRun("tar", ["-C", skel, "-cf", tar, "."]);
    await podman(["import", "-c", "ENV PATH=/usr/sbin:/usr/bin:/sbin:/bin", tar, IMAGE]);
  });

  afterAll(async () => {
    if (dir && H1) await podman(["rm", "-af", "-t", "0"]).catch(() => undefined);
    await lab?.cleanup();
    if (dir && !process.env.KEEP) rmSync(dir, { recursive: true, force: true });
  });

  test("podman run --network dcos -p 8080:7000: an address from the plugin's subnet, reachable over m-dcos and through the port mapping from another host; podman rm leaves nothing", async () => {
    // podman's default nofile/nproc limits exceed this sandbox's hard limits: set lower ones.
    const id = await podman(["run", "-d", "--name", "web", "--network", "dcos", "-p", "8080:7000", "--ulimit", "nofile=4096:4096", "--ulimit", "nproc=4096:4096", "-v", "/usr:/usr:ro", "-v", "/etc:/etc:ro", IMAGE, "node", "-e", SERVER]);
    const ip = await podman(["inspect", "web", "--format", "{{.NetworkSettings.Networks.dcos.IPAddress}}"]);
    expect(await veths()).toHaveLength(1);
    expect(ip).toMatch(/^9\.0\.7\.([2-9]|[1-9][0-9]|1[01][0-9]|12[0-6])$/);
    // The lease is named by the address and records podman's container id, as `ctl overlay leases` shows it.
    expect(leases()).toEqual([ip]);
    expect(JSON.parse(readFileSync(join(dir, "leases", ip), "utf8"))).toMatchObject({ containerId: id, ifname: "eth0" });
    // The MTU of the overlay inside the container.
    expect(await podman(["exec", "web", "cat", "/sys/class/net/eth0/mtu"])).toBe("1450");
    let tag = "";
    for (let i = 0; i < 50 && tag !== "podman-web"; i++) {
      tag = await fetchTag(H1, ip, 7000);
      if (tag !== "podman-web") await new Promise((r) => setTimeout(r, 100));
    }
    expect(tag).toBe("podman-web");
    expect(await fetchTag(lab.ns("h2"), "10.79.0.1", 8080)).toBe("podman-web");
    expect(await mustRun("ip", ["netns", "exec", H1, "nft", "list", "map", "ip", "dcnet-portmap", "ports"])).toMatch(/8080/);

    await podman(["rm", "-f", "-t", "0", "web"]);
    expect(leases()).toEqual([]);
    expect(await veths()).toEqual([]);
    expect(await mustRun("ip", ["netns", "exec", H1, "nft", "list", "map", "ip", "dcnet-portmap", "ports"])).not.toMatch(/8080/);
    expect(await fetchTag(lab.ns("h2"), "10.79.0.1", 8080)).toMatch(/^error/);
  });
});
