// gossip.disconnectAdvisories on a real nats-server whose config exports the client advisories into
// the nodes' account (integration/harness/nats-local.ts advisoryAccounts): a node whose process is
// killed is dead everywhere one grace after its connection closed, long before probes alone could
// say so; a node whose connection breaks and comes straight back (a network blip) is never dead.
// Probes are made deliberately slow to judge here (suspicionMult 50: a probe-made suspicion needs
// 50·log10(n) periods, over 10 s), so a death within a few seconds can only be the bus's word.
import { afterAll, beforeAll, describe, expect, jest, test } from "@jest/globals";
import { fork, type ChildProcess } from "node:child_process";
import { createConnection, createServer, type Server, type Socket } from "node:net";
import { fileURLToPath } from "node:url";
import { startNatsServer, type NatsServerHandle } from "./harness/nats-local.js";
import { waitFor } from "./harness/shell.js";
import { startMember, aliveSeen, type MemberInstance } from "../testkit/gossip/members.js";

jest.setTimeout(90_000);
const CLUSTER = "adv";
const CHILD = fileURLToPath(new URL("./support/member-child.ts", import.meta.url));
// A grace of 1.5 s (default 0.5): a reconnect through the relay on a loaded CI machine still fits in it.
const GOSSIP = { detector: "swim", disconnectAdvisories: true, disconnectGraceMs: 1500, suspicionMult: 50 } as const;
const N = 10;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let nats: NatsServerHandle;
const members: MemberInstance[] = [];
let child: ChildProcess | undefined;
let proxy: { server: Server; url: string; sockets: Set<Socket> } | undefined;

/** Until `check` holds (integration/harness/shell.ts polls every 50 ms). */
const until = (what: string, check: () => boolean | Promise<boolean>, timeoutMs: number): Promise<true> => waitFor(what, timeoutMs, async () => ((await check()) ? true : undefined));

/** A TCP relay to the server: destroying its sockets is a connection reset the node recovers from at once. */
async function startProxy(target: number): Promise<NonNullable<typeof proxy>> {
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = createConnection({ host: "127.0.0.1", port: target });
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on("close", () => sockets.delete(s));
      s.on("error", () => undefined);
    }
    client.pipe(upstream).pipe(client);
    client.on("close", () => upstream.destroy());
    upstream.on("close", () => client.destroy());
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const addr = server.address();
  return { server, sockets, url: `nats://127.0.0.1:${typeof addr === "object" && addr !== null ? addr.port : 0}` };
}

const events = (m: MemberInstance, node: string, after: number) => m.events.filter((e) => e.ev.node === node && e.at >= after).map((e) => e.ev.type);

beforeAll(async () => {
  nats = await startNatsServer({ jetstream: false, advisories: true });
  proxy = await startProxy(nats.port);
  child = fork(CHILD, [nats.url, CLUSTER, "victim", JSON.stringify(GOSSIP)], { execArgv: ["--import", "tsx"], stdio: ["ignore", "inherit", "inherit", "ipc"] });
  const ready = new Promise<void>((resolve) => child?.on("message", (m) => (m as { type: string }).type === "ready" && resolve()));
  for (let i = 0; i < N; i++) members.push(await startMember(i === 0 ? proxy.url : nats.url, CLUSTER, `m${i}`, GOSSIP));
  await ready;
  await until(`all ${N + 1} converged`, async () => (await Promise.all(members.map(aliveSeen))).every((n) => n === N), 30_000);
});

afterAll(async () => {
  if (child?.pid !== undefined && child.exitCode === null) child.kill("SIGKILL");
  await Promise.all(members.map((m) => m.stop().catch(() => undefined)));
  for (const s of proxy?.sockets ?? []) s.destroy();
  await new Promise((r) => proxy?.server.close(r));
  await nats?.stop();
});

describe("membership with the server's disconnect advisories", () => {
  test("a node whose connection resets and comes straight back is suspect for a moment, never dead", async () => {
    const blipped = members[0] as MemberInstance;
    const others = members.slice(1);
    const start = performance.now();
    for (const s of proxy?.sockets ?? []) s.destroy();
    // Every other member hears the disconnect (suspect), then the reconnect (alive again).
    await until("every member saw the blipped node suspect and then alive", () => others.every((m) => events(m, blipped.id, start).join(",") === "suspect,alive"), 10_000);
    await sleep(2 * GOSSIP.disconnectGraceMs);
    for (const m of others) expect(events(m, blipped.id, start)).toEqual(["suspect", "alive"]);
    const accused = await others[0]!.registry.getSingleMetric("dcnet_gossip_swim_advisories_total")?.get();
    expect(accused?.values.find((v) => v.labels.type === "disconnect" && v.labels.accused === "true")?.value).toBe(1);
    expect(accused?.values.find((v) => v.labels.type === "connect")?.value).toBeGreaterThanOrEqual(1);
  });

  test("a killed node process is dead on every member within seconds, by the bus's word (probes alone would take over 10 s)", async () => {
    const start = performance.now();
    child?.kill("SIGKILL");
    await until("every member sees the killed node dead", () => members.every((m) => events(m, "victim", start).includes("dead")), 8_000);
    for (const m of members) expect(events(m, "victim", start)).toEqual(["suspect", "dead"]);
    const deadAt = members.map((m) => (m.events.find((e) => e.ev.node === "victim" && e.ev.type === "dead" && e.at >= start)?.at ?? Infinity) - start);
    console.log(`killed node: dead on every member ${Math.min(...deadAt).toFixed(0)}–${Math.max(...deadAt).toFixed(0)} ms after SIGKILL (grace ${GOSSIP.disconnectGraceMs} ms)`);
    // Nobody else died meanwhile.
    for (const m of members) expect(m.events.filter((e) => e.ev.type === "dead" && e.ev.node !== "victim")).toEqual([]);
  });
});
