// The SWIM detector on a simulated network and clock (swim-sim.ts): detection, refutation,
// dissemination in O(log n) periods, constant load per member, Lifeguard's local health, partitions.
import { describe, expect, it } from "@jest/globals";
import { Sim, SIM_CONFIG, seeded } from "./swim-sim.js";
import { Swim, JOIN, type SwimMessage } from "./swim.js";
import { bucketOfId, DIGEST_BUCKETS, idHash } from "./digest.js";

const at = (ms: number) => ({ mono: ms, wall: ms });
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

describe("swim: detection of a killed member", () => {
  it("1,000 members: a killed one is dead everywhere within seconds, nobody else is accused", () => {
    const sim = Sim.steady(1000, 11);
    sim.run(1000);
    const killAt = sim.now;
    (sim.nodes.get("n500") as { down: boolean }).down = true;
    sim.run(4000);
    const dead = sim.seen("dead", "n500");
    expect(dead).toHaveLength(999);
    const times = dead.map((d) => d.at - killAt);
    // One probe period (200 ms) above the suspicion floor's 2 s: a failed probe becomes a suspicion
    // only after one more silent period (swim.ts #judgePending), the price of no suspicion storm at 1,000.
    expect(Math.min(...times)).toBeLessThanOrEqual(2200);
    expect(median(times)).toBeLessThanOrEqual(3000);
    expect(sim.falseDeaths(new Set(["n500"]))).toBe(0);
    // Suspicion always comes before death, on every member.
    for (const n of sim.nodes.values()) {
      if (n.down) continue;
      const types = n.events.filter((e) => e.ev.node === "n500").map((e) => e.ev.type);
      expect(types).toEqual(["suspect", "dead"]);
    }
  });

  it("sends the same number of messages per member per second at 100 and 1,000 members", () => {
    const rate = (n: number): number => {
      const sim = Sim.steady(n, 3);
      sim.run(400);
      for (const x of sim.nodes.values()) x.sent = 0;
      sim.run(2000);
      return [...sim.nodes.values()].reduce((a, x) => a + x.sent, 0) / n / 2;
    };
    const small = rate(100);
    const big = rate(1000);
    // ping + ack per period (5 periods a second), whatever n is.
    expect(small).toBeGreaterThan(8);
    expect(big / small).toBeGreaterThan(0.9);
    expect(big / small).toBeLessThan(1.1);
  });
});

describe("swim: dissemination", () => {
  it("a join reaches all 1,000 members in O(log n) periods, on messages of bounded size", () => {
    const sim = Sim.steady(1000, 5);
    const joiner = sim.add("late", 2_000);
    const start = sim.now;
    sim.run(4000);
    const joins = sim.seen("join", "late");
    expect(joins).toHaveLength(1000);
    const periods = (Math.max(...joins.map((j) => j.at)) - start) / SIM_CONFIG.probeIntervalMs;
    // The joiner's request reaches one member; infection-style spread does the rest.
    expect(periods).toBeLessThan(3 * Math.log2(1000));
    expect(sim.maxUpdatesPerMessage).toBeLessThanOrEqual(SIM_CONFIG.maxPiggyback);
    expect(joiner.swim.counts().alive).toBe(1000);
  });

  it("cold start: 100 members that know nobody find each other through join requests", () => {
    const sim = new Sim(9);
    for (let i = 0; i < 100; i++) sim.add(`c${i}`);
    sim.run(6000);
    for (const n of sim.nodes.values()) expect(n.swim.counts()).toEqual({ alive: 99, suspect: 0, dead: 0, unknown: 0 });
    expect(sim.falseDeaths()).toBe(0);
  });

  it("a restarted member (higher incarnation) is a rejoin everywhere", () => {
    const sim = Sim.steady(50, 2);
    sim.run(500);
    sim.restart("n7", 5_000);
    sim.run(3000);
    const rejoins = sim.seen("rejoin", "n7");
    expect(rejoins).toHaveLength(49);
    for (const n of sim.nodes.values()) if (n.id !== "n7") expect(n.swim.member("n7")).toMatchObject({ incarnation: 5_000, state: "alive" });
  });
});

