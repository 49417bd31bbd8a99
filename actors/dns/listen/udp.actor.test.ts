// The UDP listener actor on the batch engine, in a real tree with the real addon: a receive error is
// counted by errno and logged once; a fatal one (the socket stopped reading) crashes the listener and
// its restart binds the same address anew, which answers again.
import { afterEach, describe, expect, it } from "@jest/globals";
import { createRequire } from "node:module";
import { pino } from "pino";
import { Registry } from "prom-client";
import type { BatchSocket, OpenOptions, UdpBatchBinding } from "@dcnet/udp-batch";
import { startTree, supervisor, worker, type Tree, type TreeEvent } from "../../../supervisors/index.js";
import { ZoneBoard } from "../board.js";
import { DnsMetrics } from "../metrics.js";
import { ResponseCache } from "../wire/index.js";
import { assembleZoneSet, dcosZone } from "../zones/index.js";
import { freePort, makeQuery, udpAsk } from "../../../testkit/dns/servers.js";
import { QueryPath } from "./serve.js";
import { udpBehaviour } from "./udp.actor.js";

const loaded = createRequire(import.meta.url)("@dcnet/udp-batch") as UdpBatchBinding | { loadError: string };
if ("loadError" in loaded) throw new Error(`the addon did not load (npm ci builds it): ${loaded.loadError}`);
const addon: UdpBatchBinding = loaded;

const NAME = "web.marathon.containerip.dcos.thisdcos.directory";

let tree: Tree | undefined;
afterEach(async () => {
  await tree?.shutdown();
  tree = undefined;
});

async function start(): Promise<{ port: number; sockets: BatchSocket[]; registry: Registry; logs: string[]; events: TreeEvent[] }> {
  const board = new ZoneBoard();
  board.publish(assembleZoneSet(1, [dcosZone({ tasks: [{ id: "a", name: "web", framework: "marathon", runtime: "native", agentIp: "10.0.0.1", taskIps: ["9.0.0.1"], state: "running", ports: [] }], masters: [] })]));
  const registry = new Registry();
  const metrics = new DnsMetrics(registry);
  const logs: string[] = [];
  const logger = pino({ level: "info" }, { write: (line: string) => logs.push(line) });
  const path = new QueryPath({ board, cache: new ResponseCache({ rotation: "round_robin" }), metrics, logger, forward: () => Promise.reject(new Error("none")), options: { rotation: "round_robin", maxUdpSize: 4096, maxInflight: 16, traceEvery: 0, recursionAvailable: false } });
  // The real addon, with the sockets it opens kept for the test to break.
  const sockets: BatchSocket[] = [];
  const binding: UdpBatchBinding = { ...addon, open: (o: OpenOptions) => sockets[sockets.push(addon.open(o)) - 1] as BatchSocket };
  const port = await freePort();
  const events: TreeEvent[] = [];
  tree = await startTree(supervisor("node", "one_for_one", [worker("udp-0", udpBehaviour({ listen: `127.0.0.1:${port}`, path: () => path, engine: { engine: "batch", binding }, metrics, logger }))], { intensity: 5, periodMs: 10_000 }), { onEvent: (e) => events.push(e) });
  return { port, sockets, registry, logs, events };
}

async function answers(port: number): Promise<boolean> {
  return (await udpAsk(port, makeQuery(NAME), 500)) !== undefined;
}

async function errorCounts(registry: Registry): Promise<Record<string, number>> {
  const m = await registry.getSingleMetric("dcnet_dns_udp_receive_errors_total")?.get();
  return Object.fromEntries((m?.values ?? []).map((v) => [`${String(v.labels.code)} fatal=${String(v.labels.fatal)}`, v.value]));
}

describe("UDP listener (batch engine): receive errors", () => {
  it("a passing error (ENOBUFS) is counted each time and logged once; the socket keeps answering", async () => {
    const { port, sockets, registry, logs } = await start();
    expect(await answers(port)).toBe(true);
    for (let i = 0; i < 3; i++) {
      addon.injectError(sockets[0] as BatchSocket, 105);
      expect(await answers(port)).toBe(true); // the query that woke the failed read is read next
    }
    expect(await errorCounts(registry)).toEqual({ "ENOBUFS fatal=false": 3 });
    expect(logs.filter((l) => l.includes("DNS UDP receive error ENOBUFS"))).toHaveLength(1);
    expect(sockets).toHaveLength(1);
  });

  it("a fatal error (EBADF) stops that socket; the listener restarts and binds the same address anew", async () => {
    const { port, sockets, registry, logs, events } = await start();
    expect(await answers(port)).toBe(true);
    addon.injectError(sockets[0] as BatchSocket, 9);
    expect(await answers(port)).toBe(false); // the dead socket reads no more: this query is lost
    for (let i = 0; i < 50 && sockets.length < 2; i++) await new Promise((r) => setTimeout(r, 20));
    expect(sockets).toHaveLength(2);
    expect(addon.address(sockets[1] as BatchSocket).port).toBe(port);
    expect(await answers(port)).toBe(true);
    expect(await errorCounts(registry)).toEqual({ "EBADF fatal=true": 1 });
    expect(logs.filter((l) => l.includes("DNS UDP socket failed; opening a new one"))).toHaveLength(1);
    expect(events.some((e) => e.type === "restarted" && e.path.endsWith("udp-0"))).toBe(true);
    // The old socket was closed by the crash: its calls refuse.
    expect(() => addon.stats(sockets[0] as BatchSocket)).toThrow(expect.objectContaining({ code: "ERR_SOCKET_CLOSED" }));
  });
});
