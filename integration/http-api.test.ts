// The HTTP API against a node loaded with the dcos-net fixtures: the Operator API stream of
// operator-api.json (tasks → dcos.thisdcos.directory), the master state fake.json (.mesos, whose
// Mesos-DNS answers are the upstream generator's oracle files) and vip-labels.json from an agent
// stand-in (the VIP table). Each endpoint's document is compared field by field with the shape the
// reference notes give for dcos-net (dcos_rest_*_handler.erl) and Mesos-DNS (resolver.go), then bad
// input (404/405/400, JSON), secrets, and mutual TLS with the cluster's certificates.
// Address plan: everything on 127.0.0.1, free ports; task addresses are data only, never contacted.
import { afterAll, beforeAll, describe, expect, jest, test } from "@jest/globals";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { request as httpsRequest } from "node:https";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { startNatsServer, type NatsServerHandle } from "./harness/nats-local.js";
import { makeTestCreds, type TestCreds } from "./harness/creds.js";
import { freePort } from "./support/ports.js";
import { isReady, runDcnet, spawnDcnet, type DcnetProcess } from "./support/dcnet-process.js";
import { connectAdmin, within, type TestAdmin } from "./support/admin.js";
import { startMesosMaster, type MesosMaster } from "./support/mesos-master.js";
import { oracleRecords } from "../testkit/dns/mesos-dns-oracle.js";
import { VERSION } from "../config/version.js";
import { loadCredential } from "../transport/auth/index.js";

jest.setTimeout(90_000);

const SHARED = new URL("../../shared/fixtures/", import.meta.url);
const OPERATOR_API = readFileSync(new URL("dcos-net/operator-api.json", SHARED), "utf8").split("\n").filter((l) => l.trim() !== "");
const FAKE_STATE = JSON.parse(readFileSync(new URL("mesos-dns/factories/fake.json", SHARED), "utf8")) as unknown;
const AXFR_FIXTURE = JSON.parse(readFileSync(new URL("dcos-net/axfr.json", SHARED), "utf8")) as Record<string, unknown>;
const VIP_LABELS = new URL("dcos-net/vip-labels.json", SHARED);
const NODE = "api-1";
const NODE_IP = "10.7.0.1";
const SECRET = "s3cr3t-mesos-token-do-not-leak";
// Names whose records follow the Mesos-DNS process's own config (masters, its address), as in dns.test.ts.
const CONFIG_DEPENDENT = /^(master\d*|leader|mesos-dns|ns1)\.mesos\.$|^_leader\._(tcp|udp)\.mesos\.$/;

type Doc = unknown;
const typeOf = (v: unknown): string => (Array.isArray(v) ? "array" : v === null ? "null" : typeof v);

