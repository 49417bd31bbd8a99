// The named-VIP allocator against an in-memory stand-in for the KV (same contract as KvAllocator:
// claim is idempotent, first free candidate wins, the watch gives the current state, ready, then
// changes). What the applier and an operator would notice: which names get which address and when,
// releases only after the grace period, and a KV that is away at start or fills up.
import { afterEach, describe, expect, it } from "@jest/globals";
import { pino } from "pino";
import { Registry } from "prom-client";
import { startTree, supervisor, worker, type ActorRef, type Tree } from "../../supervisors/index.js";
import { AllocationExhaustedError, AllocationUnavailableError } from "../../transport/index.js";
import type { AllocationEvent, AllocationWatch } from "../../transport/kv-allocator.js";
import { allocatorBehaviour, type AllocationStore, type AllocatorDeps, type AllocatorMsg, type AllocatorStatus, type AllocatorView } from "./allocator.actor.js";
import { allocationName } from "./model.js";
import { InvalidNamedRangeError } from "./names/errors.js";

const V4 = { min: "11.0.0.0", max: "11.255.255.254" };
const V6 = { min: "fd01:c::", max: "fd01:c::ffff:ffff:ffff:ffff" };

/** One KV bucket shared by any number of stores (nodes). */
class FakeKv {
  readonly byName = new Map<string, string>();
  readonly byValue = new Map<string, string>();
  readonly watchers = new Set<(ev: AllocationEvent) => void>();
  down = false;
  /** Only watches fail (a node cut off from the stream leader: its reads still work). */
  watchDown = false;
  claims = 0;
  inflight = 0;
  maxInflight = 0;
  /** Each operation waits this long (ms): lets claims overlap. */
  latencyMs = 0;

  store(): AllocationStore {
    return {
      claim: (name, candidates) => this.#op(() => this.claimNow(name, candidates)),
      release: (name) => this.#op(() => this.releaseNow(name)),
      watch: async () => {
        if (this.down || this.watchDown) throw new AllocationUnavailableError("fake", "watch");
        return this.#watch();
      },
    };
  }

  claimNow(name: string, candidates: Iterable<string>): string {
    this.claims++;
    const held = this.byName.get(name);
    if (held !== undefined) return held;
    let tried = 0;
    for (const c of candidates) {
      tried++;
      if (this.byValue.has(c)) continue;
      this.byName.set(name, c);
      this.byValue.set(c, name);
      this.#emit({ type: "change", name, value: c });
      return c;
    }
    throw new AllocationExhaustedError("fake", name, tried);
  }

  releaseNow(name: string): boolean {
    const v = this.byName.get(name);
    if (v === undefined) return false;
    this.byName.delete(name);
    this.byValue.delete(v);
    this.#emit({ type: "change", name, value: undefined });
    return true;
  }

  async #op<T>(f: () => T): Promise<T> {
    this.inflight++;
    this.maxInflight = Math.max(this.maxInflight, this.inflight);
    try {
      await new Promise((r) => setTimeout(r, this.latencyMs));
      if (this.down) throw new AllocationUnavailableError("fake", "op");
      return f();
    } finally {
      this.inflight--;
    }
  }

  #emit(ev: AllocationEvent): void {
    for (const w of this.watchers) w(ev);
  }

  #watch(): AllocationWatch {
    const queue: AllocationEvent[] = [...[...this.byName].map(([name, value]): AllocationEvent => ({ type: "change", name, value })), { type: "ready" }];
    let wake: (() => void) | undefined;
    let stopped = false;
    const push = (ev: AllocationEvent): void => {
      queue.push(ev);
      wake?.();
    };
    this.watchers.add(push);
    const stop = (): void => {
      stopped = true;
      this.watchers.delete(push);
      wake?.();
    };
    async function* events(): AsyncGenerator<AllocationEvent> {
      while (!stopped) {
        const ev = queue.shift();
        if (ev) yield ev;
        else await new Promise<void>((r) => (wake = r));
      }
    }
    const gen = events();
    return { [Symbol.asyncIterator]: () => gen, stop };
  }
}

const trees: Tree[] = [];
afterEach(async () => {
  await Promise.all(trees.splice(0).map((t) => t.shutdown()));
});

interface Node {
  readonly ref: ActorRef<AllocatorMsg>;
  readonly views: AllocatorView[];
  readonly logs: Array<{ level: number; msg: string }>;
  readonly metrics: Registry;
  want(...names: string[]): void;
  status(): Promise<AllocatorStatus>;
  last(): AllocatorView;
  until(cond: (v: AllocatorView) => boolean, what: string, ms?: number): Promise<AllocatorView>;
}

