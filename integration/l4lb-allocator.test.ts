// Named-VIP addresses against real nats-servers with JetStream (issue 12, point 3): dcos-net hashed
// a name to an address on each node and probed locally, so two nodes could disagree; here every
// node claims through the cluster's JetStream KV and follows every node's allocations, so they
// cannot. Each allocator below is the real actor on its own NATS connection, as on its own node.
import { afterAll, afterEach, describe, expect, it } from "@jest/globals";
import { connect } from "@nats-io/transport-node";
import type { NatsConnection } from "@nats-io/nats-core";
import { pino } from "pino";
import { Registry } from "prom-client";
import { startTree, supervisor, worker, type ActorRef, type Tree } from "../supervisors/index.js";
import { KvAllocator } from "../transport/index.js";
import { allocationName } from "../actors/l4lb/model.js";
import { allocatorBehaviour, NAMED_VIP_BUCKET, type AllocatorMsg, type AllocatorStatus, type AllocatorView } from "../actors/l4lb/index.js";
import { startNatsCluster, startNatsServer, type NatsServerHandle } from "./harness/nats-local.js";
import { connectAs, makeTestCreds } from "./harness/creds.js";

const V4 = { min: "11.0.0.0", max: "11.255.255.254" };
const V6 = { min: "fd01:c::", max: "fd01:c::ffff:ffff:ffff:ffff" };
const NAMES = Array.from({ length: 1000 }, (_, i) => allocationName(`app-${i}.marathon`, i % 10 === 0 ? "ip6" : "ip"));

const conns: NatsConnection[] = [];
const trees: Tree[] = [];
const servers: Array<{ stop(): Promise<void> }> = [];

afterEach(async () => {
  await Promise.all(trees.splice(0).map((t) => t.shutdown()));
  await Promise.all(conns.splice(0).map((nc) => nc.close().catch(() => undefined)));
});
afterAll(async () => {
  await Promise.all(servers.splice(0).map((s) => s.stop()));
});

async function server(): Promise<NatsServerHandle> {
  const s = await startNatsServer({ jetstream: true });
  servers.push(s);
  return s;
}

async function conn(url: string): Promise<NatsConnection> {
  const nc = await connect({ servers: [url], maxReconnectAttempts: -1, reconnectTimeWait: 100 });
  conns.push(nc);
  return nc;
}

interface Allocator {
  readonly ref: ActorRef<AllocatorMsg>;
  want(names: readonly string[]): void;
  view(): AllocatorView;
  status(): Promise<AllocatorStatus>;
  until(cond: (v: AllocatorView) => boolean, what: string, ms?: number): Promise<AllocatorView>;
  stop(): Promise<void>;
}

/** One node's allocator actor on its own connection. */
async function allocator(nc: NatsConnection, opts: { bucket: string; replicas?: 1 | 3; graceMs?: number; v4?: { min: string; max: string } }): Promise<Allocator> {
  const tree = await startTree(
    supervisor("node", "one_for_one", [
      worker(
        "allocator",
        allocatorBehaviour({
          logger: pino({ level: process.env.ALLOC_LOG ?? "error" }),
          metrics: new Registry(),
          connection: () => nc,
          bucket: opts.bucket,
          replicas: opts.replicas ?? 1,
          graceMs: opts.graceMs ?? 300_000,
          ranges: { v4: opts.v4 ?? V4, v6: V6 },
          timeoutMs: 5_000,
        }),
      ),
    ]),
  );
  trees.push(tree);
  const ref = tree.lookup<AllocatorMsg>("/node/allocator") as ActorRef<AllocatorMsg>;
  let last: AllocatorView = { addresses: new Map(), ready: false };
  await ref.ask<number>((reply) => ({ type: "watch", subscriber: (v) => (last = v), reply }), 2000);
  return {
    ref,
    want: (names) => ref.tell({ type: "want", names }),
    view: () => last,
    status: () => ref.ask<AllocatorStatus>((reply) => ({ type: "status", reply }), 2000),
    until: async (cond, what, ms = 20_000) => {
      const end = Date.now() + ms;
      while (!cond(last)) {
        if (Date.now() > end) throw new Error(`timed out waiting for ${what} (${last.addresses.size} addresses, ready ${last.ready})`);
        await new Promise((r) => setTimeout(r, 20));
      }
      return last;
    },
    stop: async () => {
      trees.splice(trees.indexOf(tree), 1);
      await tree.shutdown();
    },
  };
}

