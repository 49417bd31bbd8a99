// bench/admin-rtt: admin `ping` round trip (CLI client → NATS → micro service → admin actor →
// reply) next to a bare NATS request/reply echo on the same server, in the same run, alternating
// rounds so machine noise hits both alike. Prints p50/p99 of each and the ratio (target ≤ 1.5).
//
// And the same again with authentication on (docs/security.md): a second server with TLS and client
// certificates mapped to users, a node with its node credential, the client with an admin credential.
// Rounds alternate plain / auth+TLS, the order flipping every round; the overhead is the median over
// rounds of (auth+TLS p50 / plain p50), target ≤ 1.2. Both sides must have answered every ping alike.
//   npx tsx bench/admin-rtt.ts [--rounds 11] [--per-round 400] [--no-auth-compare]
import { pino } from "pino";
import type { NatsConnection } from "@nats-io/nats-core";
import { freePort, startNatsServer, type NatsServerHandle } from "../integration/harness/nats-local.js";
import { connectAs, makeTestCreds, type TestCreds } from "../integration/harness/creds.js";
import { startNode, type NodeHandle } from "../actors/node/index.js";
import { validateConfig } from "../actors/node/config.js";
import { createLogHub } from "../observability/logger.js";
import { createRegistry } from "../observability/metrics.js";
import { Transport } from "../transport/index.js";
import { inboxPrefix, loadCredential } from "../transport/auth/index.js";
import { AdminClient } from "../actors/admin/index.js";
import { percentile, arg } from "./stats.js";

const rounds = arg("--rounds", 11);
const perRound = arg("--per-round", 400);
const compare = !process.argv.includes("--no-auth-compare");

/** One measured setup: a server, a node named `bench` on it, an admin client, and a raw echo pair. */
interface Side {
  readonly label: string;
  readonly server: NatsServerHandle;
  readonly node: NodeHandle;
  readonly client: Transport;
  readonly admin: AdminClient;
  /** One raw NATS request/reply round trip. */
  readonly raw: () => Promise<unknown>;
  /** Every ping's reply, as `node version`: both sides must say the same. */
  readonly answers: Map<string, number>;
  readonly admSamples: number[];
  readonly rawSamples: number[];
  /** Per-round p50/p99 of admin ping and raw echo. */
  readonly perRound: Array<{ adm50: number; adm99: number; raw50: number; raw99: number }>;
  close(): Promise<void>;
}

const payload = new Uint8Array(16);
const quietNode = { log: { level: "warn" as const }, metrics: { listen: "" } };

async function plainSide(): Promise<Side> {
  const server = await startNatsServer({});
  const node = await startNode(validateConfig({ id: "bench", nats: { servers: [server.url], insecure: true }, dns: { listen: [`127.0.0.1:${await freePort()}`] }, ...quietNode }), {
    logs: createLogHub({ level: "warn", bindings: { node: "bench" } }),
  });
  const client = await Transport.connect({
    servers: [server.url],
    cluster: "dcnet",
    nodeId: "bench-client",
    logger: pino({ level: "warn" }),
    metrics: createRegistry({ node: "bench-client", cluster: "dcnet" }),
  });
  // The reference: the cheapest possible request/reply on the same connection pair.
  const echo = node.transport.nc.subscribe("bench.raw.echo", { callback: (_err, m) => void m.respond(m.data) });
  return side("plain", server, node, client, new AdminClient(client, 2000), () => client.nc.request("bench.raw.echo", payload, { timeout: 2000 }), async () => echo.unsubscribe());
}

/**
 * TLS + client certificates: the node with its node credential, the client with an admin
 * credential (requests under `admin.admin.…`). The raw reference is two node identities on the only
 * subjects their permissions allow for it: one answers on its bucket subject, the other asks there
 * and gets the reply in its own inbox (allow_responses).
 */
async function secureSide(creds: TestCreds): Promise<Side> {
  const server = await startNatsServer({ secure: creds.server() });
  const url = `tls://127.0.0.1:${server.port}`;
  const node = await startNode(validateConfig({ id: "bench", nats: { servers: [url], credentials: creds.bundle("bench") }, dns: { listen: [`127.0.0.1:${await freePort()}`] }, ...quietNode }), {
    logs: createLogHub({ level: "warn", bindings: { node: "bench" } }),
  });
  const cred = loadCredential(creds.bundle("bench-admin"));
  const client = await Transport.connect({
    servers: [url],
    cluster: "dcnet",
    nodeId: "bench-client",
    logger: pino({ level: "warn" }),
    metrics: createRegistry({ node: "bench-client", cluster: "dcnet" }),
    tls: cred.tls,
    inboxPrefix: inboxPrefix(cred.cluster, cred.name),
  });
  const admin = new AdminClient(client, 2000, undefined, { role: "admin" });
  const [echo, asker]: NatsConnection[] = await Promise.all([connectAs(url, creds.bundle("echo"), { tls12: false }), connectAs(url, creds.bundle("asker"), { tls12: false })]);
  const subject = client.subjects.gossipBucket("echo");
  (echo as NatsConnection).subscribe(subject, { callback: (_err, m) => void m.respond(m.data) });
  await (echo as NatsConnection).flush();
  return side("auth+TLS", server, node, client, admin, () => (asker as NatsConnection).request(subject, payload, { timeout: 2000 }), async () => {
    await Promise.all([echo, asker].map((nc) => nc?.close()));
  });
}

