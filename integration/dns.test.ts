// DNS on a real node process, asked with dig and kdig: the dcos-dns zones from a Mesos master's
// Operator API stream (dcos-net's operator-api.json), `.mesos` from the same master's /master/state
// (Mesos-DNS's fake.json, compared with the upstream oracle record set), the mirror, thisnode,
// custom CNAME zones, renames, negative answers, EDNS0 and TCP fallback, forwarding to a real
// unbound, the metrics endpoint, malformed traffic, and actor crashes during a dnsperf run.
import { afterAll, beforeAll, describe, expect, jest, test } from "@jest/globals";
import { execFile } from "node:child_process";
import { createSocket } from "node:dgram";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import * as dnsPacket from "dns-packet";
import { startNatsServer, type NatsServerHandle } from "./harness/nats-local.js";
import { startMesosMaster, type MesosMaster } from "./support/mesos-master.js";
import { spawnDcnet, runDcnet, isReady, type DcnetProcess } from "./support/dcnet-process.js";
import { connectAdmin, within, type TestAdmin } from "./support/admin.js";
import { freePort } from "./support/ports.js";
import { dig, kdig, type DigResult } from "./support/dig.js";
import { startUnbound, type UnboundServer } from "../testkit/dns/servers.js";
import { malformed, seededRandom } from "./support/dns-fuzz.js";
import { oracleRecords } from "../testkit/dns/mesos-dns-oracle.js";

jest.setTimeout(120_000);
const run = promisify(execFile);

const SHARED = new URL("../../shared/fixtures/", import.meta.url);
const OPERATOR_API = readFileSync(new URL("dcos-net/operator-api.json", SHARED), "utf8").split("\n").filter((l) => l.trim() !== "");
const FAKE_STATE = JSON.parse(readFileSync(new URL("mesos-dns/factories/fake.json", SHARED), "utf8")) as unknown;
const NODE = "dns-1";
const NODE_IP = "10.7.0.1";
const ZONE = "dcos.thisdcos.directory";

// dcos_dns_mesos_tests.erl basic_test_: [app, agentip, autoip, containerip].
const BASIC: Array<[string, string, string, string]> = [
  ["none-on-host", "172.17.0.4", "172.17.0.4", "172.17.0.4"],
  ["none-on-dcos", "172.17.0.4", "9.0.2.5", "9.0.2.5"],
  ["ucr-on-bridge", "172.17.0.3", "172.17.0.3", "172.31.254.3"],
  ["docker-on-dcos", "172.17.0.4", "9.0.2.130", "9.0.2.130"],
  ["pod-on-bridge", "172.17.0.3", "172.17.0.3", "172.31.254.4"],
];

const data = (r: DigResult, type = "A") => r.answer.filter((a) => a.type === type).map((a) => a.data).sort();