async function node(kv: FakeKv | (() => Promise<AllocationStore>), over: Partial<AllocatorDeps> = {}): Promise<Node> {
  const logs: Array<{ level: number; msg: string }> = [];
  const logger = pino({ level: "debug" }, { write: (line: string) => void logs.push(JSON.parse(line) as { level: number; msg: string }) });
  const metrics = new Registry();
  const deps: AllocatorDeps = {
    logger,
    metrics,
    connection: () => undefined,
    bucket: "fake",
    replicas: 1,
    graceMs: 5 * 60_000,
    ranges: { v4: V4, v6: V6 },
    retryMs: 20,
    maxRetryMs: 100,
    openStore: typeof kv === "function" ? kv : async () => kv.store(),
    ...over,
  };
  const tree = await startTree(supervisor("node", "one_for_one", [worker("allocator", allocatorBehaviour(deps))]));
  trees.push(tree);
  const ref = tree.lookup<AllocatorMsg>("/node/allocator") as ActorRef<AllocatorMsg>;
  const views: AllocatorView[] = [];
  await ref.ask<number>((reply) => ({ type: "watch", subscriber: (v) => void views.push(v), reply }), 1000);
  const last = (): AllocatorView => views[views.length - 1] as AllocatorView;
  return {
    ref,
    views,
    logs,
    metrics,
    want: (...names) => ref.tell({ type: "want", names }),
    status: () => ref.ask<AllocatorStatus>((reply) => ({ type: "status", reply }), 1000),
    last,
    until: async (cond, what, ms = 3000) => {
      const end = Date.now() + ms;
      while (!cond(last())) {
        if (Date.now() > end) throw new Error(`timed out waiting for ${what}; last view: ${JSON.stringify([...last().addresses])}`);
        await new Promise((r) => setTimeout(r, 5));
      }
      return last();
    },
  };
}

const v4 = (dns: string) => allocationName(dns, "ip");
const v6 = (dns: string) => allocationName(dns, "ip6");
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const metric = async (m: Registry, name: string, labels: Record<string, string> = {}) =>
  (await m.getSingleMetric(name)?.get())?.values.find((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x))?.value ?? 0;