describe("HTTP API: dcos-net and Mesos-DNS contracts on one node", () => {
  let dir: string;
  let nats: NatsServerHandle;
  let master: MesosMaster;
  let agent: MesosMaster;
  let node: DcnetProcess;
  let t: TestAdmin;
  let base: string;
  let dnsPort: number;

  const get = async (path: string, init?: RequestInit): Promise<{ status: number; headers: Headers; body: Doc; text: string }> => {
    const r = await fetch(`${base}${path}`, init);
    const text = await r.text();
    let body: Doc;
    try {
      body = JSON.parse(text) as Doc;
    } catch {
      body = undefined;
    }
    return { status: r.status, headers: r.headers, body, text };
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "dcnet-http-api-"));
    nats = await startNatsServer({});
    master = await startMesosMaster({ script: OPERATOR_API, heartbeatMs: 1000, masterState: FAKE_STATE });
    const { get_agents: agents, ...getState } = (JSON.parse(readFileSync(VIP_LABELS, "utf8")) as { get_state: { get_agents: { agents: Array<{ agent_info: unknown }> } } }).get_state;
    agent = await startMesosMaster({ state: getState, agent: { agent_info: agents.agents[0]?.agent_info } });
    dnsPort = await freePort();
    const apiPort = await freePort();
    base = `http://127.0.0.1:${apiPort}`;
    writeFileSync(
      join(dir, "node.yaml"),
      [
        "mesos:\n  tasksReadinessMs: 300",
        "dns:",
        `  listen: ["127.0.0.1:${dnsPort}"]`,
        `  thisnode: {ip: "${NODE_IP}"}`,
        "  mesos:\n    refreshMs: 500",
        'metrics:\n  listen: ""',
        `api:\n  listen: "127.0.0.1:${apiPort}"`,
        "",
      ].join("\n"),
    );
    node = spawnDcnet(["node", "--config", join(dir, "node.yaml"), "--nats", nats.url, "--id", NODE, "--mesos", master.url, "--mesos-agent", agent.url], { DCNET_MESOS_TOKEN: SECRET });
    await node.waitForLine(isReady, 30_000);
    t = await connectAdmin([nats.url], 10_000);
    await within(30_000, async () => {
      const hosts = await get("/v1/hosts/none-on-dcos.marathon.autoip.dcos.thisdcos.directory");
      expect(hosts.body).toEqual([{ host: "none-on-dcos.marathon.autoip.dcos.thisdcos.directory", ip: "9.0.2.5" }]);
      expect(((await get("/v1/hosts/liquor-store.marathon.mesos")).body as Array<{ ip: string }>)[0]?.ip).not.toBe("");
      expect(((await get("/v1/vips")).body as unknown[]).length).toBe(5);
    }, 200);
  });

  afterAll(async () => {
    await t?.close();
    await node?.stop();
    await master?.close().catch(() => undefined);
    await agent?.close().catch(() => undefined);
    await nats?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test("GET /v1/vips: dcos-net's [{vip, protocol, backend: [{ip, port}]}], named VIPs by their l4lb name (vip-labels.json)", async () => {
    const r = await get("/v1/vips");
    expect(r.status).toBe(200);
    expect(r.headers.get("content-type")).toMatch(/^application\/json/);
    const b = (ip: string, port: number) => [{ ip, port }];
    expect(r.body).toEqual([
      { vip: "abc.marathon.l4lb.thisdcos.directory:80", protocol: "tcp", backend: b("172.17.0.3", 9999) },
      { vip: "cbd.marathon.l4lb.thisdcos.directory:80", protocol: "tcp", backend: b("172.17.0.3", 9999) },
      { vip: "def.marathon.l4lb.thisdcos.directory:80", protocol: "tcp", backend: b("172.17.0.3", 9999) },
      { vip: "jkl.marathon.l4lb.thisdcos.directory:80", protocol: "tcp", backend: b("172.17.0.3", 10000) },
      { vip: "xyz.marathon.l4lb.thisdcos.directory:443", protocol: "tcp", backend: b("172.17.0.3", 10001) },
    ]);
  });

  test("GET /v1/nodes: [{private_ip, public_ips, hostname, updated (RFC 3339 ms Z)}]", async () => {
    const r = await get("/v1/nodes");
    expect(r.status).toBe(200);
    const nodes = r.body as Array<Record<string, unknown>>;
    expect(nodes).toHaveLength(1);
    expect(Object.keys(nodes[0] ?? {}).sort()).toEqual(["hostname", "private_ip", "public_ips", "updated"]);
    expect(nodes[0]).toMatchObject({ private_ip: NODE_IP, public_ips: [], hostname: hostname() });
    expect(nodes[0]?.["updated"]).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(Math.abs(Date.parse(String(nodes[0]?.["updated"])) - Date.now())).toBeLessThan(120_000);
  });

  test("GET /v1/version: dcos-net's {Service: dcos-dns, Version}", async () => {
    const r = await get("/v1/version");
    expect([r.status, r.body]).toEqual([200, { Service: "dcos-dns", Version: VERSION }]);
  });

  test("GET /v1/hosts/{host}: dcos-net shape for dcnet names (A answers, [] when none), Mesos-DNS shape for .mesos (trailing dot, one empty record when none)", async () => {
    expect((await get("/v1/hosts/docker-on-dcos.marathon.autoip.dcos.thisdcos.directory")).body).toEqual([{ host: "docker-on-dcos.marathon.autoip.dcos.thisdcos.directory", ip: "9.0.2.130" }]);
    expect(await get("/v1/hosts/nothing-here.marathon.autoip.dcos.thisdcos.directory")).toMatchObject({ status: 200, body: [] });
    // Mesos-DNS: A and AAAA of the name, as its generator made them for fake.json (oracle file).
    const oracle = oracleRecords("fake.json.default-rfc1123.tsv").map((l) => l.split("\t") as [string, string, string]);
    for (const name of ["liquor-store.marathon.mesos", "slave.mesos"]) {
      const want = oracle.filter(([type, n]) => (type === "A" || type === "AAAA") && n === `${name}.`).map(([, n, ip]) => ({ host: n, ip }));
      const got = (await get(`/v1/hosts/${name}`)).body as Array<{ host: string; ip: string }>;
      expect([...got].sort((a, b) => (a.ip < b.ip ? -1 : 1))).toEqual([...want].sort((a, b) => (a.ip < b.ip ? -1 : 1)));
    }
    // Mesos-DNS lower-cases the name and deletes any `.*` before the lookup.
    const sortIp = (d: Doc) => [...(d as Array<{ ip: string }>)].sort((a, b) => (a.ip < b.ip ? -1 : 1));
    expect(sortIp((await get("/v1/hosts/LIQUOR-STORE.*.marathon.mesos")).body)).toEqual(sortIp((await get("/v1/hosts/liquor-store.marathon.mesos")).body));
    expect(await get("/v1/hosts/nothing.mesos")).toMatchObject({ status: 200, body: [{ host: "", ip: "" }] });
  });

  test("GET /v1/services/{service}: Mesos-DNS shape for .mesos (service as asked, port a string, first A of the target), dcos-net shape otherwise", async () => {
    const svc = "_http._liquor-store._tcp.marathon.mesos.";
    const got = (await get(`/v1/services/${svc}`)).body as Array<Record<string, string>>;
    const oracle = oracleRecords("fake.json.default-rfc1123.tsv").map((l) => l.split("\t") as [string, string, string]);
    const firstA = (target: string) => oracle.find(([type, n]) => type === "A" && n === target)?.[2];
    const want = oracle
      .filter(([type, n]) => type === "SRV" && n === svc)
      .map(([, , v]) => {
        const at = v.lastIndexOf(":");
        const target = v.slice(0, at);
        return { service: svc, host: target, ip: firstA(target), port: v.slice(at + 1) };
      });
    expect(want.length).toBeGreaterThan(0);
    const byHost = (a: { host?: string }, b: { host?: string }) => ((a.host ?? "") < (b.host ?? "") ? -1 : 1);
    expect([...got].sort(byHost)).toEqual([...want].sort(byHost));
    expect(await get("/v1/services/_myservice._tcp.mesos.")).toMatchObject({ status: 200, body: [{ service: "", host: "", ip: "", port: "" }] });
    // dcos-net: {host: target, port: number, service: name, ip?} per SRV answer; unknown → [].
    const records = (await get("/v1/records")).body as Array<{ name: string; host: string; rtype: string }>;
    // the .mesos mirror under thisdcos.directory: a dcnet name with SRV records
    const srv = records.find((r) => r.rtype === "SRV" && r.name.endsWith(".thisdcos.directory"));
    expect(srv).toBeDefined();
    const dcos = (await get(`/v1/services/${srv?.name}`)).body as Array<Record<string, unknown>>;
    expect(dcos.length).toBeGreaterThan(0);
    for (const s of dcos) {
      expect(Object.keys(s).sort()).toEqual(["host", "ip", "port", "service"]);
      expect([typeOf(s["host"]), typeOf(s["port"]), s["service"], typeOf(s["ip"])]).toEqual(["string", "number", srv?.name, "string"]);
    }
    expect(dcos.map((s) => `${String(s["host"])}:${String(s["port"])}`)).toContain(srv?.host);
    expect(await get("/v1/services/_none._tcp.marathon.dcos.thisdcos.directory")).toMatchObject({ status: 200, body: [] });
  });

  test("GET /v1/records: streamed (chunked) JSON array of {name, host, rtype}, every A/AAAA/SRV record of every zone", async () => {
    const r = await get("/v1/records");
    expect(r.status).toBe(200);
    expect(r.headers.get("transfer-encoding")).toBe("chunked");
    const records = r.body as Array<Record<string, string>>;
    expect(records.every((x) => Object.keys(x).sort().join() === "host,name,rtype" && ["A", "AAAA", "SRV"].includes(x["rtype"] ?? ""))).toBe(true);
    const rows = (await t.admin.request(NODE, "dns-records", {})).rows.filter((x) => ["A", "AAAA", "SRV"].includes(x.type));
    const want = rows.map((x) => `${x.type} ${x.name.replace(/\.$/, "")} ${x.type === "SRV" ? `${(x.data.split(" ")[3] ?? "").replace(/\.$/, "")}:${x.data.split(" ")[2]}` : x.data}`).sort();
    expect(records.map((x) => `${x["rtype"]} ${x["name"]} ${x["host"]}`).sort()).toEqual(want);
    expect(records).toContainEqual({ name: "none-on-dcos.marathon.autoip.dcos.thisdcos.directory", host: "9.0.2.5", rtype: "A" });
  });

  test("GET /v1/axfr: Mesos-DNS's models.AXFR, the same keys and types as dcos-net's axfr.json fixture, records equal to the Mesos-DNS oracle", async () => {
    const r = await get("/v1/axfr");
    expect(r.status).toBe(200);
    const axfr = r.body as Record<string, unknown> & { Records: Record<string, Record<string, string[]>> };
    expect(Object.keys(axfr).sort()).toEqual(Object.keys(AXFR_FIXTURE).sort());
    for (const k of Object.keys(AXFR_FIXTURE)) expect([k, typeOf(axfr[k])]).toEqual([k, typeOf(AXFR_FIXTURE[k])]);
    expect(Object.keys(axfr.Records).sort()).toEqual(["AAAAs", "As", "SRVs"]);
    expect([axfr["Domain"], axfr["TTL"], axfr["Mname"], axfr["Rname"]]).toEqual(["mesos", 60, "ns1.mesos.", "root.ns1.mesos."]);
    const flat = (m: Record<string, string[]>, type: string) => Object.entries(m).flatMap(([n, vs]) => vs.map((v) => `${type}\t${n}\t${v}`));
    const got = [...flat(axfr.Records["As"] ?? {}, "A"), ...flat(axfr.Records["AAAAs"] ?? {}, "AAAA"), ...flat(axfr.Records["SRVs"] ?? {}, "SRV")].filter((l) => !CONFIG_DEPENDENT.test(l.split("\t")[1] ?? "")).sort();
    const want = oracleRecords("fake.json.default-rfc1123.tsv").filter((l) => !CONFIG_DEPENDENT.test(l.split("\t")[1] ?? ""));
    expect(got).toEqual(want);
  });

  test("GET /v1/enumerate: Mesos-DNS's {frameworks: [{name, tasks: [{name, id, records: [{name, host, rtype}]}]}]}", async () => {
    const r = await get("/v1/enumerate");
    expect(r.status).toBe(200);
    const e = r.body as { frameworks: Array<{ name: string; tasks: Array<{ name: string; id: string; records: Array<Record<string, string>> }> }> };
    expect(Object.keys(e)).toEqual(["frameworks"]);
    const marathon = e.frameworks.find((f) => f.name === "marathon");
    const store = marathon?.tasks.find((x) => x.name === "liquor-store");
    expect(store?.records).toContainEqual({ name: "liquor-store.marathon.mesos.", host: "1.2.3.11", rtype: "A" });
    expect(store?.records.some((x) => x["rtype"] === "SRV" && x["name"] === "_http._liquor-store._tcp.marathon.mesos.")).toBe(true);
    for (const f of e.frameworks) for (const task of f.tasks) for (const rec of task.records) expect(Object.keys(rec).sort()).toEqual(["host", "name", "rtype"]);
  });

  test("GET /v1/metrics[/{registry}]: Prometheus text, per registry; unknown registry 404 'Unknown Registry'", async () => {
    const all = await get("/v1/metrics");
    expect(all.status).toBe(200);
    expect(all.headers.get("content-type")).toMatch(/^text\/plain/);
    expect(all.text).toMatch(/^dcnet_dns_queries_total\{/m);
    expect(all.text).toMatch(/^dcnet_gossip_/m);
    const dns = await get("/v1/metrics/dns");
    const names = dns.text.split("\n").filter((l) => l && !l.startsWith("#")).map((l) => l.split(/[{ ]/)[0]);
    expect(names.length).toBeGreaterThan(0);
    expect(names.every((n) => n?.startsWith("dcnet_dns_"))).toBe(true);
    const unknown = await get("/v1/metrics/nonesuch");
    expect(unknown.status).toBe(404);
    expect(unknown.body).toMatchObject({ code: 404, error: "Not Found", message: expect.stringContaining("Unknown Registry") });
  });

  test("GET /v1/config: Mesos-DNS's config fields, and no secret anywhere in the response (the Mesos token is set)", async () => {
    const r = await get("/v1/config");
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ Domain: "mesos", TTL: 60, Port: dnsPort, Listener: "127.0.0.1", HttpOn: true, DnsOn: true, MesosAuthentication: "token" });
    expect(r.text).not.toContain(SECRET);
    expect((r.body as { Dcnet: { mesos: { token: string } } }).Dcnet.mesos.token).toBe("<redacted>");
    // nor in any other document
    for (const p of ["/v1/metrics", "/v1/records", "/v1/enumerate", "/v1/axfr", "/v1/nodes", "/v1/vips"]) expect((await get(p)).text).not.toContain(SECRET);
  });

  test("bad input: unknown path 404, other methods 405 with Allow, oversized or malformed parameters 400 with the reason; all JSON, all counted", async () => {
    const notFound = await get("/v2/whatever");
    expect(notFound).toMatchObject({ status: 404, body: { code: 404, error: "Not Found", message: expect.stringContaining("/v2/whatever") } });
    for (const method of ["POST", "PUT", "DELETE"]) {
      const r = await get("/v1/vips", { method });
      expect(r).toMatchObject({ status: 405, body: { code: 405, error: "Method Not Allowed" } });
      expect(r.headers.get("allow")).toBe("GET, HEAD");
    }
    const long = await get(`/v1/hosts/${"a".repeat(300)}.mesos`);
    expect(long).toMatchObject({ status: 400, body: { code: 400, message: expect.stringContaining("must NOT have more than 253 characters") } });
    const bad = await get("/v1/services/a%20b;rm");
    expect(bad).toMatchObject({ status: 400, body: { code: 400, message: expect.stringContaining("params/service must match pattern") } });
    expect((await get("/v1/metrics/Bad-Name")).status).toBe(400);
    const counted = (await get("/v1/metrics/api")).text;
    expect(counted).toMatch(/dcnet_api_requests_total\{route="unknown",code="404"[^}]*\} [1-9]/);
    expect(counted).toMatch(/dcnet_api_requests_total\{route="\/v1\/vips",code="405"[^}]*\} 3/);
    expect(counted).toMatch(/dcnet_api_requests_total\{route="\/v1\/hosts\/:host",code="400"[^}]*\} 1/);
    // and the node is fine
    expect((await get("/v1/version")).status).toBe(200);
  });
});

