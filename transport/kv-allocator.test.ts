// The KV allocator against a real nats-server with JetStream on loopback.
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { connect } from "@nats-io/transport-node";
import type { NatsConnection } from "@nats-io/nats-core";
import { Kvm } from "@nats-io/kv";
import { startNatsCluster, startNatsServer, type NatsServerHandle } from "../integration/harness/nats-local.js";
import { AllocationBook, AllocationExhaustedError, AllocationUnavailableError, ALLOCATION_ERROR_CODES, KvAllocator, decodeKeyPart, encodeKeyPart, type AllocationEvent, type AllocationWatch } from "./kv-allocator.js";

let server: NatsServerHandle;
const conns: NatsConnection[] = [];

async function conn(url = server.url): Promise<NatsConnection> {
  const nc = await connect({ servers: [url], maxReconnectAttempts: -1, reconnectTimeWait: 100 });
  conns.push(nc);
  return nc;
}

beforeAll(async () => {
  server = await startNatsServer({ jetstream: true });
}, 15_000);

afterAll(async () => {
  await Promise.all(conns.map((nc) => nc.close().catch(() => undefined)));
  await server.stop();
});

async function retryUnavailable<T>(fn: () => Promise<T>, withinMs: number): Promise<T> {
  const until = Date.now() + withinMs;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (!(err instanceof AllocationUnavailableError) || Date.now() > until) throw err;
    }
  }
}

const pool = (n: number): string[] => Array.from({ length: n }, (_, i) => `10.0.${Math.floor(i / 256)}.${i % 256}`);

describe("encodeKeyPart", () => {
  it.each([
    ["9.0.1.0/24", "9_2E0_2E1_2E0/24"],
    ["web-1", "web-1"],
    ["a_b", "a_5Fb"],
    ["/l4lb/vip:80", "/l4lb/vip_3A80"],
    ["ünï", "_C3_BCn_C3_AF"],
    ["..", "_2E_2E"],
  ])("%s ↔ %s", (raw, enc) => {
    expect(encodeKeyPart(raw)).toBe(enc);
    expect(decodeKeyPart(enc)).toBe(raw);
    expect(enc).toMatch(/^[-/_=A-Za-z0-9]+$/);
  });
});

describe("AllocationBook (what a watch reports)", () => {
  const val = (v: string) => `val.${encodeKeyPart(v)}`;
  const idx = (n: string) => `name.${encodeKeyPart(n)}`;

  it("reports a name once name and val agree, and its release when val goes", () => {
    const b = new AllocationBook();
    expect(b.apply(val("11.0.0.1"), "v4:a.marathon")).toEqual([]); // claimed half-way: not yet held
    expect(b.apply(idx("v4:a.marathon"), "11.0.0.1")).toEqual([{ type: "change", name: "v4:a.marathon", value: "11.0.0.1" }]);
    expect(b.apply(val("11.0.0.1"), "v4:a.marathon")).toEqual([]); // a revision bump changes nothing
    expect(b.apply(val("11.0.0.1"), undefined)).toEqual([{ type: "change", name: "v4:a.marathon", value: undefined }]);
    expect(b.apply(idx("v4:a.marathon"), undefined)).toEqual([]);
    expect(b.held().size).toBe(0);
  });

  it("never reports the loser of a race nor a stale index", () => {
    const b = new AllocationBook();
    // Two claims of n start on different values; the index picks y, x is given back.
    b.apply(val("x"), "n");
    b.apply(val("y"), "n");
    expect(b.apply(idx("n"), "y")).toEqual([{ type: "change", name: "n", value: "y" }]);
    expect(b.apply(val("x"), undefined)).toEqual([]);
    // A release that stopped after freeing val leaves name.m → z; z then goes to another name.
    b.apply(val("z"), "m");
    b.apply(idx("m"), "z");
    expect(b.apply(val("z"), undefined)).toEqual([{ type: "change", name: "m", value: undefined }]);
    expect(b.apply(val("z"), "k")).toEqual([]); // k holds val z but has no index yet; m's index is stale
    expect(b.apply(idx("k"), "z")).toEqual([{ type: "change", name: "k", value: "z" }]);
    expect(new Map(b.held())).toEqual(new Map([["n", "y"], ["k", "z"]]));
  });

  it("a val key handed from one name to another moves the allocation", () => {
    const b = new AllocationBook();
    b.apply(val("v"), "a");
    b.apply(idx("a"), "v");
    b.apply(idx("b"), "v");
    expect(b.apply(val("v"), "b")).toEqual([
      { type: "change", name: "a", value: undefined },
      { type: "change", name: "b", value: "v" },
    ]);
  });
});