describe("swim: suspicion and refutation", () => {
  it("a member paused shorter than the suspicion timeout refutes and is never dead", () => {
    const sim = Sim.steady(50, 4);
    sim.run(500);
    const n3 = sim.nodes.get("n3") as { down: boolean; swim: Swim };
    n3.down = true;
    sim.run(400);
    n3.down = false;
    sim.run(4000);
    expect(sim.seen("suspect", "n3").length).toBeGreaterThan(0);
    expect(sim.falseDeaths()).toBe(0);
    expect(n3.swim.counters.refutations).toBeGreaterThan(0);
    for (const n of sim.nodes.values()) if (n.id !== "n3") expect(n.swim.member("n3")?.state).toBe("alive");
  });

  it("confirmations from independent accusers shorten the timeout toward its floor", () => {
    const s = new Swim(SIM_CONFIG, "me", 1);
    for (let i = 0; i < 9; i++) s.receive(`p${i}`, { t: "ack", seq: 0, life: 1, ver: 0, updates: [] }, at(0));
    const suspect = (from: string): SwimMessage => ({ t: "ack", seq: 0, life: 1, ver: 0, updates: [{ node: "p0", life: 1, ver: 0, status: "suspect", from }] });
    // n = 10: floor 2·1·200 = 400 ms, ceiling 2,400 ms.
    expect(s.receive("p1", suspect("p1"), at(0)).events).toEqual([{ type: "suspect", node: "p0", incarnation: 1 }]);
    const deadAt = (confirmations: number): number => {
      // The same seeded probe order in every run; pings to others are answered, so only p0 goes unanswered.
      const x = new Swim({ ...SIM_CONFIG, probeIntervalMs: 10_000 }, "me", 1, seeded(42));
      for (let i = 0; i < 9; i++) x.receive(`p${i}`, { t: "ack", seq: 0, life: 1, ver: 0, updates: [] }, at(0));
      x.receive("p1", suspect("p1"), at(0));
      for (let c = 0; c < confirmations; c++) x.receive(`p${c + 2}`, suspect(`p${c + 2}`), at(1));
      for (let t = 40; t < 200_000; t += 40) {
        const out = x.tick(at(t));
        if (out.events.some((e) => e.type === "dead")) return t;
        for (const send of out.sends) if (send.msg.t === "ping" && send.to !== "p0") x.receive(send.to as string, { t: "ack", seq: send.msg.seq, life: 1, ver: 0, updates: [] }, at(t));
      }
      return Infinity;
    };
    const none = deadAt(0);
    const one = deadAt(1);
    const three = deadAt(3);
    expect(none).toBeGreaterThan(one);
    expect(one).toBeGreaterThan(three);
    // With the expected confirmations the floor: 2 · log10(10) · 10,000 ms.
    expect(three).toBeLessThanOrEqual(20_000 + 80);
    expect(none).toBeLessThanOrEqual(6 * 20_000 + 80);
  });

  it("a suspicion of ourselves is refuted with a higher version, gossiped on the next message", () => {
    const s = new Swim(SIM_CONFIG, "me", 1);
    s.receive("a", { t: "ping", seq: 1, target: "me", life: 1, ver: 0, updates: [{ node: "me", life: 1, ver: 0, status: "suspect", from: "a" }] }, at(0));
    expect(s.ver).toBe(1);
    expect(s.localHealth).toBe(1);
    const out = s.receive("a", { t: "ping", seq: 2, target: "me", life: 1, ver: 0, updates: [] }, at(1));
    const ack = out.sends[0]?.msg;
    expect(ack?.t).toBe("ack");
    expect(ack?.t === "ack" && ack.updates).toContainEqual({ node: "me", life: 1, ver: 1, status: "alive" });
  });
});