describe("HTTP API beyond loopback: TLS with the cluster's certificates", () => {
  let creds: TestCreds;
  let other: TestCreds;
  let nats: NatsServerHandle;
  let node: DcnetProcess;
  let port: number;
  let dir: string;

  const call = (bundle?: string): Promise<{ status: number; body: string } | { error: string }> =>
    new Promise((resolve) => {
      const pem = bundle ? loadCredential(bundle).tls : undefined;
      const req = httpsRequest(
        { host: "127.0.0.1", port, path: "/v1/version", ca: readFileSync(join(creds.dir, "ca.crt")), ...(pem ? { cert: pem.cert, key: pem.key } : {}) },
        (res) => {
          let body = "";
          res.on("data", (c: Buffer) => (body += c.toString()));
          res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
        },
      );
      req.on("error", (err) => resolve({ error: err.message }));
      req.end();
    });

  beforeAll(async () => {
    creds = await makeTestCreds({ cluster: "apitls", nodes: ["tls-1"], users: [{ name: "vera", role: "viewer" }] });
    other = await makeTestCreds({ cluster: "apitls", users: [{ name: "mallory", role: "admin" }] });
    dir = mkdtempSync(join(tmpdir(), "dcnet-http-api-tls-"));
    nats = await startNatsServer({});
    port = await freePort();
    writeFileSync(
      join(dir, "node.yaml"),
      ["cluster: apitls", `api:`, `  listen: "127.0.0.1:${port}"`, `  tls: {cert: "${join(creds.dir, "nats-0.crt")}", key: "${join(creds.dir, "nats-0.key")}", ca: "${join(creds.dir, "ca.crt")}"}`, 'metrics:\n  listen: ""', "dns:\n  enabled: false", ""].join("\n"),
    );
    node = spawnDcnet(["node", "--config", join(dir, "node.yaml"), "--nats", nats.url, "--id", "tls-1"]);
    await node.waitForLine(isReady, 30_000);
  });

  afterAll(async () => {
    await node?.stop();
    await nats?.stop();
    creds?.cleanup();
    other?.cleanup();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test("a viewer of the cluster gets the API; no certificate and another CA's certificate fail the handshake; a node's certificate gets 403", async () => {
    expect(await call(creds.bundle("vera"))).toEqual({ status: 200, body: JSON.stringify({ Service: "dcos-dns", Version: VERSION }) });
    expect(await call()).toHaveProperty("error");
    expect(await call(other.bundle("mallory"))).toHaveProperty("error");
    const asNode = await call(creds.bundle("tls-1"));
    expect(asNode).toMatchObject({ status: 403 });
    expect(JSON.parse((asNode as { body: string }).body)).toMatchObject({ code: 403, message: expect.stringContaining("role node may not use the API") });
  });

  test("a non-loopback api.listen without api.tls is refused at start: exit 2 naming the key", async () => {
    const r = await runDcnet(["node", "--nats", nats.url, "--id", "tls-2"], { DCNET_API_LISTEN: "0.0.0.0:62080" });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("api.tls");
  });
});
