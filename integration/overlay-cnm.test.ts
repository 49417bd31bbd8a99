// CNM end to end: a 2-host overlay lab (integration/support/l4lb-lab.ts) with a SECOND private
// dockerd inside host h1's network namespace (the harness's own dockerd lives in the root
// namespace and must not carry the overlay). The node on h1 runs with overlay.docker = that
// dockerd's socket and creates the `dcos` Docker network on d-dcos with the second half of its
// subnet; a `docker run --network dcos` container then reaches a container on h2 over VXLAN, and is
// reached from it. The dockerd enters only h1's network namespace (`nsenter --net`: `ip netns exec`
// would remount /sys without the cgroup hierarchies dockerd needs), so its mounts are in the root
// mount namespace under its folder; afterAll removes its containers, stops it, kills what it left
// running, unmounts and deletes the folder, also on failure.
import { afterAll, beforeAll, describe, expect, jest, test } from "@jest/globals";
import { execFile } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { startL4lbLab, type L4lbLab } from "./support/l4lb-lab.js";
import { NetnsDockerd } from "./support/netns-dockerd.js";
import { dockerApi, dockerJson } from "./harness/docker-api.js";
import { ensureHostfsImage } from "./harness/hostfs-image.js";
import { HOSTFS_IMAGE, REPO_ROOT, TEST_LABEL } from "./harness/paths.js";
import { mustRun, waitFor } from "./harness/shell.js";
import { formatIp, parseIp } from "../config/ip.js";

jest.setTimeout(180_000);

const ECHO = fileURLToPath(new URL("./harness/l4lb-echo.mjs", import.meta.url));
const CLIENT = fileURLToPath(new URL("./harness/l4lb-client.mjs", import.meta.url));
const PORT = 7000;

interface Status {
  own?: { subnet: string; subnet6?: string };
  mtu?: number;
  peers: Array<{ node: string; state: string }>;
}

/** `9.77.3.0/24`, 10 → `9.77.3.10`. */
function addrIn(subnet: string, n: number): string {
  const ip = parseIp(subnet.split("/")[0] ?? "");
  return ip ? formatIp(ip.family, ip.value + BigInt(n)) : "";
}

function execIn(ns: string, file: string, args: readonly string[], timeoutMs = 30_000): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile("ip", ["netns", "exec", ns, file, ...args], { timeout: timeoutMs, env: { ...process.env, NODE_OPTIONS: "" } }, (err, stdout, stderr) => (err ? reject(new Error(`${file} ${args.join(" ")}: ${stderr || err.message}`)) : resolve(stdout))),
  );
}

interface Inspect {
  State: { Pid: number; Running: boolean };
  NetworkSettings: { Networks: Record<string, { IPAddress: string; IPPrefixLen: number; Gateway: string }> };
}