describe("swim: Lifeguard local health", () => {
  it("a slow member (60 ms each way: round trip beyond the probe timeout) is never declared dead", () => {
    const sim = Sim.steady(30, 8);
    sim.run(500);
    (sim.nodes.get("n1") as { slowMs: number }).slowMs = 60;
    sim.run(20_000);
    expect(sim.falseDeaths()).toBe(0);
  });

  it("a member too slow to answer within a period (100 ms each way) raises its local health and gets nobody else killed", () => {
    const sim = Sim.steady(30, 8);
    sim.run(500);
    const slow = sim.nodes.get("n1") as { slowMs: number; swim: Swim; events: Array<{ ev: { type: string } }> };
    slow.slowMs = 100;
    let maxHealth = 0;
    for (let i = 0; i < 100; i++) {
      sim.run(200);
      maxHealth = Math.max(maxHealth, slow.swim.localHealth);
    }
    expect(maxHealth).toBeGreaterThan(0);
    // It may itself be taken for dead (it is as good as unreachable), but it accuses no one to death
    // and no healthy member dies of its failed probes.
    expect(slow.events.filter((e) => e.ev.type === "dead")).toEqual([]);
    for (const n of sim.nodes.values()) for (const e of n.events) if (e.ev.type === "dead") expect((e.ev as { node: string }).node).toBe("n1");
  });

  it("a member whose event loop stalls 2.5 s accuses nobody; taken for dead meanwhile, it refutes and is alive again", () => {
    const sim = Sim.steady(20, 12);
    sim.run(500);
    sim.stall("n2", 2500);
    sim.run(3000);
    const n2 = sim.nodes.get("n2") as { events: Array<{ ev: { type: string } }> };
    expect(n2.events.filter((e) => e.ev.type === "suspect" || e.ev.type === "dead")).toEqual([]);
    for (const n of sim.nodes.values()) {
      for (const e of n.events) if (e.ev.type === "dead") expect((e.ev as { node: string }).node).toBe("n2");
      if (n.id !== "n2") expect(n.swim.member("n2")?.state).toBe("alive");
    }
  });
});

describe("swim: partitions and our own connection", () => {
  it("a partitioned minority is dead to the majority, and alive again (same incarnation) after the heal", () => {
    const sim = Sim.steady(50, 21);
    sim.run(500);
    const minority = ["n1", "n2", "n3"];
    for (const id of minority) (sim.nodes.get(id) as { group: number }).group = 1;
    sim.run(6000);
    for (const id of minority) expect(sim.seen("dead", id).filter((s) => !minority.includes(s.by))).toHaveLength(47);
    for (const id of minority) (sim.nodes.get(id) as { group: number }).group = 0;
    sim.run(15_000);
    for (const n of sim.nodes.values()) expect(n.swim.counts()).toEqual({ alive: 49, suspect: 0, dead: 0, unknown: 0 });
    for (const id of minority) {
      expect(sim.seen("alive", id).filter((s) => !minority.includes(s.by))).toHaveLength(47);
      expect(sim.seen("rejoin", id)).toHaveLength(0);
    }
  });

  it("losing our connection makes peers unknown, never dead; the reconnect's push-pull makes them alive", () => {
    const s = new Swim(SIM_CONFIG, "me", 1);
    s.receive("a", { t: "ack", seq: 0, life: 1, ver: 0, updates: [{ node: "b", life: 1, ver: 0, status: "alive" }] }, at(0));
    expect(s.setConnected(false, at(10))).toEqual([
      { type: "unknown", node: "a", incarnation: 1 },
      { type: "unknown", node: "b", incarnation: 1 },
    ]);
    for (let t = 50; t < 30_000; t += 40) expect(s.tick(at(t)).events).toEqual([]);
    expect(s.setConnected(true, at(30_000))).toEqual([]);
    const out = s.tick(at(30_040));
    const sync = out.sends.find((x) => x.msg.t === "sync");
    expect(sync).toBeDefined();
    const back = s.receive("a", { t: "sync", reply: false, life: 1, ver: 0, members: [{ node: "b", life: 1, ver: 0, status: "alive" }] }, at(30_050));
    expect(back.events).toEqual([
      { type: "alive", node: "a", incarnation: 1 },
      { type: "alive", node: "b", incarnation: 1 },
    ]);
  });

  it("counts (kept from the suspect and dead sets) agree with the table through a kill, a partition, a heal and a reconnect", () => {
    const sim = Sim.steady(60, 21);
    const byWalk = (swim: Swim) => {
      const out = { alive: 0, suspect: 0, dead: 0, unknown: 0 };
      for (const m of swim.members()) out[m.state] += 1;
      return out;
    };
    const check = () => {
      for (const n of sim.nodes.values()) if (!n.down) expect(n.swim.counts()).toEqual(byWalk(n.swim));
    };
    sim.run(500);
    (sim.nodes.get("n5") as { down: boolean }).down = true;
    for (let i = 0; i < 20; i++) {
      sim.run(100);
      check();
    }
    for (const n of sim.nodes.values()) if (Number(n.id.slice(1)) >= 40) n.group = 1;
    for (let i = 0; i < 30; i++) {
      sim.run(200);
      check();
    }
    expect(byWalk((sim.nodes.get("n0") as { swim: Swim }).swim).dead).toBeGreaterThan(1);
    for (const n of sim.nodes.values()) n.group = 0;
    sim.run(3000);
    check();
    const n1 = sim.nodes.get("n1") as { swim: Swim };
    n1.swim.setConnected(false, { mono: sim.now, wall: sim.now });
    expect(n1.swim.counts().unknown).toBeGreaterThan(0);
    expect(n1.swim.counts()).toEqual(byWalk(n1.swim));
    n1.swim.setConnected(true, { mono: sim.now, wall: sim.now });
    sim.run(15_000);
    check();
    expect(n1.swim.counts()).toEqual({ alive: 58, suspect: 0, dead: 1, unknown: 0 });
  });
});

