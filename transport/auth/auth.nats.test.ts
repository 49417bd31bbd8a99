// The generated credentials and users fragment against a REAL nats-server (TLS, verify_and_map): who
// gets in, who does not, and what the server refuses to those who do. Address plan: one server on a
// free 127.0.0.1 port, its config and the credentials in temp folders removed afterwards.
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import type { NatsConnection, Status } from "@nats-io/nats-core";
import { jetstreamManager } from "@nats-io/jetstream";
import { pino } from "pino";
import { connect as tlsConnect, type PeerCertificate } from "node:tls";
import { startNatsCluster, startNatsServer, type NatsServerHandle } from "../../integration/harness/nats-local.js";
import { connectAs, expiredBundle, makeTestCreds, type TestCreds } from "../../integration/harness/creds.js";
import { Transport } from "../connection.js";
import { KvAllocator } from "../kv-allocator.js";
import { ConnectError } from "../errors.js";
import { inboxPrefix } from "./identity.js";
import { DCNET_ACCOUNT } from "./permissions.js";
import { ADVISORY_SUBJECTS, parseAdvisory } from "../advisories.js";
import { loadCredential, type Credential } from "./load.js";
import { clusterServerCheck } from "./server-identity.js";

const CLUSTER = "sec";
let creds: TestCreds;
let other: TestCreds;
let server: NatsServerHandle;
const open: NatsConnection[] = [];
const silent = pino({ level: "silent" });

async function as(name: string | Credential): Promise<NatsConnection> {
  const nc = await connectAs(server.url, typeof name === "string" ? creds.bundle(name) : name);
  open.push(nc);
  return nc;
}

/** Async errors the server sends a connection (permission violations), as text. */
function errorsOf(nc: NatsConnection): string[] {
  const seen: string[] = [];
  void (async () => {
    for await (const s of nc.status() as AsyncIterable<Status>) if (s.type === "error") seen.push(String(s.error));
  })();
  return seen;
}