describe("overlay CNM: `docker run --network dcos` containers join the overlay", () => {
  let lab: L4lbLab;
  let dockerd: NetnsDockerd | undefined;
  const status = new Map<string, Status>();
  let dockerIp = "";

  const runContainer = async (name: string, cmd: readonly string[], tty = false): Promise<string> => {
    const sock = (dockerd as NetnsDockerd).socketPath;
    const body = JSON.stringify({
      Image: HOSTFS_IMAGE,
      Cmd: cmd,
      Tty: tty,
      Labels: { [TEST_LABEL]: "true" },
      HostConfig: { NetworkMode: "dcos", Binds: ["/usr:/usr:ro", "/etc:/etc:ro", `${REPO_ROOT}:/app:ro`], Tmpfs: { "/tmp": "rw" } },
    });
    const r = await dockerApi(sock, "POST", `/containers/create?name=${name}`, { body, contentType: "application/json" });
    if (r.status !== 201) throw new Error(`create ${name}: ${r.status} ${r.body}`);
    const id = (JSON.parse(r.body) as { Id: string }).Id;
    const s = await dockerApi(sock, "POST", `/containers/${id}/start`);
    if (s.status !== 204) throw new Error(`start ${name}: ${s.status} ${s.body}`);
    return id;
  };

  const inContainerPath = (file: string): string => `/app/${file.slice(REPO_ROOT.length + 1)}`;

  beforeAll(async () => {
    lab = await startL4lbLab({ hosts: 2, containersPerHost: 0, nodeConfig: { l4lb: { enabled: false }, overlay: { enabled: true, subnet: "9.64.0.0/10", reconcileMs: 1000 } } });
    dockerd = new NetnsDockerd(lab.ns("h1"), join(lab.dir, "dockerd-h1"));
    await dockerd.start();
    await ensureHostfsImage(dockerd.socketPath);
    for (const h of ["h1", "h2"]) {
      const docker = h === "h1" ? { docker: dockerd.socketPath } : {};
      await lab.startNode(h, { overlay: { cniConfDir: join(lab.dir, `cni-${h}`), cniStateDir: join(lab.dir, `cni-state-${h}`), ...docker } });
    }
    await lab.waitForMembers();
    for (const h of ["h1", "h2"]) {
      status.set(h, await waitFor(`${h}'s overlay with its peer programmed`, 30_000, async () => {
        const s = await lab.ctlJson<Status>(h, ["--node", h, "overlay", "status"]);
        return s.own && s.peers.some((p) => p.state === "programmed") ? s : undefined;
      }, 200));
    }
    // A container on h2's m-dcos (as dcnet-cni makes one), with a TCP echo saying who it is.
    const own2 = status.get("h2")?.own as NonNullable<Status["own"]>;
    const mtu = String(status.get("h2")?.mtu);
    const ns = `${lab.net.prefix}-c2`;
    await mustRun("ip", ["netns", "add", ns]);
    await mustRun("ip", ["-n", lab.ns("h2"), "link", "add", "ve-c2", "mtu", mtu, "type", "veth", "peer", "name", "eth0", "netns", ns]);
    await mustRun("ip", ["-n", lab.ns("h2"), "link", "set", "ve-c2", "master", "m-dcos", "up"]);
    await mustRun("ip", ["-n", ns, "link", "set", "lo", "up"]);
    await mustRun("ip", ["-n", ns, "link", "set", "eth0", "mtu", mtu, "up"]);
    await mustRun("ip", ["-n", ns, "addr", "add", `${addrIn(own2.subnet, 10)}/25`, "dev", "eth0"]);
    await mustRun("ip", ["-n", ns, "route", "add", "default", "via", addrIn(own2.subnet, 1)]);
    // Killed with its namespace by the lab's cleanup (every namespace with the lab's prefix).
    execFile("ip", ["netns", "exec", ns, process.execPath, ECHO, "ctr-h2", "--tcp", String(PORT)], { env: { ...process.env, NODE_OPTIONS: "" } }).unref();
  });
  afterAll(async () => {
    await dockerd?.stop().catch((err: unknown) => console.error(`netns dockerd cleanup: ${String(err)}`));
    await lab?.cleanup();
  });

  test("the node creates the dcos Docker network: second half of its subnet, on d-dcos, the overlay's MTU", async () => {
    const own = status.get("h1")?.own as NonNullable<Status["own"]>;
    const sock = (dockerd as NetnsDockerd).socketPath;
    const net = await waitFor("the dcos Docker network", 30_000, async () => {
      const r = await dockerApi(sock, "GET", "/networks/dcos");
      return r.status === 200 ? (JSON.parse(r.body) as { Driver: string; IPAM: { Config: Array<{ Subnet: string; Gateway: string }> }; Options: Record<string, string> }) : undefined;
    }, 200);
    expect(net.Driver).toBe("bridge");
    expect(net.IPAM.Config.find((c) => !c.Subnet.includes(":"))).toEqual({ Subnet: `${addrIn(own.subnet, 128)}/25`, Gateway: addrIn(own.subnet, 129) });
    expect(net.Options).toMatchObject({ "com.docker.network.bridge.name": "d-dcos", "com.docker.network.driver.mtu": String(status.get("h1")?.mtu) });
  });

  test("a `docker run --network dcos` container gets an address of that half on d-dcos and is reached from a container on another host", async () => {
    const own = status.get("h1")?.own as NonNullable<Status["own"]>;
    const sock = (dockerd as NetnsDockerd).socketPath;
    const id = await runContainer("cnm-echo", ["node", inContainerPath(ECHO), "ctr-docker", "--tcp", String(PORT)]);
    const info = await dockerJson<Inspect>(sock, "GET", `/containers/${id}/json`);
    const ep = info.NetworkSettings.Networks.dcos;
    dockerIp = ep?.IPAddress ?? "";
    expect({ prefix: ep?.IPPrefixLen, gateway: ep?.Gateway }).toEqual({ prefix: 25, gateway: addrIn(own.subnet, 129) });
    const last = Number(dockerIp.split(".")[3]);
    expect(dockerIp.split(".").slice(0, 3).join(".")).toBe(own.subnet.split(".").slice(0, 3).join("."));
    expect(last).toBeGreaterThan(129);
    // Its host end is a port of d-dcos in h1's namespace (not of anything in the root namespace).
    expect((await execIn(lab.ns("h1"), "ip", ["-o", "link", "show", "master", "d-dcos"])).trim()).not.toBe("");
    const summary = await waitFor("h2's container reaching the Docker container", 20_000, async () => {
      const out = await execIn(`${lab.net.prefix}-c2`, process.execPath, [CLIENT, "tcp-count", "--addr", dockerIp, "--port", String(PORT), "--n", "20", "--concurrency", "4"]);
      const s = JSON.parse(out.trim().split("\n").pop() ?? "{}") as { ok: number; counts: Record<string, number> };
      return s.ok === 20 ? s : undefined;
    }, 300);
    expect(summary.counts).toEqual({ "ctr-docker": 20 });
  });

  test("a Docker container reaches the container on the other host over the overlay", async () => {
    const sock = (dockerd as NetnsDockerd).socketPath;
    const target = addrIn(status.get("h2")?.own?.subnet ?? "", 10);
    // Tty: the logs come back as plain text, not multiplexed frames.
    const id = await runContainer("cnm-client", ["node", inContainerPath(CLIENT), "tcp-count", "--addr", target, "--port", String(PORT), "--n", "20", "--concurrency", "4"], true);
    const waited = await dockerApi(sock, "POST", `/containers/${id}/wait`, { timeoutMs: 60_000 });
    expect((JSON.parse(waited.body) as { StatusCode: number }).StatusCode).toBe(0);
    const logs = await dockerApi(sock, "GET", `/containers/${id}/logs?stdout=1&stderr=1`);
    const lines = logs.body.trim().split(/\r?\n/);
    const summary = JSON.parse(lines.pop() ?? "{}") as { ok: number; counts: Record<string, number> };
    expect({ ok: summary.ok, counts: summary.counts }).toEqual({ ok: 20, counts: { "ctr-h2": 20 } });
  });
});