describe("swim: the bus's disconnect advisory (gossip.disconnectAdvisories)", () => {
  const grace = SIM_CONFIG.disconnectGraceMs;

  it("1,000 members: a killed member whose connection closed is dead everywhere one grace after the advisory, nobody else accused", () => {
    const sim = Sim.steady(1000, 11);
    sim.run(1000);
    const killAt = sim.now;
    (sim.nodes.get("n500") as { down: boolean }).down = true;
    sim.advise("n500", "closed");
    sim.run(2000);
    const times = sim.seen("dead", "n500").map((d) => d.at - killAt);
    expect(times).toHaveLength(999);
    // Every member judges on its own clock from the advisory: the spread is one tick, not gossip rounds.
    expect(Math.min(...times)).toBeGreaterThanOrEqual(grace);
    expect(Math.max(...times)).toBeLessThanOrEqual(grace + 2 + SIM_CONFIG.tickMs);
    expect(sim.falseDeaths(new Set(["n500"]))).toBe(0);
    for (const n of sim.nodes.values()) {
      if (n.down) continue;
      expect(n.events.filter((e) => e.ev.node === "n500").map((e) => e.ev.type)).toEqual(["suspect", "dead"]);
    }
  });

  it("a member that reconnects within the grace (its connect advisory) is alive again everywhere, at the same version, never dead", () => {
    const sim = Sim.steady(50, 4);
    sim.run(500);
    sim.advise("n3", "closed");
    sim.run(grace / 2);
    expect(sim.seen("suspect", "n3")).toHaveLength(49);
    sim.advise("n3", "opened");
    sim.run(3000);
    expect(sim.falseDeaths()).toBe(0);
    expect(sim.seen("alive", "n3")).toHaveLength(49);
    // Nothing to refute: the bus's suspicion is never gossiped, so n3 never hears of it.
    expect((sim.nodes.get("n3") as { swim: Swim }).swim.counters.refutations).toBe(0);
    for (const n of sim.nodes.values()) if (n.id !== "n3") expect(n.swim.member("n3")?.state).toBe("alive");
  });

  it("a live member whose connect advisory never came is dead one grace later, and alive again everywhere within about a second (it refutes)", () => {
    const sim = Sim.steady(20, 6);
    sim.run(500);
    const closedAt = sim.now;
    sim.advise("n2", "closed");
    sim.run(4000);
    // This is the price of trusting the bus: members that heard n2 itself within the grace withdrew
    // the suspicion, but the others' deaths reach them by gossip and win (same version); n2's next
    // ping draws that word, and its refutation (a higher version) revives it everywhere.
    for (const n of sim.nodes.values()) {
      if (n.id === "n2") continue;
      const last = n.events.filter((e) => e.ev.node === "n2").at(-1);
      expect(last?.ev.type).toBe("alive");
      expect((last?.at ?? Infinity) - closedAt).toBeLessThan(grace + 1500);
    }
    expect(sim.falseDeaths(new Set(["n2"]))).toBe(0);
    expect((sim.nodes.get("n2") as { swim: Swim }).swim.counters.refutations).toBeGreaterThan(0);
    for (const n of sim.nodes.values()) if (n.id !== "n2") expect(n.swim.member("n2")?.state).toBe("alive");
  });

  it("a member already suspect by probes keeps that suspicion's own deadline when the bus's comes later", () => {
    /** One member accuses "a" at 20 ms; the bus reports its connection closed at `busAt` (or never); returns when it died. */
    const deadAt = (busAt: number | undefined): number => {
      const s = new Swim(SIM_CONFIG, "me", 1, seeded(7));
      s.receive("a", { t: "ack", seq: 0, life: 1, ver: 0, updates: [] }, at(0));
      for (let t = SIM_CONFIG.tickMs; t < 60_000; t += SIM_CONFIG.tickMs) {
        if (t === 20) for (const by of ["b"]) s.receive(by, { t: "ack", seq: 0, life: 1, ver: 0, updates: [{ node: "a", life: 1, ver: 0, status: "suspect", from: by }] }, at(t));
        if (t === busAt) s.connectionClosed("a", at(t));
        if (s.tick(at(t)).events.some((e) => e.type === "dead")) return t;
      }
      return Infinity;
    };
    const byProbes = deadAt(undefined);
    expect(byProbes).toBeLessThan(60_000);
    // The bus speaks half a grace before the probes' deadline: its own would be later, the earlier holds.
    const late = byProbes - grace / 2 - ((byProbes - grace / 2) % SIM_CONFIG.tickMs);
    expect(deadAt(late)).toBe(byProbes);
    // Spoken early enough, the bus's deadline comes first.
    expect(deadAt(40)).toBe(40 + grace);
  });

  it("our own stall pushes the bus's deadline back by its length; disconnects of unknown or dead members change nothing", () => {
    const s = new Swim(SIM_CONFIG, "me", 1);
    s.receive("a", { t: "ack", seq: 0, life: 1, ver: 0, updates: [] }, at(0));
    let t = 0;
    const events: string[] = [];
    const tickTo = (end: number): void => {
      for (; t < end; ) {
        t += SIM_CONFIG.tickMs;
        events.push(...s.tick(at(t)).events.map((e) => `${t} ${e.type}`));
      }
    };
    tickTo(20);
    expect(s.connectionClosed("a", at(t)).events).toEqual([{ type: "suspect", node: "a", incarnation: 1 }]);
    // Due at 20 + grace; a 300 ms stall of our own event loop (no tick from 40 to 340) moves it by 300.
    tickTo(40);
    t = 340;
    expect(s.tick(at(t)).stallMs).toBe(280);
    tickTo(20 + grace + 260);
    expect(events).toEqual([]);
    tickTo(20 + grace + 300);
    expect(events).toEqual([`${20 + grace + 280} dead`]);
    expect(s.connectionClosed("a", at(t)).events).toEqual([]);
    expect(s.connectionClosed("nobody", at(t)).events).toEqual([]);
    expect(s.connectionOpened("a", at(t)).events).toEqual([]);
    expect(s.member("a")?.state).toBe("dead");
  });
});

