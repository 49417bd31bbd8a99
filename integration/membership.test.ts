// SWIM membership among 50 instances on a real nats-server: 49 in this process (testkit/gossip/members.ts)
// and one in a child process, so a pause is a real SIGSTOP and a slow node a real blocked event loop.
// Kill, pause and partition are detected by every other member, a paused or cut-off node that comes
// back refutes (alive again with the same incarnation, no rejoin), and a slow node is never dead.
import { afterAll, beforeAll, describe, expect, jest, test } from "@jest/globals";
import { fork, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { startNatsServer, type NatsServerHandle } from "./harness/nats-local.js";
import { startMember, aliveSeen, type MemberInstance } from "../testkit/gossip/members.js";

jest.setTimeout(120_000);
const CLUSTER = "swim50";
const CHILD = fileURLToPath(new URL("./support/member-child.ts", import.meta.url));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let nats: NatsServerHandle;
const members: MemberInstance[] = [];
let child: ChildProcess | undefined;

async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const end = performance.now() + timeoutMs;
  while (performance.now() < end) {
    if (await check()) return;
    await sleep(50);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for: ${what}`);
}

const sawEvent = (m: MemberInstance, type: string, node: string, after = 0) => m.events.some((e) => e.ev.type === type && e.ev.node === node && e.at >= after);
/**
 * Dead events about members that were never killed, paused or cut, seen by members that were never
 * cut off themselves (a cut-off node rightly takes the unreachable majority for dead): must stay 0.
 */
const falseDeaths = (allowed: readonly string[]): string[] =>
  members.filter((m) => !allowed.includes(m.id)).flatMap((m) => m.events.filter((e) => e.ev.type === "dead" && !allowed.includes(e.ev.node)).map((e) => `${m.id} saw ${e.ev.node} dead`));

beforeAll(async () => {
  nats = await startNatsServer({ jetstream: false });
  child = fork(CHILD, [nats.url, CLUSTER, "child"], { execArgv: ["--import", "tsx"], stdio: ["ignore", "inherit", "inherit", "ipc"] });
  const ready = new Promise<void>((resolve) => child?.on("message", (m) => (m as { type: string }).type === "ready" && resolve()));
  for (let i = 0; i < 49; i++) members.push(await startMember(nats.url, CLUSTER, `m${i}`, { detector: "swim" }));
  await ready;
  // Everyone sees the other 49 (the child included) alive.
  await waitFor("all 50 converged", async () => (await Promise.all(members.map(aliveSeen))).every((n) => n === 49), 30_000);
});

afterAll(async () => {
  if (child?.pid !== undefined && child.exitCode === null) {
    child.kill("SIGCONT");
    child.kill("SIGKILL");
  }
  await Promise.all(members.map((m) => m.stop().catch(() => undefined)));
  await nats?.stop();
});

describe("SWIM membership, 50 instances on one nats-server", () => {
  test("a slow node (event loop blocked 60 ms of every 100 ms for 4 s) is never declared dead", async () => {
    const start = performance.now();
    const loaded = new Promise<void>((resolve) => child?.on("message", (m) => (m as { type: string }).type === "loaded" && resolve()));
    child?.send({ type: "load", forMs: 4000, busyMs: 60, everyMs: 100 });
    await loaded;
    await sleep(1000);
    expect(members.filter((m) => sawEvent(m, "dead", "child", start))).toEqual([]);
    expect(falseDeaths([])).toEqual([]);
  });

  test("a paused node (SIGSTOP 4 s) is dead to all others, and alive again with the same incarnation after SIGCONT", async () => {
    const pid = child?.pid as number;
    const start = performance.now();
    process.kill(pid, "SIGSTOP");
    try {
      await waitFor("every member sees the paused node dead", () => members.every((m) => sawEvent(m, "dead", "child", start)), 8000);
    } finally {
      process.kill(pid, "SIGCONT");
    }
    const resumed = performance.now();
    await waitFor("the paused node refuted: alive everywhere", () => members.every((m) => sawEvent(m, "alive", "child", resumed)), 15_000);
    expect(members.filter((m) => sawEvent(m, "rejoin", "child"))).toEqual([]);
    expect(falseDeaths(["child"])).toEqual([]);
  });

  test("a partitioned node is dead to the majority; after the heal it is alive again (same incarnation) on every node", async () => {
    const cut = members[10] as MemberInstance;
    const start = performance.now();
    cut.cut = true;
    await waitFor("the majority sees the cut node dead", () => members.every((m) => m === cut || sawEvent(m, "dead", cut.id, start)), 8000);
    cut.cut = false;
    const healed = performance.now();
    // The cut node pushes its list to a member within a push-pull period, learns it was declared dead and refutes.
    await waitFor("the healed node alive everywhere", () => members.every((m) => m === cut || sawEvent(m, "alive", cut.id, healed)), 20_000);
    expect(members.filter((m) => sawEvent(m, "rejoin", cut.id))).toEqual([]);
    await waitFor("the healed node sees everyone alive", async () => (await aliveSeen(cut)) === 49, 10_000);
    expect(falseDeaths(["child", cut.id])).toEqual([]);
  });

  test("a killed node is dead on every other member within seconds", async () => {
    const victim = members[20] as MemberInstance;
    const start = performance.now();
    await victim.stop();
    const others = members.filter((m) => m !== victim);
    await waitFor("every member sees the killed node dead", () => others.every((m) => sawEvent(m, "dead", victim.id, start)), 10_000);
    // Suspicion is always reported first, and death last. In between a member may see it "alive"
    // once (seen once in ~5 CI runs): a refutation the victim made before it died (version v+1, after
    // an earlier test's suspicion) still spreading while accusers holding v suspect it. SWIM's
    // precedence must take a newer version as alive (it is how every relayed refutation works), and
    // accusations at v+1 follow; so the flap is counted and printed, not failed on.
    // The same refutation can also be the very first event after the kill, on a member that still
    // held the victim suspect when it was killed (CI saw it once): that leading "alive" is accepted
    // only when the member's last word on the victim before the kill was "suspect".
    let flaps = 0;
    for (const m of others) {
      const about = m.events.filter((e) => e.ev.node === victim.id);
      const before = about.filter((e) => e.at < start).at(-1)?.ev.type;
      const types = about.filter((e) => e.at >= start).map((e) => e.ev.type);
      if (types[0] === "alive" && before === "suspect") {
        types.shift();
        flaps++;
      }
      expect(types[0]).toBe("suspect");
      expect(types.at(-1)).toBe("dead");
      flaps += types.filter((t) => t === "alive").length;
    }
    console.log(`killed node: ${flaps} alive flap(s) between suspect and dead across ${others.length} members`);
    expect(falseDeaths(["child", (members[10] as MemberInstance).id, victim.id])).toEqual([]);
  });
});