function side(label: string, server: NatsServerHandle, node: NodeHandle, client: Transport, admin: AdminClient, raw: () => Promise<unknown>, extraClose: () => Promise<void>): Side {
  return {
    label,
    server,
    node,
    client,
    admin,
    raw,
    answers: new Map(),
    admSamples: [],
    rawSamples: [],
    perRound: [],
    async close() {
      await extraClose().catch(() => undefined);
      await client.close();
      await node.stop("bench done");
      await server.stop();
    },
  };
}

async function timeAdmin(s: Side, n: number, out: number[]): Promise<void> {
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    const pong = await s.admin.request("bench", "ping", {});
    out.push(performance.now() - t);
    const answer = `${pong.node} ${pong.version}`;
    s.answers.set(answer, (s.answers.get(answer) ?? 0) + 1);
  }
}
async function timeRaw(s: Side, n: number, out: number[]): Promise<void> {
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await s.raw();
    out.push(performance.now() - t);
  }
}

async function round(s: Side): Promise<void> {
  const a: number[] = [];
  const r: number[] = [];
  await timeAdmin(s, perRound, a);
  await timeRaw(s, perRound, r);
  s.admSamples.push(...a);
  s.rawSamples.push(...r);
  s.perRound.push({ adm50: percentile(a, 50), adm99: percentile(a, 99), raw50: percentile(r, 50), raw99: percentile(r, 99) });
}

const fmt = (x: number): string => x.toFixed(3);
const creds = compare ? await makeTestCreds({ cluster: "dcnet", nodes: ["bench", "echo", "asker"], users: [{ name: "bench-admin", role: "admin" }] }) : undefined;
const sides: Side[] = [];
try {
  sides.push(await plainSide());
  if (creds) sides.push(await secureSide(creds));
  for (const s of sides) {
    await timeAdmin(s, 100, []); // warm-up: JIT, connection buffers, TLS session
    await timeRaw(s, 100, []);
    s.answers.clear();
  }
  for (let i = 0; i < rounds; i++) for (const s of i % 2 === 0 ? sides : [...sides].reverse()) await round(s);

  const [plain, secure] = sides as [Side, Side | undefined];
  const ap50 = percentile(plain.admSamples, 50), ap99 = percentile(plain.admSamples, 99), rp50 = percentile(plain.rawSamples, 50), rp99 = percentile(plain.rawSamples, 99);
  console.log(`admin ping : n=${plain.admSamples.length} p50=${fmt(ap50)} ms p99=${fmt(ap99)} ms`);
  console.log(`raw nats   : n=${plain.rawSamples.length} p50=${fmt(rp50)} ms p99=${fmt(rp99)} ms`);
  console.log(`admin-rtt: ratio p50=${(ap50 / rp50).toFixed(2)} p99=${(ap99 / rp99).toFixed(2)} (target p50 ratio <= 1.5)`);
  if (secure) {
    const sp50 = percentile(secure.admSamples, 50), sp99 = percentile(secure.admSamples, 99), sr50 = percentile(secure.rawSamples, 50), sr99 = percentile(secure.rawSamples, 99);
    console.log(`admin ping auth+TLS : n=${secure.admSamples.length} p50=${fmt(sp50)} ms p99=${fmt(sp99)} ms`);
    console.log(`raw nats auth+TLS   : n=${secure.rawSamples.length} p50=${fmt(sr50)} ms p99=${fmt(sr99)} ms`);
    console.log(`admin-rtt auth+TLS: ratio p50=${(sp50 / sr50).toFixed(2)} p99=${(sp99 / sr99).toFixed(2)}`);
    type Round = Side["perRound"][number];
    const ratio = (f: (r: Round) => number): number => percentile(secure.perRound.map((r, i) => f(r) / f(plain.perRound[i] as Round)), 50);
    console.log(
      `auth+TLS overhead (median of ${rounds} interleaved rounds, order alternating): admin ping p50 x${ratio((r) => r.adm50).toFixed(2)} p99 x${ratio((r) => r.adm99).toFixed(2)}; ` +
        `raw nats p50 x${ratio((r) => r.raw50).toFixed(2)} p99 x${ratio((r) => r.raw99).toFixed(2)} (target admin p50 <= 1.2)`,
    );
    const same = JSON.stringify([...plain.answers]) === JSON.stringify([...secure.answers]);
    console.log(`answers: plain ${JSON.stringify(Object.fromEntries(plain.answers))}, auth+TLS ${JSON.stringify(Object.fromEntries(secure.answers))}: ${same ? "same" : "DIFFERENT"}`);
    if (!same) process.exitCode = 1;
  }
} finally {
  for (const s of sides) await s.close().catch((err: unknown) => console.error(err));
  creds?.cleanup();
}