describe("swim: a death heard before the member itself", () => {
  it("records it dead, tells watchers suspect then dead (its facts must go), passes the word on, and a stale alive of that life cannot revive it", () => {
    const s = new Swim(SIM_CONFIG, "me", 1);
    const out = s.receive("a", { t: "ping", seq: 1, target: "me", life: 1, ver: 0, updates: [{ node: "x", life: 7, ver: 2, status: "dead", from: "b" }] }, at(100));
    expect(out.events.filter((e) => e.node === "x")).toEqual([
      { type: "suspect", node: "x", incarnation: 7 },
      { type: "dead", node: "x", incarnation: 7 },
    ]);
    expect(s.member("x")?.state).toBe("dead");
    // Relayed: the ack we send carries the death.
    expect(out.sends.flatMap((x) => (x.msg.t === "ack" ? x.msg.updates : [])).some((u) => u.node === "x" && u.status === "dead")).toBe(true);
    const stale = s.receive("c", { t: "ping", seq: 2, target: "me", life: 1, ver: 0, updates: [{ node: "x", life: 7, ver: 2, status: "alive" }] }, at(200));
    expect(stale.events.filter((e) => e.node === "x")).toEqual([]);
    expect(s.member("x")?.state).toBe("dead");
  });
});

describe("swim: bad input", () => {
  it("refuses an incarnation from the future and reports another process with our id once", () => {
    const s = new Swim(SIM_CONFIG, "me", 1_000);
    const ahead = s.receive("x", { t: "ping", seq: 1, target: "me", life: 500_000, ver: 0, updates: [] }, at(1000));
    expect(ahead.rejected.map((r) => r.reason)).toEqual(["clock-skew"]);
    expect(ahead.sends).toEqual([]);
    expect(s.member("x")).toBeUndefined();
    const twin = { t: "ack" as const, seq: 0, life: 1, ver: 0, updates: [{ node: "me", life: 2_000, ver: 0, status: "alive" as const }] };
    expect(s.receive("y", twin, at(1000)).rejected.map((r) => r.reason)).toEqual(["impostor"]);
    expect(s.receive("y", twin, at(1001)).rejected).toEqual([]);
  });

  it("alone, it asks the bus for any member every joinRetryMs", () => {
    const s = new Swim(SIM_CONFIG, "me", 1);
    const sends = (t: number) => s.tick(at(t)).sends;
    expect(sends(0).map((x) => x.to)).toEqual([JOIN]);
    expect(sends(40)).toEqual([]);
    expect(sends(520).map((x) => x.to)).toEqual([JOIN]);
  });
});