describe("allocator actor", () => {
  it("gives every wanted name an address of its family's range; watchers get the whole map, ready once the KV was read", async () => {
    const kv = new FakeKv();
    const n = await node(kv);
    expect(n.views[0]).toEqual({ addresses: new Map(), ready: false }); // the current view at once
    n.want(v4("web.marathon"), v6("web.marathon"), v4("db.marathon"));
    const v = await n.until((x) => x.ready && x.addresses.size === 3, "three addresses");
    expect(v.addresses.get(v4("web.marathon"))).toMatch(/^11\.\d+\.\d+\.\d+$/);
    expect(v.addresses.get(v4("db.marathon"))).toMatch(/^11\.\d+\.\d+\.\d+$/);
    expect(v.addresses.get(v6("web.marathon"))).toMatch(/^fd01:c::/);
    expect(new Set(v.addresses.values()).size).toBe(3);
    expect(await n.status()).toMatchObject({ available: true, ready: true, held: 3, pending: 0, allocated: 3, claims: 3, releases: 0, failures: 0 });
    expect(await metric(n.metrics, "dcnet_l4lb_named_vip_claims_total", { outcome: "claimed" })).toBe(3);
  });

  it("learns other nodes' allocations from the watch and does not claim what is already held", async () => {
    const kv = new FakeKv();
    kv.claimNow(v4("a.marathon"), ["11.0.0.9"]);
    kv.claimNow(v4("b.marathon"), ["11.0.0.10"]);
    kv.claims = 0;
    const n = await node(kv);
    await n.until((x) => x.ready, "the initial read");
    expect(n.last().addresses).toEqual(new Map([[v4("a.marathon"), "11.0.0.9"], [v4("b.marathon"), "11.0.0.10"]]));
    n.want(v4("a.marathon"));
    kv.claimNow(v4("c.marathon"), ["11.0.0.11"]); // another node, later
    await n.until((x) => x.addresses.has(v4("c.marathon")), "another node's new allocation");
    expect(kv.claims).toBe(1); // only the other node's; a.marathon came from the view
    expect(await n.status()).toMatchObject({ held: 1, pending: 0, allocated: 3, claims: 0 });
  });

  it("releases a name only once it has been unwanted for the whole grace period, and not one wanted again in time", async () => {
    const kv = new FakeKv();
    const graceMs = 300;
    const n = await node(kv, { graceMs });
    n.want(v4("keep.marathon"), v4("flap.marathon"), v4("gone.marathon"));
    await n.until((x) => x.addresses.size === 3, "three addresses");
    const flapAddr = n.last().addresses.get(v4("flap.marathon"));
    const t0 = Date.now();
    n.want(v4("keep.marathon"));
    await sleep(graceMs / 2);
    expect(kv.byName.has(v4("gone.marathon"))).toBe(true); // still inside the grace period
    n.want(v4("keep.marathon"), v4("flap.marathon")); // its tasks came back in time
    await n.until((x) => !x.addresses.has(v4("gone.marathon")), "the release of gone.marathon");
    expect(Date.now() - t0).toBeGreaterThanOrEqual(graceMs);
    await sleep(graceMs);
    expect(n.last().addresses.get(v4("flap.marathon"))).toBe(flapAddr);
    expect([...kv.byName.keys()].sort()).toEqual([v4("flap.marathon"), v4("keep.marathon")]);
    expect(await n.status()).toMatchObject({ releases: 1, releasing: 0, held: 2 });
    expect(await metric(n.metrics, "dcnet_l4lb_named_vip_releases_total")).toBe(1);
  });

  it("never releases a name it did not itself see wanted, even if nobody wants it", async () => {
    const kv = new FakeKv();
    kv.claimNow(v4("other.marathon"), ["11.0.0.1"]);
    const n = await node(kv, { graceMs: 30 });
    n.want(v4("mine.marathon"));
    await n.until((x) => x.addresses.has(v4("mine.marathon")), "mine");
    n.want();
    await n.until((x) => !x.addresses.has(v4("mine.marathon")), "mine released");
    await sleep(100);
    expect([...kv.byName.keys()]).toEqual([v4("other.marathon")]);
  });

  it("claims a wanted name again when another node releases it", async () => {
    const kv = new FakeKv();
    const n = await node(kv);
    n.want(v4("web.marathon"));
    const first = (await n.until((x) => x.addresses.has(v4("web.marathon")), "an address")).addresses.get(v4("web.marathon"));
    const claims = kv.claims;
    kv.releaseNow(v4("web.marathon"));
    for (let i = 0; i < 200 && !kv.byName.has(v4("web.marathon")); i++) await sleep(5);
    expect(kv.claims).toBe(claims + 1);
    // The probe starts at the same place, so the freed address comes back (so fast that the
    // watchers, notified once per macrotask, may never see it missing).
    expect(kv.byName.get(v4("web.marathon"))).toBe(first);
    expect((await n.until((x) => x.addresses.has(v4("web.marathon")), "the address again")).addresses.get(v4("web.marathon"))).toBe(first);
  });

  it("starts without the KV, warns once, keeps names pending, and allocates when the KV comes", async () => {
    const kv = new FakeKv();
    kv.down = true;
    let opens = 0;
    const n = await node(async () => {
      opens++;
      if (kv.down) throw new AllocationUnavailableError("fake", "open");
      return kv.store();
    });
    n.want(v4("web.marathon"));
    await sleep(300);
    expect(opens).toBeGreaterThan(2); // retried
    expect(await n.status()).toMatchObject({ available: false, ready: false, held: 0, pending: 1 });
    expect(n.logs.filter((l) => l.level === 40)).toHaveLength(1);
    expect(n.logs.find((l) => l.level === 40)?.msg).toMatch(/unavailable/);
    kv.down = false;
    await n.until((x) => x.ready && x.addresses.has(v4("web.marathon")), "the address once the KV is back");
    expect(n.logs.some((l) => l.level === 30 && /available again/.test(l.msg))).toBe(true);
  });

  it("without a watch (cut off from the stream leader) still gets existing addresses back through claims", async () => {
    const kv = new FakeKv();
    kv.claimNow(v4("web.marathon"), ["11.0.0.5"]);
    kv.watchDown = true;
    const n = await node(kv);
    n.want(v4("web.marathon"));
    const v = await n.until((x) => x.addresses.has(v4("web.marathon")), "the address from a claim");
    expect(v).toEqual({ addresses: new Map([[v4("web.marathon"), "11.0.0.5"]]), ready: false });
    kv.watchDown = false;
    await n.until((x) => x.ready, "ready once a watch starts", 5000);
  });

  it("retries claims the KV could not answer, with backoff", async () => {
    const kv = new FakeKv();
    const n = await node(kv);
    await n.until((x) => x.ready, "ready");
    kv.down = true;
    n.want(v4("a.marathon"), v4("b.marathon"));
    await sleep(200);
    const failed = (await n.status()).failures;
    expect(failed).toBeGreaterThan(0);
    expect(failed).toBeLessThan(30); // backing off, not spinning
    expect(await metric(n.metrics, "dcnet_l4lb_named_vip_claims_total", { outcome: "unavailable" })).toBe(failed);
    kv.down = false;
    await n.until((x) => x.addresses.size === 2, "both addresses after the outage");
  });

  it("a full range leaves the name pending (logged, counted) until an address is freed", async () => {
    const kv = new FakeKv();
    const n = await node(kv, { ranges: { v4: { min: "11.0.0.0", max: "11.0.0.1" }, v6: V6 }, graceMs: 50 });
    n.want(v4("a.marathon"), v4("b.marathon"));
    await n.until((x) => x.addresses.size === 2, "the two addresses of the range");
    n.want(v4("a.marathon"), v4("b.marathon"), v4("c.marathon"));
    await sleep(100);
    expect(await n.status()).toMatchObject({ pending: 1, exhausted: 1 });
    expect(await metric(n.metrics, "dcnet_l4lb_named_vip_claims_total", { outcome: "exhausted" })).toBe(1);
    expect(n.logs.filter((l) => /no free named-VIP address/.test(l.msg))).toHaveLength(1);
    const freed = n.last().addresses.get(v4("a.marathon"));
    n.want(v4("b.marathon"), v4("c.marathon"));
    const v = await n.until((x) => x.addresses.has(v4("c.marathon")), "c gets the freed address");
    expect(v.addresses.get(v4("c.marathon"))).toBe(freed);
  });

  it("keeps at most `concurrency` claims in flight and coalesces a burst into few notifications", async () => {
    const kv = new FakeKv();
    kv.latencyMs = 2;
    const n = await node(kv, { concurrency: 4 });
    await n.until((x) => x.ready, "ready");
    const before = n.views.length;
    n.want(...Array.from({ length: 200 }, (_, i) => v4(`app-${i}.marathon`)));
    await n.until((x) => x.addresses.size === 200, "200 addresses", 10_000);
    expect(kv.maxInflight).toBe(4);
    expect(new Set(n.last().addresses.values()).size).toBe(200);
    expect(n.views.length - before).toBeLessThan(100); // one per macrotask at most, not one per claim
  });

  it("a watcher that throws does not stop the others; unwatch stops the notifications", async () => {
    const kv = new FakeKv();
    const n = await node(kv);
    const id = await n.ref.ask<number>((reply) => ({ type: "watch", subscriber: () => { throw new Error("broken watcher"); }, reply }), 1000);
    n.want(v4("a.marathon"));
    await n.until((x) => x.addresses.size === 1, "an address");
    expect(n.logs.some((l) => /watcher threw/.test(l.msg))).toBe(true);
    n.ref.tell({ type: "unwatch", id });
    const count = n.views.length;
    n.want(v4("a.marathon"), v4("b.marathon"));
    await n.until((x) => x.addresses.size === 2, "two addresses");
    expect(n.views.length).toBeGreaterThan(count);
  });

  it("ignores names that are not allocation names, with an error log", async () => {
    const kv = new FakeKv();
    const n = await node(kv);
    n.want("web.marathon", v4("ok.marathon"));
    await n.until((x) => x.addresses.size === 1, "the valid one");
    expect([...n.last().addresses.keys()]).toEqual([v4("ok.marathon")]);
    expect(n.logs.filter((l) => /not a named-VIP allocation name/.test(l.msg))).toHaveLength(1);
  });

  it("refuses a bad range when the behaviour is built", () => {
    const base = { logger: pino({ level: "silent" }), metrics: new Registry(), connection: () => undefined, bucket: "b", replicas: 1 as const, graceMs: 1 };
    expect(() => allocatorBehaviour({ ...base, ranges: { v4: { min: "11.0.0.9", max: "11.0.0.1" }, v6: V6 } })).toThrow(InvalidNamedRangeError);
    expect(() => allocatorBehaviour({ ...base, ranges: { v4: V6, v6: V6 } })).toThrow(/expected IPv4/);
  });
});