describe("dns - one node, asked with dig and kdig", () => {
  let dir: string;
  let nats: NatsServerHandle;
  let master: MesosMaster;
  let upstream: UnboundServer;
  let corp: UnboundServer;
  let node: DcnetProcess;
  let t: TestAdmin;
  let server: { host: string; port: number };
  let metricsUrl: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "dcnet-dns-"));
    nats = await startNatsServer({});
    master = await startMesosMaster({ script: OPERATOR_API, heartbeatMs: 1000, masterState: FAKE_STATE });
    upstream = await startUnbound({ localZones: ['"example.test." static'], localData: ["www.example.test. 300 IN A 10.20.0.1", "example.test. 300 IN SOA ns.example.test. admin.example.test. 1 60 60 60 30"] });
    corp = await startUnbound({ localZones: ['"corp.test." static'], localData: ["app.corp.test. 60 IN A 10.30.0.1"] });
    const port = await freePort();
    const metricsPort = await freePort();
    server = { host: "127.0.0.1", port };
    metricsUrl = `http://127.0.0.1:${metricsPort}/metrics`;
    writeFileSync(
      join(dir, "node.yaml"),
      [
        "admin:\n  allowCrash: true",
        "mesos:\n  tasksReadinessMs: 300",
        "dns:",
        `  listen: ["127.0.0.1:${port}"]`,
        `  upstreams: ["127.0.0.1:${upstream.port}"]`,
        `  forwardZones: {"corp.test": ["127.0.0.1:${corp.port}"]}`,
        "  tcpIdleMs: 1500",
        `  thisnode: {ip: "${NODE_IP}", publicIps: ["203.0.113.7"]}`,
        '  zones: {"component.thisdcos.directory": [{type: cname, name: registry, value: master.dcos.thisdcos.directory}]}',
        "  mesos:\n    refreshMs: 500",
        `metrics:\n  listen: "127.0.0.1:${metricsPort}"`,
        "",
      ].join("\n"),
    );
    node = spawnDcnet(["node", "--config", join(dir, "node.yaml"), "--nats", nats.url, "--id", NODE, "--mesos", master.url]);
    await node.waitForLine(isReady, 30_000);
    t = await connectAdmin([nats.url], 10_000);
    // The zones are ready once both sources are in: the operator stream's tasks and /master/state's records.
    await within(30_000, async () => {
      expect(data(await dig(server, [`none-on-dcos.marathon.autoip.${ZONE}`]))).toEqual(["9.0.2.5"]);
      expect(data(await dig(server, ["liquor-store.marathon.mesos"])).length).toBeGreaterThan(0);
    });
  });

  afterAll(async () => {
    await t?.close();
    await node?.stop();
    await master?.close().catch(() => undefined);
    await upstream?.stop();
    await corp?.stop();
    await nats?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test.each(BASIC)("dcos-net basic_test_ %s: agentip %s, autoip %s, containerip %s over UDP (dig) and TCP (kdig)", async (app, agent, auto, container) => {
    for (const [kind, ip] of [["agentip", agent], ["autoip", auto], ["containerip", container]] as const) {
      const name = `${app}.marathon.${kind}.${ZONE}`;
      const udp = await dig(server, [name, "A"]);
      expect([udp.status, data(udp), udp.flags.includes("aa"), udp.answer[0]?.ttl]).toEqual(["NOERROR", [ip], true, 5]);
      const tcp = await kdig(server, ["+tcp", name, "A"]);
      expect([tcp.status, data(tcp)]).toEqual(["NOERROR", [ip]]);
    }
  });

  test("IPv6 containers get AAAA (docker-on-ipv6), and master./leader. name this node", async () => {
    expect(data(await dig(server, [`docker-on-ipv6.marathon.containerip.${ZONE}`, "AAAA"]), "AAAA")).toEqual(["fd01:b::2:8000:0:2"]);
    expect(data(await dig(server, [`master.${ZONE}`]))).toEqual([NODE_IP]);
    expect(data(await dig(server, [`leader.${ZONE}`]))).toEqual([NODE_IP]);
  });

  test(".mesos is record for record the Mesos-DNS oracle for fake.json (except the names that depend on the Mesos-DNS process's own config)", async () => {
    // master*/leader follow the configured masters and state.leader, mesos-dns./ns1. the server's own address.
    const configDependent = /^(master\d*|leader|mesos-dns|ns1)\.mesos\.$|^_leader\._(tcp|udp)\.mesos\.$/;
    const expected = oracleRecords("fake.json.default-rfc1123.tsv")
      .map((line) => {
        const [type, name, v] = line.split("\t") as [string, string, string];
        if (type !== "SRV") return `${type} ${name} ${v}`;
        const at = v.lastIndexOf(":");
        return `SRV ${name} ${v.slice(at + 1)} ${v.slice(0, at)}`;
      })
      .filter((r) => !configDependent.test(r.split(" ")[1] as string))
      .sort();
    const got = (await t.admin.request(NODE, "dns-records", { zone: "mesos" })).rows
      .filter((r) => r.type !== "SOA" && r.type !== "NS" && !configDependent.test(r.name))
      .map((r) => (r.type === "SRV" ? `SRV ${r.name} ${r.data.split(" ")[2]} ${r.data.split(" ")[3]}` : `${r.type} ${r.name} ${r.data}`))
      .sort();
    expect(got.length).toBe(expected.length);
    expect(got).toEqual(expected);
    // and as a client sees it: SRV with the targets' addresses in the additional section, TTL 60
    const srv = await dig(server, ["_liquor-store._tcp.marathon.mesos", "SRV"]);
    expect(srv.status).toBe("NOERROR");
    expect(srv.answer.every((a) => a.type === "SRV" && a.ttl === 60)).toBe(true);
    expect(srv.additional.some((a) => a.type === "A")).toBe(true);
    expect(data(await dig(server, ["leader.mesos"]))).toEqual(["1.2.3.4"]);
    // agents, frameworks and .slave names, as dig shows them (values from the oracle)
    expect(data(await dig(server, ["slave.mesos"]))).toEqual(["1.2.3.10", "1.2.3.11", "1.2.3.12"]);
    expect(data(await dig(server, ["slave.mesos", "AAAA"]), "AAAA")).toEqual(["2001:db8::1"]);
    expect(data(await dig(server, ["liquor-store-zasmd-1.marathon.slave.mesos"]))).toEqual(["1.2.3.12"]);
    expect(data(await dig(server, ["nopid.mesos"]))).toEqual(["127.0.0.1"]);
    expect(data(await dig(server, ["_framework._tcp.marathon.mesos", "SRV"]), "SRV")).toEqual(["0 1 25501 marathon.mesos."]);
  });

  test("mesos.thisdcos.directory mirrors .mesos with TTL 5", async () => {
    const a = await dig(server, ["liquor-store.marathon.mesos.thisdcos.directory"]);
    expect(data(a)).toEqual(data(await dig(server, ["liquor-store.marathon.mesos"])));
    expect(a.answer[0]?.ttl).toBe(5);
    const srv = await dig(server, ["_liquor-store._tcp.marathon.mesos.thisdcos.directory", "SRV"]);
    expect(srv.answer.length).toBeGreaterThan(0);
    expect(srv.answer.every((r) => r.data.endsWith(".marathon.slave.mesos.thisdcos.directory.") || r.data.endsWith(".marathon.mesos.thisdcos.directory."))).toBe(true);
  });

  test("thisnode, public.thisnode, a custom CNAME zone chased to master, and the .thisdcos.global rename", async () => {
    expect(data(await dig(server, ["thisnode.thisdcos.directory"]))).toEqual([NODE_IP]);
    expect(data(await dig(server, ["public.thisnode.thisdcos.directory"]))).toEqual(["203.0.113.7"]);
    const cname = await dig(server, ["registry.component.thisdcos.directory"]);
    expect(cname.answer.map((a) => `${a.type} ${a.data}`)).toEqual([`CNAME master.${ZONE}.`, `A ${NODE_IP}`]);
    const global = await dig(server, ["none-on-dcos.marathon.autoip.dcos.thisdcos.global"]);
    expect(global.answer.map((a) => `${a.name} ${a.data}`)).toEqual(["none-on-dcos.marathon.autoip.dcos.thisdcos.global. 9.0.2.5"]);
  });

  test("NXDOMAIN for a missing name and NODATA for a missing type, each with the zone SOA (negative TTL 1) in authority", async () => {
    const nx = await dig(server, [`nobody.marathon.autoip.${ZONE}`]);
    expect([nx.status, nx.answer.length, nx.authority.map((a) => `${a.name} ${a.type} ${a.ttl}`)]).toEqual(["NXDOMAIN", 0, [`${ZONE}. SOA 1`]]);
    const nodata = await dig(server, [`none-on-dcos.marathon.autoip.${ZONE}`, "AAAA"]);
    expect([nodata.status, nodata.answer.length, nodata.authority.map((a) => a.type)]).toEqual(["NOERROR", 0, ["SOA"]]);
    // an empty non-terminal exists: NODATA, not NXDOMAIN
    expect((await dig(server, [`marathon.autoip.${ZONE}`])).status).toBe("NOERROR");
    // RFC mode for .mesos by default: a missing SRV is NXDOMAIN with the SOA (Mesos-DNS would say NOERROR, empty)
    const srv = await dig(server, ["_nothing._tcp.marathon.mesos", "SRV"]);
    expect([srv.status, srv.authority.map((a) => a.type)]).toEqual(["NXDOMAIN", ["SOA"]]);
    // the apex answers SOA and NS itself (dcos-net's values)
    const soa = (await dig(server, [ZONE, "SOA"])).answer;
    expect(soa).toHaveLength(1);
    expect(`${soa[0]?.ttl} ${soa[0]?.data}`).toMatch(/^5 ns\.spartan\. support\.mesosphere\.com\. \d+ 60 180 86400 1$/);
    expect((await dig(server, [ZONE, "NS"])).answer.map((a) => `${a.ttl} ${a.data}`)).toEqual(["3600 ns.spartan."]);
    expect((await dig(server, ["mesos", "NS"])).answer.map((a) => a.data)).toEqual(["ns1.mesos."]);
  });

  test("EDNS0: the client's size is honoured and OPT echoed; 128 A records are truncated (TC) over UDP and complete over TCP", async () => {
    expect((await dig(server, [`leader.${ZONE}`, "+bufsize=1232"])).opt?.udp).toBeGreaterThanOrEqual(512);
    expect((await dig(server, [`leader.${ZONE}`, "+noedns"])).opt).toBeUndefined();
    const tasks = Array.from({ length: 128 }, (_, i) => ({
      id: `big-${i}`,
      name: "big",
      framework: "fleet",
      runtime: "native",
      agentIp: "10.1.0.1",
      taskIps: [`10.60.${Math.floor(i / 200)}.${(i % 200) + 1}`],
      state: "running" as const,
      ports: [],
    }));
    await Promise.all(tasks.map((task) => t.admin.request(NODE, "task-add", { task })));
    const name = `big.fleet.containerip.${ZONE}`;
    await within(10_000, async () => expect((await kdig(server, ["+tcp", name])).answer).toHaveLength(128));
    const noEdns = await dig(server, [name, "+noedns", "+ignore"]);
    expect(noEdns.flags).toContain("tc");
    expect(noEdns.answer.length).toBeLessThan(128);
    const fallback = await dig(server, [name, "+noedns"]);
    expect(fallback.retriedTcp).toBe(true);
    expect(fallback.answer).toHaveLength(128);
    const big = await dig(server, [name, "+bufsize=4096", "+ignore"]);
    expect([big.flags.includes("tc"), big.answer.length]).toEqual([false, 128]);
    const kUdp = await kdig(server, ["+notcp", "+ignore", "+noedns", name]);
    expect(kUdp.flags).toContain("tc");
  });

  test("names outside the zones go to unbound: UDP in UDP out, TCP in TCP out, forward_zones by suffix, NXDOMAIN relayed, second ask from the cache", async () => {
    expect(data(await dig(server, ["www.example.test"]))).toEqual(["10.20.0.1"]);
    expect(data(await dig(server, ["+tcp", "www.example.test"]))).toEqual(["10.20.0.1"]);
    expect(data(await dig(server, ["app.corp.test"]))).toEqual(["10.30.0.1"]);
    expect((await dig(server, ["missing.example.test"])).status).toBe("NXDOMAIN");
    const again = await dig(server, ["www.example.test"]);
    expect(again.answer[0]?.ttl).toBeLessThanOrEqual(300);
    const metrics = await (await fetch(metricsUrl)).text();
    expect(metrics).toMatch(/dcnet_dns_forward_cache_total\{result="hit"[^}]*\} [1-9]/);
  });

  test("GET /metrics serves every metric of the node: DNS by type, rcode and zone, latency, zone sizes, and the gossip and transport ones", async () => {
    const res = await fetch(metricsUrl);
    expect(res.headers.get("content-type")).toContain("text/plain");
    const text = await res.text();
    expect(text).toMatch(/dcnet_dns_queries_total\{transport="udp",type="A",rcode="NOERROR",zone="dcos\.thisdcos\.directory"[^}]*\} \d+/);
    expect(text).toMatch(/dcnet_dns_queries_total\{[^}]*rcode="NXDOMAIN"/);
    expect(text).toMatch(/dcnet_dns_request_duration_seconds_bucket\{/);
    expect(text).toMatch(/dcnet_dns_zone_records\{zone="mesos"[^}]*\} [1-9]/);
    expect(text).toMatch(/dcnet_gossip_/);
    expect(text).toMatch(/dcnet_transport_|dcnet_nats_/);
    // UDP runs on the batched engine here (the default where the addon is built, as npm ci does).
    const listen = `${server.host}:${server.port}`.replace(/\./g, "\\.");
    const value = (metric: string, labels: string) => Number(new RegExp(`^${metric}\\{${labels}[^}]*\\} (\\d+)$`, "m").exec(text)?.[1]);
    expect(value("dcnet_dns_udp_engine", `listen="${listen}",engine="batch"`)).toBe(1);
    expect(value("dcnet_dns_udp_engine", `listen="${listen}",engine="dgram"`)).toBe(0);
    const count = (result: string) => value("dcnet_dns_udp_datagrams_total", `listen="${listen}",result="${result}"`);
    expect(count("received")).toBeGreaterThan(10);
    expect(count("sent")).toBeGreaterThan(10);
    expect(count("batches")).toBeGreaterThan(0);
    expect(count("batches")).toBeLessThanOrEqual(count("received"));
    // every query read by the batch engine has its time in the socket buffer observed
    expect(value("dcnet_dns_udp_queued_seconds_count", `transport="udp"`)).toBe(count("received"));
  });

  test("issue 16: RA on a node that forwards; IXFR REFUSED over UDP and TCP; QCLASS ANY not authoritative; EDNS version 1 is BADVERS, counted, not warned about", async () => {
    // defect 1: this node has upstreams, so its own answers offer recursion
    const own = await dig(server, [`leader.${ZONE}`]);
    expect([own.status, own.flags.includes("aa"), own.flags.includes("ra")]).toEqual(["NOERROR", true, true]);
    // defect 2: IXFR carries the client's SOA in authority; REFUSED like AXFR, not FORMERR
    // kdig treats IXFR as a transfer: a refusal makes it exit non-zero, naming the rcode it got (dig prints no header for it)
    for (const transport of ["+notcp", "+tcp"]) {
      const said = await run("kdig", [`@${server.host}`, "-p", String(server.port), "+retry=0", "+time=3", transport, ZONE, "IXFR=1"], { timeout: 15_000 }).then(
        (r) => `${r.stdout}${r.stderr}`,
        (e: { stdout?: string; stderr?: string }) => `${e.stdout ?? ""}${e.stderr ?? ""}`,
      );
      expect([transport, said]).toEqual([transport, expect.stringContaining("server replied with error 'REFUSED'")]);
    }
    // defect 5: class ANY answers, without AA
    const any = await dig(server, ["-c", "ANY", `leader.${ZONE}`]);
    expect([any.status, any.answer.length > 0, any.flags.includes("aa")]).toEqual(["NOERROR", true, false]);
    // defect 7: BADVERS is an answer, counted in its own metric, no malformed warning
    const malformedBefore = await malformedCount(metricsUrl);
    const warningsBefore = node.lines().filter((l) => /malformed DNS message/.test(String(l.msg))).length;
    const v1 = await dig(server, ["+edns=1", "+noednsnegotiation", `leader.${ZONE}`]);
    expect(v1.status).toBe("BADVERS");
    const text = await (await fetch(metricsUrl)).text();
    expect(Number(/^dcnet_dns_edns_badvers_total\{[^}]*transport="udp"[^}]*\} (\d+)$/m.exec(text)?.[1])).toBeGreaterThanOrEqual(1);
    expect(await malformedCount(metricsUrl)).toBe(malformedBefore);
    expect(node.lines().filter((l) => /malformed DNS message/.test(String(l.msg))).length).toBe(warningsBefore);
  });

  test("issue 16 defect 4: a TSIG-signed query (no keys configured) is NOTAUTH with TSIG error BADKEY, with and without EDNS, over UDP and TCP", async () => {
    for (const extra of [[], ["+noedns"], ["+tcp"]]) {
      const out = await run("dig", [`@${server.host}`, "-p", String(server.port), "+tries=1", "+time=3", "-y", "hmac-sha256:k1:c2VjcmV0c2VjcmV0c2VjcmV0", ...extra, `leader.${ZONE}`], { timeout: 15_000 }).then(
        (r) => `${r.stdout}${r.stderr}`,
        (e: { stdout?: string; stderr?: string }) => `${e.stdout ?? ""}${e.stderr ?? ""}`,
      );
      expect([extra, /status: (\w+)/.exec(out)?.[1], /BADKEY/.test(out)]).toEqual([extra, "NOTAUTH", true]);
    }
  });

  test("dcnet ctl dns records and dns lookup, as a user types them", async () => {
    const records = await runDcnet(["ctl", "--nats", nats.url, "--node", NODE, "dns", "records", "thisnode.thisdcos.directory"]);
    expect(records.code).toBe(0);
    expect(records.stdout).toContain(`thisnode.thisdcos.directory.\t5\tIN\tA\t${NODE_IP}`);
    const lookup = await runDcnet(["ctl", "--nats", nats.url, "--node", NODE, "dns", "lookup", "www.example.test"]);
    expect(lookup.code).toBe(0);
    expect(lookup.stdout).toMatch(/NOERROR/);
    expect(lookup.stdout).toContain("10.20.0.1");
    const bad = await runDcnet(["ctl", "--nats", nats.url, "--node", NODE, "dns", "records", "nosuch.zone"]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/no zone nosuch\.zone/);
  });

  test("100,000 malformed UDP packets and abusive TCP clients: each counted, none crashes or stalls a listener, valid queries interleaved are answered right", async () => {
    const before = await malformedCount(metricsUrl);
    const sock = createSocket("udp4");
    const valid = dnsPacket.encode({ type: "query", id: 7, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type: "A", name: `none-on-dcos.marathon.autoip.${ZONE}` }] });
    const answers: string[] = [];
    const waiting = new Map<number, (ip: string) => void>();
    sock.on("message", (m) => {
      const id = m.readUInt16BE(0);
      const w = waiting.get(id);
      if (!w) return;
      waiting.delete(id);
      const p = dnsPacket.decode(m);
      w(p.answers?.map((a) => String((a as { data?: unknown }).data)).join(",") ?? "");
    });
    const ask = (id: number) =>
      new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`valid query ${id} not answered within 2 s`)), 2000);
        waiting.set(id, (ip) => {
          clearTimeout(timer);
          resolve(ip);
        });
        const q = Buffer.from(valid);
        q.writeUInt16BE(id, 0);
        sock.send(q, server.port, server.host);
      });
    const rand = seededRandom(12345);
    const TOTAL = 100_000;
    for (let i = 0; i < TOTAL; i++) {
      sock.send(malformed(i, rand, valid), server.port, server.host);
      // Small bursts: a larger one can overflow the socket receive buffer (capped by net.core.rmem_max).
      if (i % 100 === 99) answers.push(await ask(1000 + (i % 60_000)));
    }
    expect(answers).toHaveLength(TOTAL / 100);
    expect(new Set(answers)).toEqual(new Set(["9.0.2.5"]));
    // Datagrams longer than the listener's 4 KiB receive slot (a query never is) are counted, unanswered.
    const oversizedBefore = await malformedCount(metricsUrl, "oversized");
    for (let i = 0; i < 3; i++) sock.send(Buffer.concat([valid, Buffer.alloc(5000)]), server.port, server.host);
    expect(await ask(999)).toBe("9.0.2.5");
    expect((await malformedCount(metricsUrl, "oversized")) - oversizedBefore).toBe(3);
    sock.close();

    // TCP: an oversized length prefix is cut off at once; a slowloris message within tcpIdleMs.
    const closedWithin = (write: (s: ReturnType<typeof connect>) => void) =>
      new Promise<number>((resolve) => {
        const started = Date.now();
        const s = connect(server.port, server.host, () => write(s));
        s.on("error", () => undefined);
        s.on("close", () => resolve(Date.now() - started));
      });
    expect(await closedWithin((s) => s.write(Buffer.from([0xff, 0xff, 1, 2, 3])))).toBeLessThan(1000);
    const slow = closedWithin((s) => {
      const bytes = Buffer.concat([Buffer.from([0, valid.length]), valid]);
      let at = 0;
      const drip = setInterval(() => (at < bytes.length && !s.destroyed ? s.write(bytes.subarray(at, ++at)) : clearInterval(drip)), 200);
      s.on("close", () => clearInterval(drip));
    });
    expect(await slow).toBeLessThan(5000);
    // Several queries on one connection still work afterwards.
    expect(await tcpAskTwice(server, valid)).toEqual(["9.0.2.5", "9.0.2.5"]);

    const after = await malformedCount(metricsUrl);
    expect(after - before).toBeGreaterThanOrEqual(TOTAL * 0.99);
    const status = await t.admin.request(NODE, "status", {});
    expect(status.pid).toBe(node.pid);
    expect(status.actors.filter((a) => a.path.startsWith("/node/dns/")).every((a) => a.restarts === 0)).toBe(true);
  });

  test("crashing the zone actor and the forwarder during a dnsperf run: answers continue from the last zones, both restart", async () => {
    const queries = join(dir, "queries.txt");
    writeFileSync(queries, `none-on-dcos.marathon.autoip.${ZONE} A\nliquor-store.marathon.mesos A\nthisnode.thisdcos.directory A\n`);
    const perf = run("dnsperf", ["-s", server.host, "-p", String(server.port), "-d", queries, "-l", "4", "-Q", "2000", "-c", "2", "-t", "2"], { timeout: 30_000 });
    await new Promise((r) => setTimeout(r, 1000));
    await t.admin.request(NODE, "crash", { path: "/node/dns/zone" });
    await t.admin.request(NODE, "crash", { path: "/node/dns/forwarder" });
    const { stdout } = await perf;
    const completed = Number(/Queries completed:\s+(\d+)/.exec(stdout)?.[1]);
    const sent = Number(/Queries sent:\s+(\d+)/.exec(stdout)?.[1]);
    expect(sent).toBeGreaterThan(1000);
    // No query fails while the actors restart (actors/dns/README.md says so): every one is answered.
    expect(completed).toBe(sent);
    expect(/Response codes:\s+(.*)/.exec(stdout)?.[1]).toMatch(/^NOERROR \d+ \(100\.00%\)$/);
    const status = await t.admin.request(NODE, "status", {});
    const restarts = Object.fromEntries(status.actors.filter((a) => a.path.startsWith("/node/dns/")).map((a) => [a.path, a.restarts]));
    expect(restarts["/node/dns/zone"]).toBe(1);
    expect(restarts["/node/dns/forwarder"]).toBe(1);
    expect(restarts["/node/dns/udp-0"]).toBe(0);
    // the restarted zone actor follows the store again
    await t.admin.request(NODE, "task-add", { task: { id: "after-crash", name: "after", framework: "fleet", runtime: "native", agentIp: "10.1.0.9", taskIps: [], state: "running", ports: [] } });
    await within(5000, async () => expect(data(await dig(server, [`after.fleet.agentip.${ZONE}`]))).toEqual(["10.1.0.9"]));
  });
});