function shuffled<T>(xs: readonly T[], seed: number): T[] {
  const out = [...xs];
  let s = seed;
  for (let i = out.length - 1; i > 0; i--) {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

/** Both nodes want every name (in their own order) and must end with the same 1,000 distinct addresses. */
async function race(a: Allocator, b: Allocator, names: readonly string[]): Promise<ReadonlyMap<string, string>> {
  // Both running, as on nodes of a cluster whose bucket exists: the race is for the names.
  await Promise.all([a.until((v) => v.ready, "node A's first read"), b.until((v) => v.ready, "node B's first read")]);
  const t0 = Date.now();
  a.want(shuffled(names, 1));
  b.want(shuffled(names, 2));
  const full = (v: AllocatorView) => v.ready && names.every((n) => v.addresses.has(n));
  const [va, vb] = await Promise.all([a.until(full, "node A's addresses", 60_000), b.until(full, "node B's addresses", 60_000)]);
  const [sa, sb] = await Promise.all([a.status(), b.status()]);
  // Claims beyond one per name are names both nodes claimed at once (the others each saw in the watch).
  console.log(`l4lb allocator: ${names.length} names claimed by two racing nodes in ${Date.now() - t0} ms (claims: ${sa.claims} + ${sb.claims})`);
  expect([...va.addresses].sort()).toEqual([...vb.addresses].sort());
  const values = names.map((n) => va.addresses.get(n) as string);
  expect(new Set(values).size).toBe(names.length);
  for (const n of names) expect(va.addresses.get(n)).toMatch(n.startsWith("v4:") ? /^11\.\d+\.\d+\.\d+$/ : /^fd01:c::/);
  return va.addresses;
}

describe("named-VIP allocator on JetStream", () => {
  it("two nodes racing for the same 1,000 names in different orders end with identical maps of 1,000 distinct addresses; a restarted node gets the same ones back", async () => {
    const s = await server();
    const bucket = "race-1000";
    const [a, b] = await Promise.all([conn(s.url).then((nc) => allocator(nc, { bucket })), conn(s.url).then((nc) => allocator(nc, { bucket }))]);
    const map = await race(a, b, NAMES);
    // The KV holds exactly that (every val key agrees), read by a third party.
    const entries = await (await KvAllocator.open(await conn(s.url), { bucket })).entries();
    expect(new Map(entries.map((e) => [e.name, e.value]))).toEqual(new Map(map));
    const [sa, sb] = await Promise.all([a.status(), b.status()]);
    expect(sa.held).toBe(1000);
    expect(sb.held).toBe(1000);
    expect(sa.claims + sb.claims).toBeGreaterThanOrEqual(1000);

    // Node A restarts (new actor, new connection): same names, same addresses, and nothing new to claim.
    await a.stop();
    const again = await allocator(await conn(s.url), { bucket });
    again.want(shuffled(NAMES, 3));
    const v = await again.until((x) => x.ready && NAMES.every((n) => x.addresses.has(n)), "the restarted node's addresses");
    expect(new Map(v.addresses)).toEqual(new Map(map));
    expect((await again.status()).claims).toBe(0);
  }, 120_000);

  it("releases a name unwanted for the grace period, not before, and its address then goes to another name", async () => {
    const s = await server();
    const graceMs = 1500;
    // A one-address range: the second name can only get the first one's address once it is freed.
    const one = { min: "11.0.0.7", max: "11.0.0.7" };
    const bucket = "grace";
    const [a, b] = await Promise.all([conn(s.url).then((nc) => allocator(nc, { bucket, graceMs, v4: one })), conn(s.url).then((nc) => allocator(nc, { bucket, graceMs, v4: one }))]);
    const first = allocationName("first.marathon", "ip");
    const second = allocationName("second.marathon", "ip");
    a.want([first]);
    await a.until((v) => v.addresses.get(first) === "11.0.0.7", "the first name's address");
    b.want([second]);
    await new Promise((r) => setTimeout(r, 300));
    expect(await b.status()).toMatchObject({ pending: 1, exhausted: 1 });

    const t0 = Date.now();
    a.want([]);
    await new Promise((r) => setTimeout(r, graceMs / 2));
    expect(b.view().addresses.get(first)).toBe("11.0.0.7"); // still held inside the grace period
    expect(b.view().addresses.has(second)).toBe(false);
    const v = await b.until((x) => x.addresses.get(second) === "11.0.0.7", "the freed address going to the second name", 10_000);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(graceMs);
    expect(v.addresses.has(first)).toBe(false);
    expect(await a.status()).toMatchObject({ releases: 1 });
    await a.until((x) => x.addresses.get(second) === "11.0.0.7" && !x.addresses.has(first), "node A seeing the hand-over");
  }, 60_000);

  it("on a 3-server cluster with JetStream replicas 3, two nodes on different servers agree on 1,000 names", async () => {
    const cluster = await startNatsCluster(3, { jetstream: true });
    servers.push(cluster);
    const bucket = "r3";
    // The first allocator creates the R3 bucket; the second joins it once it exists (a direct get sent
    // while the stream is still being created goes unanswered until the op's timeout).
    const a = await allocator(await conn(cluster.urls[0] as string), { bucket, replicas: 3 });
    await a.until((v) => v.ready, "the bucket");
    const b = await allocator(await conn(cluster.urls[2] as string), { bucket, replicas: 3 });
    await race(a, b, NAMES);
  }, 180_000);

  it(`in a secure cluster a node granted the ${NAMED_VIP_BUCKET} bucket allocates and watches; one without the grant only waits`, async () => {
    const granted = await makeTestCreds({ cluster: "sec", nodes: ["n1", "n2"], kvBuckets: [NAMED_VIP_BUCKET] });
    const s = await startNatsServer({ secure: granted.server(), jetstream: true });
    const bare = await makeTestCreds({ cluster: "sec", nodes: ["n3"] });
    const s2 = await startNatsServer({ secure: bare.server(), jetstream: true });
    servers.push(s, s2, { stop: async () => (granted.cleanup(), bare.cleanup()) });
    const nc = async (url: string, bundle: string) => {
      const c = await connectAs(url, bundle, { tls12: false, timeoutMs: 5000 });
      conns.push(c);
      return c;
    };
    const names = NAMES.slice(0, 50);
    const a = await allocator(await nc(s.url, granted.bundle("n1")), { bucket: NAMED_VIP_BUCKET });
    const b = await allocator(await nc(s.url, granted.bundle("n2")), { bucket: NAMED_VIP_BUCKET });
    await race(a, b, names);

    const c = await allocator(await nc(s2.url, bare.bundle("n3")), { bucket: NAMED_VIP_BUCKET });
    c.want(names);
    await new Promise((r) => setTimeout(r, 1000));
    expect(await c.status()).toMatchObject({ available: false, held: 0, pending: 50 });
  }, 60_000);
});