describe("swim: push-pull by digest", () => {
  it("swaps only the buckets that differ, and nothing once the tables agree", () => {
    const a = new Swim(SIM_CONFIG, "a", 1);
    const b = new Swim(SIM_CONFIG, "b", 1);
    a.receive("b", { t: "ack", seq: 0, life: 1, ver: 0, updates: [{ node: "x", life: 5, ver: 0, status: "alive" }] }, at(0));
    b.receive("a", { t: "ack", seq: 0, life: 1, ver: 0, updates: [] }, at(0));
    // a knows a member b does not: its periodic push-pull is a digest, not its list.
    const digest = a.tick(at(40)).sends.find((s) => s.msg.t === "digest");
    expect(digest).toBeDefined(); // to b or, picked at random, to x: either way it is a's digest
    const answer = b.receive("a", digest!.msg, at(41)).sends;
    expect(answer).toHaveLength(1);
    const want = answer[0]!.msg;
    if (want.t !== "sync") throw new Error(`expected a sync, got ${want.t}`);
    expect(want.want).toEqual([bucketOfId(idHash("x"))]);
    expect(want.reply).toBe(false);
    // a answers with its entries of that bucket only, and asks for nothing more.
    const back = a.receive("b", want, at(42)).sends;
    expect(back).toHaveLength(1);
    const entries = back[0]!.msg;
    if (entries.t !== "sync") throw new Error(`expected a sync, got ${entries.t}`);
    expect(entries.members.map((u) => u.node)).toContain("x");
    expect(entries.members.every((u) => bucketOfId(idHash(u.node)) === bucketOfId(idHash("x")))).toBe(true);
    expect(entries.want).toBeUndefined();
    expect(b.receive("a", entries, at(43)).events).toEqual([{ type: "join", node: "x", incarnation: 5 }]);
    // Agreed: the same digest of a's table now draws no answer.
    expect(b.receive("a", digest!.msg, at(44)).sends).toEqual([]);
  });

  it("a digest of the wrong length is a difference everywhere, not a crash", () => {
    const a = new Swim(SIM_CONFIG, "a", 1);
    a.receive("b", { t: "ack", seq: 0, life: 1, ver: 0, updates: [] }, at(0));
    const out = a.receive("b", { t: "digest", life: 1, ver: 0, buckets: [1, 2, 3] }, at(1));
    const msg = out.sends[0]?.msg;
    expect(msg?.t === "sync" ? msg.want?.length : undefined).toBe(DIGEST_BUCKETS);
  });
});