/** The server logs a refused handshake a moment after the client saw it fail. */
async function serverLogged(text: string): Promise<void> {
  const deadline = Date.now() + 3000;
  while (!server.logs().some((l) => l.includes(text))) {
    if (Date.now() > deadline) throw new Error(`the server did not log "${text}"; last lines:\n${server.logs().slice(-5).join("\n")}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const settle = (nc: NatsConnection) => nc.flush().then(() => new Promise((r) => setTimeout(r, 100)));

beforeAll(async () => {
  creds = await makeTestCreds({
    cluster: CLUSTER,
    nodes: ["n1", "n2"],
    users: [
      { name: "vic", role: "viewer" },
      { name: "ada", role: "admin" },
    ],
    kvBuckets: ["alloc"],
  });
  other = await makeTestCreds({ cluster: CLUSTER, nodes: ["n1"] });
  server = await startNatsServer({ secure: creds.server(), jetstream: true });
}, 60_000);

afterAll(async () => {
  await Promise.all(open.map((nc) => nc.close().catch(() => undefined)));
  await server?.stop();
  creds?.cleanup();
  other?.cleanup();
});

describe("who gets in", () => {
  it("a node's credential connects (Transport, TLS 1.3), and the server says it requires TLS, a client certificate and auth", async () => {
    const c = loadCredential(creds.bundle("n1"));
    const t = await Transport.connect({ servers: [server.url], cluster: CLUSTER, nodeId: "n1", logger: silent, tls: c.tls, inboxPrefix: inboxPrefix(CLUSTER, "n1"), connectTimeoutMs: 3000 });
    expect(t.serverSecurity()).toEqual({ tlsRequired: true, clientCertRequired: true, authRequired: true });
    await t.close();
  });

  it("no certificate: refused (a short-lived Transport gives up within its connect timeout)", async () => {
    const started = Date.now();
    const ca = readFileSync(`${creds.dir}/ca.crt`, "utf8");
    // The Transport's tls option always carries a certificate; without one, the client still trusts our CA.
    const { connect } = await import("@nats-io/transport-node");
    await expect(connect({ servers: server.url, tls: { ca }, timeout: 1500, maxReconnectAttempts: 1, waitOnFirstConnect: false })).rejects.toThrow();
    await expect(Transport.connect({ servers: [server.url], cluster: CLUSTER, nodeId: "x", logger: silent, connectTimeoutMs: 1500 })).rejects.toBeInstanceOf(ConnectError);
    expect(Date.now() - started).toBeLessThan(8000);
    await serverLogged("TLS handshake error: tls: client didn't provide a certificate");
  });

  it("a certificate from another CA: refused by the server (TLS handshake), also under TLS 1.3 with a connect timeout", async () => {
    const foreign = loadCredential(other.bundle("n1"));
    const ca = readFileSync(`${creds.dir}/ca.crt`, "utf8");
    const forged: Credential = { ...foreign, tls: { ...foreign.tls, ca } };
    await expect(connectAs(server.url, forged)).rejects.toThrow(/bad certificate|certificate/i);
    await expect(Transport.connect({ servers: [server.url], cluster: CLUSTER, nodeId: "n1", logger: silent, tls: forged.tls, connectTimeoutMs: 1500 })).rejects.toBeInstanceOf(ConnectError);
    await serverLogged("certificate signed by unknown authority");
  });

  it("an expired certificate from our CA: refused by the server", async () => {
    const file = await expiredBundle(creds, "old", "node");
    expect(() => loadCredential(file)).toThrow("expired on 2020-01-02T00:00:00.000Z");
    const [ca, cert, key] = readFileSync(file, "utf8").split(/(?=-----BEGIN )/) as [string, string, string];
    const stale: Credential = { ...loadCredential(creds.bundle("n1")), tls: { ca, cert, key } };
    await expect(connectAs(server.url, stale)).rejects.toThrow(/certificate/i);
    await serverLogged("certificate has expired or is not yet valid");
  });

  it("a revoked identity: refused once the server reloads, and its open connection is closed", async () => {
    await creds.add([{ name: "n3", role: "node" }]);
    await server.reload();
    const bundle = loadCredential(creds.bundle("n3"));
    const nc = await as(bundle);
    await creds.revoke("n3");
    await server.reload();
    await expect(connectAs(server.url, bundle)).rejects.toThrow("Authorization Violation");
    await expect(nc.closed()).resolves.toBeDefined(); // the server dropped it on reload
  });
});

describe("the client's check of the server", () => {
  it("accepts a server certificate naming only its IP (nats.js makes Node check the name localhost), refuses one of another cluster", async () => {
    await creds.add([{ name: "nats-ip", role: "server", ips: ["127.0.0.1"] }]);
    const ipOnly = await startNatsServer({ secure: { credsDir: creds.dir, cluster: CLUSTER, server: "nats-ip" } });
    try {
      const c = loadCredential(creds.bundle("n1"));
      const t = await Transport.connect({ servers: [ipOnly.url], cluster: CLUSTER, nodeId: "n1", logger: silent, tls: c.tls, inboxPrefix: inboxPrefix(CLUSTER, "n1"), connectTimeoutMs: 3000 });
      await t.close();
      const { connect } = await import("@nats-io/transport-node");
      await expect(connect({ servers: ipOnly.url, tls: c.tls, timeout: 1500, maxReconnectAttempts: 1, waitOnFirstConnect: false })).rejects.toThrow(/localhost/);
    } finally {
      await ipOnly.stop();
    }
    const pem = readFileSync(`${creds.dir}/nats-0.crt`, "utf8");
    const peer = { subjectaltname: new X509Certificate(pem).subjectAltName ?? "", subject: {} } as unknown as PeerCertificate;
    expect(clusterServerCheck(CLUSTER)("localhost", peer)).toBeUndefined();
    expect(clusterServerCheck("other")("10.9.9.9", peer)?.message).toContain("10.9.9.9");
  }, 30_000);
});

describe("what the server refuses to those who get in", () => {
  it("a node publishing on another node's heartbeat subject gets a permission violation; nobody hears it", async () => {
    const n1 = await as("n1");
    const n2 = await as("n2");
    const violations = errorsOf(n1);
    const heard: string[] = [];
    n2.subscribe(`dcnet.${CLUSTER}.gossip.hb.*`, { callback: (_e, m) => void heard.push(m.subject) });
    await settle(n2);
    n1.publish(`dcnet.${CLUSTER}.gossip.hb.n2`, "forged");
    n1.publish(`dcnet.${CLUSTER}.gossip.delta.n2`, "forged");
    n1.publish(`dcnet.${CLUSTER}.gossip.hb.n1`, "mine");
    await settle(n1);
    await settle(n2);
    expect(heard).toEqual([`dcnet.${CLUSTER}.gossip.hb.n1`]);
    expect(violations).toEqual(expect.arrayContaining([expect.stringContaining(`Permissions Violation for Publish to "dcnet.${CLUSTER}.gossip.hb.n2"`)]));
    expect(violations).toEqual(expect.arrayContaining([expect.stringContaining(`Permissions Violation for Publish to "dcnet.${CLUSTER}.gossip.delta.n2"`)]));
  });

  it("a node cannot listen to another node's bucket requests, admin requests or inbox", async () => {
    const n1 = await as("n1");
    const violations = errorsOf(n1);
    for (const s of [`dcnet.${CLUSTER}.gossip.bucket.n2`, `dcnet.${CLUSTER}.admin.admin.n2.shutdown`, `_INBOX.${CLUSTER}.n2.>`, `dcnet.${CLUSTER}.>`]) n1.subscribe(s);
    await settle(n1);
    expect(violations.filter((v) => v.includes("Permissions Violation for Subscription"))).toHaveLength(4);
  });

  it("a node asks another for buckets and gets the answer in its own inbox (allow_responses)", async () => {
    const n1 = await as("n1");
    const n2 = await as("n2");
    n2.subscribe(`dcnet.${CLUSTER}.gossip.bucket.n2`, { callback: (_e, m) => void m.respond("keys") });
    await settle(n2);
    const reply = await n1.request(`dcnet.${CLUSTER}.gossip.bucket.n2`, "which?", { timeout: 2000 });
    expect(reply.string()).toBe("keys");
  });

  it("a viewer may send viewer requests and nothing stronger", async () => {
    const vic = await as("vic");
    const violations = errorsOf(vic);
    vic.publish(`dcnet.${CLUSTER}.admin.viewer.n1.ping`, "");
    vic.publish(`dcnet.${CLUSTER}.admin.admin._all.shutdown`, "");
    vic.publish(`dcnet.${CLUSTER}.gossip.hb.n1`, "");
    await settle(vic);
    expect(violations.map((v) => v.replace(/^.*Publish to /, ""))).toEqual([`"dcnet.${CLUSTER}.admin.admin._all.shutdown"`, `"dcnet.${CLUSTER}.gossip.hb.n1"`]);
  });

  it("a node hears the server's advisory when another node's connection closes, with that node's certificate user; a viewer may not listen, nobody may forge one", async () => {
    const n1 = await as("n1");
    const vic = await as("vic");
    const violations = { n1: errorsOf(n1), vic: errorsOf(vic) };
    const heard: Array<ReturnType<typeof parseAdvisory>> = [];
    n1.subscribe(ADVISORY_SUBJECTS.disconnect, { callback: (_e, m) => void heard.push(parseAdvisory(CLUSTER, m.data)) });
    vic.subscribe(ADVISORY_SUBJECTS.disconnect);
    n1.publish(`$SYS.ACCOUNT.${DCNET_ACCOUNT}.DISCONNECT`, JSON.stringify({ type: "io.nats.server.advisory.v1.client_disconnect", client: { name: `dcnet.${CLUSTER}.n2` }, reason: "Client Closed" }));
    await settle(n1);
    await settle(vic);
    const c = loadCredential(creds.bundle("n2"));
    const t = await Transport.connect({ servers: [server.url], cluster: CLUSTER, nodeId: "n2", logger: silent, tls: c.tls, inboxPrefix: inboxPrefix(CLUSTER, "n2"), connectTimeoutMs: 3000 });
    await t.close();
    const deadline = Date.now() + 3000;
    while (heard.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    // Exactly the server's one: the forged publish was refused.
    expect(heard).toEqual([{ ok: true, advisory: { type: "disconnect", node: "n2", reason: "Client Closed" } }]);
    expect(violations.n1).toEqual([expect.stringContaining(`Permissions Violation for Publish to "$SYS.ACCOUNT.${DCNET_ACCOUNT}.DISCONNECT"`)]);
    expect(violations.vic).toEqual([expect.stringContaining(`Permissions Violation for Subscription to "${ADVISORY_SUBJECTS.disconnect}"`)]);
  });

  it("a node uses the JetStream KV bucket it is granted (KvAllocator) and cannot delete it", async () => {
    const n1 = await as("n1");
    const alloc = await KvAllocator.open(n1, { bucket: "alloc", timeoutMs: 2000 });
    expect(await alloc.claim("agent-a", ["10.0.0.0/24", "10.0.1.0/24"])).toBe("10.0.0.0/24");
    expect(await alloc.lookup("agent-a")).toBe("10.0.0.0/24");
    expect(await alloc.entries()).toEqual([{ name: "agent-a", value: "10.0.0.0/24" }]);
    expect(await alloc.release("agent-a")).toBe(true);
    const jsm = await jetstreamManager(await as("n2"), { timeout: 1000 });
    await expect(jsm.streams.delete("KV_alloc")).rejects.toThrow(/Permissions Violation|timeout/i);
    await expect(KvAllocator.open(n1, { bucket: "other", timeoutMs: 1000 })).rejects.toMatchObject({ name: "AllocationUnavailableError" });
  });
});

describe("a 3-server cluster with TLS routes", () => {
  it("forms its routes with server certificates, carries a node's messages across, and refuses a node certificate on the route port", async () => {
    const three = await makeTestCreds({ cluster: "tri", servers: 3, nodes: ["a", "b"] });
    const cluster = await startNatsCluster(3, { jetstream: false, secure: three.secureCluster() });
    try {
      const a = await connectAs(cluster.urls[0] as string, three.bundle("a"));
      const b = await connectAs(cluster.urls[2] as string, three.bundle("b"));
      open.push(a, b);
      const got = new Promise<string>((resolve) => b.subscribe("dcnet.tri.gossip.hb.*", { callback: (_e, m) => resolve(m.subject) }));
      await settle(b);
      await new Promise((r) => setTimeout(r, 300)); // the interest crosses the routes
      a.publish("dcnet.tri.gossip.hb.a", "beat");
      await expect(got).resolves.toBe("dcnet.tri.gossip.hb.a");
      // A route speaks CONNECT like a client; with a node certificate it gets Authorization Violation.
      const cred = loadCredential(three.bundle("a"));
      const reply = await routeConnect(cluster.servers[0] as NatsServerHandle, cred);
      expect(reply).toContain("Authorization Violation");
    } finally {
      await cluster.stop();
      three.cleanup();
    }
  }, 60_000);
});

/** Opens a TLS connection to a server's route port with a client certificate and sends a route CONNECT. */
async function routeConnect(s: NatsServerHandle, cred: Credential): Promise<string> {
  const varz = (await (await fetch(`http://127.0.0.1:${s.httpPort}/varz`)).json()) as { cluster?: { cluster_port?: number } };
  const port = varz.cluster?.cluster_port;
  if (!port) throw new Error("no route port in /varz");
  return new Promise((resolve, reject) => {
    let out = "";
    const sock = tlsConnect({ host: "127.0.0.1", port, ca: cred.tls.ca, cert: cred.tls.cert, key: cred.tls.key });
    const timer = setTimeout(() => (sock.destroy(), resolve(out)), 3000);
    sock.on("data", (d: Buffer) => {
      out += d.toString();
      if (out.includes("-ERR")) {
        clearTimeout(timer);
        sock.destroy();
        resolve(out);
      }
    });
    sock.on("error", (e) => (clearTimeout(timer), reject(e)));
    sock.write('CONNECT {"verbose":false,"pedantic":false,"tls_required":true,"name":"intruder","cluster":"dcnet-test","headers":true}\r\nPING\r\n');
  });
}
