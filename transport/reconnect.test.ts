// Reconnect across a 3-server loopback cluster: kill the server a node is on, the node moves to another.
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { pino } from "pino";
import { Registry } from "prom-client";
import { z } from "zod";
import { startNatsCluster, type NatsClusterHandle } from "../integration/harness/nats-local.js";
import { Transport } from "./connection.js";
import { defineKind } from "./envelope.js";
import type { ConnStatus } from "./types.js";

const ping = defineKind("test.ping", z.strictObject({ n: z.number() }));
const pong = defineKind("test.pong", z.strictObject({ n: z.number() }));
const silent = pino({ level: "silent" });

let cluster: NatsClusterHandle;
const open: Transport[] = [];

beforeAll(async () => {
  cluster = await startNatsCluster(3, { jetstream: false });
}, 20_000);

afterAll(async () => {
  await Promise.all(open.map((t) => t.close()));
  await cluster.stop();
});

async function waitFor(pred: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe("transport - reconnect", () => {
  it("moves to another server when its server dies, tells listeners, and requests work again within 5 s", async () => {
    const registry = new Registry();
    const client = await Transport.connect({ servers: cluster.urls, cluster: "test", nodeId: "client", logger: silent, metrics: registry, reconnectWaitMs: 100 });
    open.push(client);
    const first = client.status().server;
    const victim = cluster.servers.find((s) => s.url === first);
    expect(victim).toBeDefined();
    // The responder sits on a server that survives, so only the client's connection is disturbed.
    const other = cluster.urls.find((u) => u !== first) as string;
    const responder = await Transport.connect({ servers: [other], cluster: "test", nodeId: "responder", logger: silent, metrics: new Registry() });
    open.push(responder);
    responder.subscribe("test.rc", [ping], (env, msg) => void responder.respond(msg, pong, { n: env.body.n }));
    await responder.nc.flush();
    await expect(client.request("test.rc", ping, { n: 1 }, [pong], { timeoutMs: 2000 })).resolves.toMatchObject({ body: { n: 1 } });

    const seen: ConnStatus[] = [];
    client.onStatus((s) => seen.push(s));
    const killedAt = Date.now();
    await victim!.kill();

    await waitFor(() => client.status().state === "connected" && client.status().server !== first, 5_000);
    // Route interest may lag the reconnect by a moment: retry the request until it answers, all within 5 s.
    let reply: unknown;
    while (reply === undefined && Date.now() - killedAt < 5_000) {
      reply = await client.request("test.rc", ping, { n: 2 }, [pong], { timeoutMs: 500 }).catch(() => undefined);
    }
    expect(reply).toMatchObject({ body: { n: 2 }, from: "responder" });
    expect(Date.now() - killedAt).toBeLessThan(5_000);

    const states = seen.map((s) => s.state);
    expect(states[0]).toBe("disconnected");
    expect(states).toContain("reconnecting");
    const last = seen[seen.length - 1]!;
    expect(last.state).toBe("connected");
    expect(last.server).not.toBe(first);
    expect(cluster.urls).toContain(last.server);
    const metrics = await registry.metrics();
    expect(metrics).toContain("dcnet_transport_reconnects_total 1");
    expect(metrics).toContain("dcnet_transport_connected 1");
  }, 15_000);
});