/** Reads a watch into a map until `until` holds (or the time runs out), marking when `ready` came. */
async function follow(w: AllocationWatch): Promise<{ map: Map<string, string>; events: AllocationEvent[]; readyAt: () => number; until: (cond: () => boolean, ms?: number) => Promise<void> }> {
  const map = new Map<string, string>();
  const events: AllocationEvent[] = [];
  let readyIndex = -1;
  void (async () => {
    for await (const ev of w) {
      events.push(ev);
      if (ev.type === "ready") readyIndex = events.length - 1;
      else if (ev.value === undefined) map.delete(ev.name);
      else map.set(ev.name, ev.value);
    }
  })().catch(() => undefined);
  const until = async (cond: () => boolean, ms = 5000): Promise<void> => {
    const end = Date.now() + ms;
    while (!cond()) {
      if (Date.now() > end) throw new Error(`watch condition not met; events: ${JSON.stringify(events.slice(-5))}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  };
  return { map, events, readyAt: () => readyIndex, until };
}

describe("KvAllocator.watch", () => {
  it("on an empty bucket says ready at once, then reports claims and releases of any allocator", async () => {
    const [a, b] = await Promise.all([conn().then((nc) => KvAllocator.open(nc, { bucket: "w-empty" })), conn().then((nc) => KvAllocator.open(nc, { bucket: "w-empty" }))]);
    const w = follow(await a!.watch());
    const f = await w;
    await f.until(() => f.readyAt() === 0);
    await b!.claim("n1", ["10.0.0.1", "10.0.0.2"]);
    await a!.claim("n2", ["10.0.0.1", "10.0.0.2"]);
    await f.until(() => f.map.size === 2);
    expect(f.map).toEqual(new Map([["n1", "10.0.0.1"], ["n2", "10.0.0.2"]]));
    await b!.release("n1");
    await f.until(() => !f.map.has("n1"));
    expect(f.events.slice(1)).toEqual([
      { type: "change", name: "n1", value: "10.0.0.1" },
      { type: "change", name: "n2", value: "10.0.0.2" },
      { type: "change", name: "n1", value: undefined },
    ]);
  });

  it("starts with every current allocation, then ready, then changes; a half-made claim shows only once finished; stop() ends it", async () => {
    const nc = await conn();
    const alloc = await KvAllocator.open(nc, { bucket: "w-init" });
    for (let i = 0; i < 50; i++) await alloc.claim(`n${i}`, pool(64));
    await alloc.release("n7");
    const raw = await new Kvm(nc).open("w-init");
    await raw.create(`val.${encodeKeyPart("10.0.0.63")}`, "half"); // stopped after val, before name
    const w = await alloc.watch();
    const f = await follow(w);
    await f.until(() => f.readyAt() >= 0);
    // Exactly the 49 held allocations came before ready, each once, and nothing for "half" or n7.
    expect(f.readyAt()).toBe(49);
    expect(new Map(f.map)).toEqual(new Map((await alloc.entries()).filter((e) => e.name !== "half").map((e) => [e.name, e.value])));
    expect(await alloc.claim("half", ["10.0.0.63"])).toBe("10.0.0.63"); // finishes the half-made claim
    await f.until(() => f.map.get("half") === "10.0.0.63");
    w.stop();
    const n = f.events.length;
    await alloc.claim("after-stop", pool(64));
    await new Promise((r) => setTimeout(r, 200));
    expect(f.events.length).toBe(n);
  });

  it("two allocators racing for one name: the watch reports only the value both got", async () => {
    const [a, b] = await Promise.all([conn().then((nc) => KvAllocator.open(nc, { bucket: "w-race" })), conn().then((nc) => KvAllocator.open(nc, { bucket: "w-race" }))]);
    const f = await follow(await a!.watch());
    await f.until(() => f.readyAt() >= 0);
    const got: string[] = [];
    for (let i = 0; i < 20; i++) {
      const [x, y] = await Promise.all([a!.claim(`vip-${i}`, pool(40)), b!.claim(`vip-${i}`, pool(40).reverse())]);
      expect(x).toBe(y);
      got.push(x);
    }
    await f.until(() => f.map.size === 20);
    expect([...f.map.entries()].sort()).toEqual(got.map((v, i) => [`vip-${i}`, v]).sort());
    // Each name was reported once: no value of a losing claim ever showed.
    expect(f.events.filter((e) => e.type === "change")).toHaveLength(20);
  }, 30_000);

  it("without JetStream the watch cannot start, with a typed error", async () => {
    const own = await startNatsServer({ jetstream: true });
    try {
      const alloc = await KvAllocator.open(await conn(own.url), { bucket: "w-gone", timeoutMs: 500 });
      await own.stop();
      await expect(alloc.watch()).rejects.toMatchObject({ name: "AllocationUnavailableError", op: "watch" });
    } finally {
      await own.stop();
    }
  }, 20_000);
});

describe("KvAllocator", () => {
  it("claim is idempotent, lookup finds it, release frees the value for someone else", async () => {
    const alloc = await KvAllocator.open(await conn(), { bucket: "idem" });
    const candidates = ["9.0.1.0/24", "9.0.2.0/24"];
    const first = await alloc.claim("agent-1", candidates);
    expect(first).toBe("9.0.1.0/24");
    expect(await alloc.claim("agent-1", candidates)).toBe(first);
    expect(await alloc.claim("agent-2", candidates)).toBe("9.0.2.0/24");
    expect(await alloc.lookup("agent-1")).toBe(first);
    expect(await alloc.lookup("nobody")).toBeUndefined();

    // Survives a restart: a new allocator on a new connection sees the same claims.
    const again = await KvAllocator.open(await conn(), { bucket: "idem" });
    expect(await again.claim("agent-1", ["9.0.9.0/24"])).toBe(first);
    expect(await again.entries()).toEqual([
      { name: "agent-1", value: "9.0.1.0/24" },
      { name: "agent-2", value: "9.0.2.0/24" },
    ]);

    expect(await alloc.release("agent-1")).toBe(true);
    expect(await alloc.release("agent-1")).toBe(false);
    expect(await alloc.lookup("agent-1")).toBeUndefined();
    expect(await alloc.claim("agent-3", candidates)).toBe("9.0.1.0/24");
    expect(await alloc.entries()).toEqual([
      { name: "agent-2", value: "9.0.2.0/24" },
      { name: "agent-3", value: "9.0.1.0/24" },
    ]);
  });

  it("a claim that stopped between its two writes is finished by the next claim; a stale index is replaced", async () => {
    const nc = await conn();
    const alloc = await KvAllocator.open(nc, { bucket: "half" });
    const raw = await new Kvm(nc).open("half");
    // Crash after val, before name: the value is held by the name but not indexed.
    await raw.create(`val.${encodeKeyPart("10.0.0.1")}`, "agent-1");
    expect(await alloc.lookup("agent-1")).toBeUndefined();
    expect(await alloc.claim("agent-2", ["10.0.0.1", "10.0.0.2"])).toBe("10.0.0.2"); // never handed to another name
    expect(await alloc.claim("agent-1", ["10.0.0.1", "10.0.0.2", "10.0.0.3"])).toBe("10.0.0.1");
    // A release that stopped after freeing the value leaves an index pointing at a value now held by someone else.
    await raw.create(`name.${encodeKeyPart("agent-9")}`, "10.0.0.2");
    expect(await alloc.lookup("agent-9")).toBeUndefined();
    expect(await alloc.claim("agent-9", ["10.0.0.1", "10.0.0.2", "10.0.0.3"])).toBe("10.0.0.3");
    expect(await alloc.lookup("agent-9")).toBe("10.0.0.3");
    expect(await alloc.entries()).toEqual([
      { name: "agent-1", value: "10.0.0.1" },
      { name: "agent-2", value: "10.0.0.2" },
      { name: "agent-9", value: "10.0.0.3" },
    ]);
  });

  it("an exhausted pool is a typed error", async () => {
    const alloc = await KvAllocator.open(await conn(), { bucket: "small" });
    await alloc.claim("a", ["x", "y"]);
    await alloc.claim("b", ["x", "y"]);
    const err = await alloc.claim("c", ["x", "y"]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AllocationExhaustedError);
    expect(err).toMatchObject({ name: "AllocationExhaustedError", code: ALLOCATION_ERROR_CODES.exhausted, tried: 2, allocation: "c" });
    expect((err as Error).message).toBe('no free value for "c" in small: all 2 candidates are taken');
  });

  it("two allocators racing for overlapping names from one small pool never hand out a value twice", async () => {
    const [a, b] = await Promise.all([conn().then((nc) => KvAllocator.open(nc, { bucket: "race" })), conn().then((nc) => KvAllocator.open(nc, { bucket: "race" }))]);
    const candidates = pool(64);
    // 50 names each, 20 of them wanted by both: 80 distinct names for 64 values.
    const shared = Array.from({ length: 20 }, (_, i) => `shared-${i}`);
    const namesA = [...shared, ...Array.from({ length: 30 }, (_, i) => `a-${i}`)];
    const namesB = [...shared, ...Array.from({ length: 30 }, (_, i) => `b-${i}`)];
    const attempt = (alloc: KvAllocator, name: string) =>
      alloc.claim(name, candidates).then(
        (value) => ({ name, value }),
        (err: unknown) => {
          if (err instanceof AllocationExhaustedError) return { name, value: undefined };
          throw err;
        },
      );
    const [gotA, gotB] = await Promise.all([Promise.all(namesA.map((n) => attempt(a!, n))), Promise.all(namesB.map((n) => attempt(b!, n)))]);

    // Both sides agree on every shared name.
    for (const n of shared) expect(gotA.find((g) => g.name === n)?.value).toBe(gotB.find((g) => g.name === n)?.value);
    const byName = new Map<string, string>();
    for (const g of [...gotA, ...gotB]) if (g.value !== undefined) byName.set(g.name, g.value);
    const values = [...byName.values()];
    expect(new Set(values).size).toBe(values.length); // no value handed to two names
    expect(values.every((v) => candidates.includes(v))).toBe(true);
    expect(byName.size).toBeLessThanOrEqual(64);
    console.log(`kv-allocator race: ${byName.size} of 80 names got one of 64 values`);
    expect(byName.size).toBeGreaterThanOrEqual(60); // contention may make a claimant skip a value freed a moment later, rarely

    // The store agrees with what was handed out, and every name's lookup matches.
    const entries = await a!.entries();
    expect(new Map(entries.map((e) => [e.name, e.value]))).toEqual(byName);
    for (const [name, value] of byName) expect(await b!.lookup(name)).toBe(value);
  }, 30_000);

  it("concurrent claims of one name from two allocators agree and leave one value held", async () => {
    const [a, b] = await Promise.all([conn().then((nc) => KvAllocator.open(nc, { bucket: "same" })), conn().then((nc) => KvAllocator.open(nc, { bucket: "same" }))]);
    for (let i = 0; i < 20; i++) {
      // Reverse orders make the two claimants start on different values.
      const [x, y] = await Promise.all([a!.claim(`vip-${i}`, pool(40)), b!.claim(`vip-${i}`, pool(40).reverse())]);
      expect(x).toBe(y);
    }
    const entries = await a!.entries();
    expect(entries).toHaveLength(20);
    expect(new Set(entries.map((e) => e.value)).size).toBe(20);
  }, 30_000);

  it("a released name can be claimed again while others race for the freed value", async () => {
    const [a, b] = await Promise.all([conn().then((nc) => KvAllocator.open(nc, { bucket: "churn" })), conn().then((nc) => KvAllocator.open(nc, { bucket: "churn" }))]);
    const candidates = pool(8);
    for (let i = 0; i < 8; i++) await a!.claim(`n${i}`, candidates);
    for (let round = 0; round < 10; round++) {
      const victim = `n${round % 8}`;
      await a!.release(victim);
      const exhausted = (e: unknown) => {
        if (e instanceof AllocationExhaustedError) return undefined;
        throw e;
      };
      const [x, y] = await Promise.all([a!.claim(`new-${round}`, candidates).catch(exhausted), b!.claim(victim, candidates).catch(exhausted)]);
      expect([x, y].filter((v) => v !== undefined)).toHaveLength(1);
      const held = await b!.entries();
      expect(held).toHaveLength(8);
      expect(new Set(held.map((e) => e.value)).size).toBe(8);
      if (x !== undefined) {
        await a!.release(`new-${round}`);
        await b!.claim(victim, candidates);
      }
    }
  }, 30_000);

  it("without a reachable KV the error says so (a minority partition cannot allocate)", async () => {
    const own = await startNatsServer({ jetstream: true });
    try {
      const nc = await conn(own.url);
      const alloc = await KvAllocator.open(nc, { bucket: "gone", timeoutMs: 500 });
      await alloc.claim("a", ["x"]);
      await own.stop();
      const t0 = Date.now();
      const err = await alloc.claim("b", ["y"]).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(AllocationUnavailableError);
      expect(err).toMatchObject({ code: ALLOCATION_ERROR_CODES.unavailable, op: "claim", bucket: "gone" });
      expect((err as Error).message).toMatch(/cut off from the NATS majority cannot allocate/);
      expect(Date.now() - t0).toBeLessThan(3000);
      await expect(alloc.lookup("a")).rejects.toBeInstanceOf(AllocationUnavailableError);
    } finally {
      await own.stop();
    }
  }, 20_000);

  it("R3 on a 3-server cluster: allocates with a majority; a server left alone cannot allocate or release, only read its replica", async () => {
    const cluster = await startNatsCluster(3);
    try {
      const nc = await conn(cluster.urls[0]);
      const alloc = await KvAllocator.open(nc, { bucket: "r3", replicas: 3, timeoutMs: 1000 });
      expect(await alloc.claim("agent-1", ["9.0.1.0/24"])).toBe("9.0.1.0/24");
      await cluster.servers[1]!.kill();
      // 2 of 3 is still a majority: available again once the stream has a leader (an election if it was on n1).
      const t0 = Date.now();
      expect(await retryUnavailable(() => alloc.claim("agent-2", ["9.0.1.0/24", "9.0.2.0/24"]), 15_000)).toBe("9.0.2.0/24");
      console.log(`kv-allocator R3: claim served again ${Date.now() - t0} ms after losing one of three servers`);
      await cluster.servers[2]!.kill();
      await expect(alloc.claim("agent-3", ["9.0.3.0/24"])).rejects.toBeInstanceOf(AllocationUnavailableError);
      // Reads are JetStream direct gets, answered by the local replica: the last value it holds (maybe stale,
      // like a cache), so a restarted node in the minority still gets its own allocation back.
      expect(await alloc.lookup("agent-1")).toBe("9.0.1.0/24");
      expect(await alloc.claim("agent-1", ["9.0.9.0/24"])).toBe("9.0.1.0/24");
      await expect(alloc.release("agent-2")).rejects.toBeInstanceOf(AllocationUnavailableError);
    } finally {
      await cluster.stop();
    }
  }, 40_000);

  it("a server without JetStream is unavailable at open", async () => {
    const plain = await startNatsServer();
    try {
      await expect(KvAllocator.open(await conn(plain.url), { bucket: "x", timeoutMs: 500 })).rejects.toMatchObject({ name: "AllocationUnavailableError", op: "open" });
    } finally {
      await plain.stop();
    }
  }, 20_000);

  it("rejects bad bucket names and empty or oversized names", async () => {
    await expect(KvAllocator.open(await conn(), { bucket: "a.b" })).rejects.toBeInstanceOf(TypeError);
    const alloc = await KvAllocator.open(await conn(), { bucket: "input" });
    await expect(alloc.claim("", ["x"])).rejects.toBeInstanceOf(TypeError);
    await expect(alloc.claim("a", ["x".repeat(201)])).rejects.toBeInstanceOf(TypeError);
  });
});
