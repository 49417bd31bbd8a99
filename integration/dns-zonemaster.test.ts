// Conformance: Zonemaster (Debian zonemaster-cli 5.0.2, every test module) run against two dcnet
// nodes serving dcos.thisdcos.directory, and against NSD serving the same records, each behind its own
// fake root (NSD) named in Zonemaster's root hints. Everything runs in a network namespace with only
// its loopback, so no query can leave 127.0.0.0/8 of it. The fake tree causes some findings by itself
// (one NS name — dcos-net's fixed ns.spartan —, addresses in 127/8); those are the allow-list, applied
// to both sides. Beyond it, dcnet must get exactly NSD's findings from WARNING up.
import { afterAll, beforeAll, describe, expect, jest, test } from "@jest/globals";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createNetnsLab, type NetnsLab } from "./harness/netns.js";
import { natsServerBinary } from "./harness/nats-local.js";
import { mustRun, waitFor } from "./harness/shell.js";
import { DCNET_BIN, isReady, spawnDcnet, type DcnetProcess } from "./support/dcnet-process.js";
import { HOST, errors, runZonemaster, startNsd, summary, waitForSoa, writeHints, type Finding } from "./support/zonemaster.js";

jest.setTimeout(90_000);

const ZONE = "dcos.thisdcos.directory";
const NATS = "nats://127.0.0.1:4222";
/** dcnet's side: its fake root, and the two nodes `ns.spartan` resolves to. */
const DCNET = { root: "127.0.0.2", servers: ["127.0.0.10", "127.0.0.11"] } as const;
/** The control: another fake root, and NSD on two addresses serving the records dcnet served. */
const CONTROL = { root: "127.0.1.2", servers: ["127.0.1.10", "127.0.1.11"] } as const;

/**
 * What the fake tree itself causes, on either side: one NS name (dcos-net's zones name only
 * ns.spartan; DELEGATION01 asks for two), and name server addresses in 127/8 (ADDRESS01).
 */
const ALLOWED_ERRORS = new Set([
  "ADDRESS01 NAMESERVER_IP_PRIVATE_NETWORK",
  // DELEGATION01 counts name servers by name: two addresses of one name are still one.
  "DELEGATION01 NOT_ENOUGH_NS_DEL",
  "DELEGATION01 NOT_ENOUGH_NS_CHILD",
  "DELEGATION01 NOT_ENOUGH_IPV4_NS_DEL",
  "DELEGATION01 NOT_ENOUGH_IPV4_NS_CHILD",
]);

const web = { id: "web.1", name: "web", framework: "marathon", runtime: "docker", state: "running", agentIp: "10.0.0.5", taskIps: ["9.0.1.2"], ports: [{ name: "http", protocol: "tcp", port: 80, vips: [] }] };
const db = { id: "db.1", name: "db", framework: "marathon", runtime: "native", state: "running", agentIp: "10.0.0.6", taskIps: ["9.0.1.3", "9.0.1.4"], ports: [] };

/** The root zone of one fake tree: itself at `rootIp`, and the delegation of ZONE to ns.spartan at `servers`. */
function rootZone(rootIp: string, servers: readonly string[]): string {
  return [
    "$TTL 3600",
    ". IN SOA ns.root. hostmaster.root. 1 3600 900 604800 300",
    ". IN NS ns.root.",
    `ns.root. IN A ${rootIp}`,
    `${ZONE}. IN NS ns.spartan.`,
    ...servers.map((ip) => `ns.spartan. IN A ${ip}`),
  ].join("\n");
}

const key = (f: Finding): string => `${f.testcase} ${f.tag}`;