async function malformedCount(url: string, reason?: string): Promise<number> {
  const text = await (await fetch(url)).text();
  return text
    .split("\n")
    .filter((l) => l.startsWith("dcnet_dns_malformed_total{") && (!reason || l.includes(`reason="${reason}"`)))
    .reduce((sum, l) => sum + Number(l.split(" ").pop()), 0);
}

function tcpAskTwice(server: { host: string; port: number }, query: Buffer): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const s = connect(server.port, server.host);
    const frame = Buffer.concat([Buffer.from([0, query.length]), query]);
    let buf = Buffer.alloc(0);
    const out: string[] = [];
    s.on("connect", () => s.write(Buffer.concat([frame, frame])));
    s.on("data", (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        const msg = buf.subarray(2, 2 + buf.readUInt16BE(0));
        buf = buf.subarray(2 + msg.length);
        out.push(dnsPacket.decode(msg).answers?.map((a) => String((a as { data?: unknown }).data)).join(",") ?? "");
        if (out.length === 2) {
          s.destroy();
          resolve(out);
        }
      }
    });
    s.on("error", reject);
    setTimeout(() => reject(new Error("no two answers over one TCP connection within 3 s")), 3000).unref();
  });
}

describe("dns - .mesos by configuration: forwarded to Mesos-DNS servers, or native with Mesos-DNS's quirks", () => {
  let dir: string;
  let nats: NatsServerHandle;
  let master: MesosMaster;
  let mesosDns: UnboundServer;
  const nodes: DcnetProcess[] = [];
  let forwarding: { host: string; port: number };
  let compat: { host: string; port: number };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "dcnet-dns-mesos-"));
    nats = await startNatsServer({});
    master = await startMesosMaster({ script: OPERATOR_API, masterState: FAKE_STATE });
    // unbound standing in for the masters' Mesos-DNS (dcos-net's mesos_resolvers)
    mesosDns = await startUnbound({ localZones: ['"mesos." static'], localData: ["app.marathon.mesos. 60 IN A 10.0.0.1", "mesos. 60 IN SOA ns1.mesos. root.ns1.mesos. 1 60 600 86400 60"] });
    forwarding = { host: "127.0.0.1", port: await freePort() };
    compat = { host: "127.0.0.1", port: await freePort() };
    // This node runs UDP on node:dgram, the engine used where the addon cannot be built.
    writeFileSync(join(dir, "forward.yaml"), `dns:\n  udpEngine: dgram\n  mesos:\n    mode: forward\n    resolvers: ["127.0.0.1:${mesosDns.port}"]\nmetrics:\n  listen: ""\n`);
    // refreshMs of a minute: whatever .mesos learns sooner came from an operator-stream event.
    writeFileSync(join(dir, "compat.yaml"), `mesos:\n  tasksReadinessMs: 300\ndns:\n  mesos:\n    compat: true\n    refreshMs: 60000\nmetrics:\n  listen: ""\n`);
    nodes.push(spawnDcnet(["node", "--config", join(dir, "forward.yaml"), "--nats", nats.url, "--cluster", "fwd", "--id", "fwd-1", "--dns-listen", `127.0.0.1:${forwarding.port}`]));
    nodes.push(spawnDcnet(["node", "--config", join(dir, "compat.yaml"), "--nats", nats.url, "--cluster", "compat", "--id", "compat-1", "--mesos", master.url, "--dns-listen", `127.0.0.1:${compat.port}`]));
    await Promise.all(nodes.map((n) => n.waitForLine(isReady, 30_000)));
  });

  afterAll(async () => {
    await Promise.all(nodes.map((n) => n.stop()));
    await master?.close().catch(() => undefined);
    await mesosDns?.stop();
    await nats?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test("mode forward, on the node:dgram engine: .mesos is relayed from the Mesos-DNS servers (not authoritative here), UDP and TCP", async () => {
    expect(nodes[0]?.lines().some((l) => l.msg === "DNS UDP (dgram) listener ready")).toBe(true);
    const udp = await dig(forwarding, ["app.marathon.mesos"]);
    expect([udp.status, data(udp), udp.flags.includes("aa")]).toEqual(["NOERROR", ["10.0.0.1"], true]);
    expect(data(await dig(forwarding, ["+tcp", "app.marathon.mesos"]))).toEqual(["10.0.0.1"]);
    expect((await dig(forwarding, ["nobody.marathon.mesos"])).status).toBe("NXDOMAIN");
    // the dcnet zones stay local
    expect((await dig(forwarding, [`nobody.${ZONE}`])).authority[0]?.name).toBe(`${ZONE}.`);
  });

  test("issue 16 defect 1: RA only where this node recurses (RFC 1035 §4.1.1)", async () => {
    // compat node: no upstreams, no forward zones: a purely authoritative server
    const auth = await dig(compat, [`nobody.${ZONE}`]);
    expect([auth.status, auth.flags.includes("aa"), auth.flags.includes("ra")]).toEqual(["NXDOMAIN", true, false]);
    const out = await dig(compat, ["www.example.test"]);
    expect([out.status, out.flags.includes("ra")]).toEqual(["REFUSED", false]);
    // forward node: .mesos is forwarded, so its own answers offer recursion, but a name no resolver serves is REFUSED without RA
    const fwdAuth = await dig(forwarding, [`nobody.${ZONE}`]);
    expect([fwdAuth.status, fwdAuth.flags.includes("aa"), fwdAuth.flags.includes("ra")]).toEqual(["NXDOMAIN", true, true]);
    const fwdOut = await dig(forwarding, ["www.example.test"]);
    expect([fwdOut.status, fwdOut.flags.includes("ra")]).toEqual(["REFUSED", false]);
  });

  test(".mesos follows a task started on the leading master seconds after its stream event, not at the next periodic read (60 s here)", async () => {
    await within(30_000, async () => expect(data(await dig(compat, ["liquor-store.marathon.mesos"])).length).toBeGreaterThan(0));
    expect((await dig(compat, ["fresh-app.marathon.mesos"])).status).toBe("NXDOMAIN");
    // The master's state gains the task, then its stream announces it (Mesos's own order).
    const state = structuredClone(FAKE_STATE) as { frameworks: Array<{ name: string; tasks: Array<Record<string, unknown>> }> };
    const marathon = state.frameworks.find((f) => f.name === "marathon" && f.tasks.some((t) => t.name === "liquor.store"));
    const model = marathon?.tasks.find((t) => t.name === "liquor.store" && t.state === "TASK_RUNNING");
    if (!marathon || !model) throw new Error("fake.json has no running liquor.store task under marathon");
    marathon.tasks.push({ ...model, id: "fresh-app.0001", name: "fresh-app", discovery: { ...(model.discovery as object), name: "fresh-app" } });
    master.setMasterState(state);
    // Mesos announces a new task as TASK_ADDED (staging), then TASK_UPDATED to running.
    const added = JSON.parse(OPERATOR_API.find((l) => l.includes('"TASK_ADDED"')) ?? "{}") as { task_added: { task: { name: string; task_id: { value: string } } } };
    added.task_added.task.name = "fresh-app";
    added.task_added.task.task_id.value = "fresh-app.0001";
    const running = JSON.parse(OPERATOR_API.find((l) => l.includes('"TASK_UPDATED"') && l.includes('"state":"TASK_RUNNING"')) ?? "{}") as { task_updated: { status: { task_id: { value: string }; executor_id?: { value: string } } } };
    running.task_updated.status.task_id.value = "fresh-app.0001";
    const emitted = Date.now();
    master.emit(added);
    master.emit(running);
    await within(3000, async () => expect(data(await dig(compat, ["fresh-app.marathon.mesos"])).length).toBeGreaterThan(0));
    expect(Date.now() - emitted).toBeLessThan(3000);
  });

  test("compat: a missing SRV is NOERROR with nothing, SOA queries answer in authority, and no OPT is echoed", async () => {
    await within(30_000, async () => expect(data(await dig(compat, ["liquor-store.marathon.mesos"])).length).toBeGreaterThan(0));
    const srv = await dig(compat, ["_nothing._tcp.marathon.mesos", "SRV"]);
    expect([srv.status, srv.answer.length, srv.authority.length]).toEqual(["NOERROR", 0, 0]);
    const soa = await dig(compat, ["mesos", "SOA"]);
    expect([soa.status, soa.answer.length, soa.authority.map((a) => a.type)]).toEqual(["NOERROR", 0, ["SOA"]]);
    expect((await dig(compat, ["liquor-store.marathon.mesos", "+bufsize=1232"])).opt).toBeUndefined();
    // the other zones keep RFC behaviour on the same node
    expect((await dig(compat, [`leader.${ZONE}`, "+bufsize=1232"])).opt).toBeDefined();
  });
});