describe("dns - Zonemaster conformance next to NSD, on a loopback-only fake tree", () => {
  let dir: string;
  let lab: NetnsLab;
  const nodes: DcnetProcess[] = [];
  let dcnet: Finding[];
  let control: Finding[];

  const ctl = (node: string, ...args: string[]): Promise<string> => mustRun("ip", ["netns", "exec", lab.ns(HOST), process.execPath, DCNET_BIN, "ctl", "--insecure", "--nats", NATS, "--node", node, ...args], { timeoutMs: 20_000 });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "dcnet-zonemaster-"));
    lab = await createNetnsLab({ hosts: {} });
    // The namespace must have no way out: IPv4 only on lo (the lab's bridge has no port and only an
    // IPv6 link-local address, and Zonemaster runs with IPv6 off), no route but lo's.
    const addrs = await lab.exec(HOST, "ip", ["-o", "addr", "show"]);
    const reachable = addrs.stdout.split("\n").filter((l) => / inet /.test(l) || (/ inet6 /.test(l) && !/ scope link/.test(l)));
    expect(reachable.map((l) => l.split(/\s+/).slice(1, 4).join(" "))).toEqual(["lo inet 127.0.0.1/8", "lo inet6 ::1/128"]);
    const routes = await lab.exec(HOST, "ip", ["-4", "route", "show", "table", "all"]);
    expect(routes.stdout.split("\n").filter((l) => l.trim() !== "" && !/ dev lo /.test(l))).toEqual([]);

    lab.run(HOST, natsServerBinary(), ["-a", "127.0.0.1", "-p", "4222"]);
    await waitFor("nats-server in the lab", 10_000, async () => ((await lab.exec(HOST, "bash", ["-c", "exec 3<>/dev/tcp/127.0.0.1/4222"])).code === 0 ? true : undefined));
    for (const [i, ip] of DCNET.servers.entries()) {
      nodes.push(spawnDcnet(["node", "--nats", NATS, "--id", `zm-${i + 1}`, "--dns-listen", `${ip}:53`, "--metrics-listen", ""], { DCNET_API_LISTEN: "" }, { prefix: ["ip", "netns", "exec", lab.ns(HOST)] }));
    }
    await Promise.all(nodes.map((n) => n.waitForLine(isReady, 30_000)));
    for (const [name, task] of [["web", web], ["db", db]] as const) {
      writeFileSync(join(dir, `${name}.json`), JSON.stringify(task));
      await ctl("zm-1", "task", "add", join(dir, `${name}.json`));
    }
    // Both nodes serve both tasks, with the same SOA serial (it follows the replicated state).
    await waitFor("both nodes serving both tasks with one serial", 15_000, async () => {
      const serials = new Set<string>();
      for (const ip of DCNET.servers) {
        const a = await lab.exec(HOST, "dig", ["+norec", "+short", `@${ip}`, `db.marathon.containerip.${ZONE}`, "A"]);
        if (a.stdout.trim().split("\n").length !== 2) return undefined;
        serials.add((await lab.exec(HOST, "dig", ["+norec", "+short", `@${ip}`, ZONE, "SOA"])).stdout.trim());
      }
      return serials.size === 1 ? true : undefined;
    }, 200);

    const records = await ctl("zm-1", "dns", "records", ZONE);
    expect(records).toMatch(/web\.marathon\.agentip\.dcos\.thisdcos\.directory\.\s+5\s+IN\s+A\s+10\.0\.0\.5/);
    await startNsd(lab, join(dir, "control"), CONTROL.servers, { name: ZONE, text: records });
    await startNsd(lab, join(dir, "root-dcnet"), [DCNET.root], { name: ".", text: rootZone(DCNET.root, DCNET.servers) });
    await startNsd(lab, join(dir, "root-control"), [CONTROL.root], { name: ".", text: rootZone(CONTROL.root, CONTROL.servers) });
    for (const ip of DCNET.servers) await waitForSoa(lab, ip, ZONE, 5000);
    writeHints(join(dir, "hints-dcnet"), DCNET.root);
    writeHints(join(dir, "hints-control"), CONTROL.root);
    // One after the other: the machine's few cores are shared, and timeouts would be findings.
    dcnet = await runZonemaster(lab, join(dir, "hints-dcnet"), ZONE);
    control = await runZonemaster(lab, join(dir, "hints-control"), ZONE);
  });

  afterAll(async () => {
    await Promise.all(nodes.map((n) => n.stop()));
    await lab?.cleanup();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test("every module ran against the servers we started, and only them", () => {
    for (const [findings, side] of [[dcnet, DCNET], [control, CONTROL]] as const) {
      const modules = new Set(findings.map((f) => f.testcase.replace(/\d+$/, "")));
      for (const m of ["BASIC", "ADDRESS", "CONSISTENCY", "DELEGATION", "NAMESERVER", "SYNTAX", "ZONE"]) expect(modules).toContain(m);
      const addresses = new Set(findings.flatMap((f) => [f.args.ns_ip, f.args.ns_ip_list, f.args.address].filter((a): a is string => typeof a === "string").flatMap((a) => a.split(";")).filter(Boolean)));
      expect([...addresses].sort()).toEqual([...side.servers]);
    }
  });

  test("no ERROR or CRITICAL beyond what the fake tree causes, for dcnet and for the NSD control alike", () => {
    expect(errors(control).map(key).filter((k) => !ALLOWED_ERRORS.has(k))).toEqual([]);
    expect(errors(dcnet).map(key).filter((k) => !ALLOWED_ERRORS.has(k))).toEqual([]);
  });

  test("dcnet gets NSD's findings, tag for tag, from INFO up", () => {
    if (process.env.DCNET_ZONEMASTER_PRINT) console.log(summary(dcnet, "INFO").join("\n"));
    expect(summary(dcnet, "INFO")).toEqual(summary(control, "INFO"));
  });

  test("the fixed defects hold under Zonemaster: not a recursor, one SOA serial across two nodes, AXFR refused", () => {
    const tags = new Set(dcnet.map(key));
    expect(tags).toContain("NAMESERVER01 NO_RECURSOR");
    expect(tags).toContain("CONSISTENCY01 ONE_SOA_SERIAL");
    expect(tags).toContain("NAMESERVER03 AXFR_FAILURE");
    expect(tags).toContain("NAMESERVER02 EDNS0_SUPPORT");
  });
});
