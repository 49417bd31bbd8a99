// Transport against one real nats-server on a free loopback port.
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { headers } from "@nats-io/nats-core";
import { pino } from "pino";
import { Registry } from "prom-client";
import { z } from "zod";
import { startNatsServer, type NatsServerHandle } from "../integration/harness/nats-local.js";
import { Transport } from "./connection.js";
import { sharedDecodesOf } from "./shared-decodes.js";
import { defineKind } from "./envelope.js";
import { BadReplyError, ConnectError, NoRespondersError, ServiceError, TimeoutError, TransportClosedError } from "./errors.js";
import type { Rejection } from "./rejects.js";
import type { Envelope } from "./types.js";

const echo = defineKind("test.echo", z.strictObject({ text: z.string().max(100) }));
const echoed = defineKind("test.echoed", z.strictObject({ text: z.string(), by: z.string() }));
const failed = defineKind("test.failed", z.strictObject({ why: z.string() }));

let server: NatsServerHandle;
const open: Transport[] = [];
const silent = pino({ level: "silent" });

async function node(nodeId: string, registry = new Registry()): Promise<Transport> {
  const t = await Transport.connect({ servers: [server.url], cluster: "test", nodeId, logger: silent, metrics: registry });
  open.push(t);
  return t;
}

function deferred<T>(): { promise: Promise<T>; resolve: (v: T) => void } {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

beforeAll(async () => {
  server = await startNatsServer();
});

afterAll(async () => {
  await Promise.all(open.map((t) => t.close()));
  await server.stop();
});

describe("transport - basics", () => {
  it("connects with status connected and the server URL in use", async () => {
    const t = await node("a");
    expect(t.status()).toMatchObject({ state: "connected", server: server.url });
    expect(t.subjects.adminNode("viewer", "a")).toBe("dcnet.test.admin.viewer.a");
  });

  it("publish/subscribe delivers a typed envelope with the sender id", async () => {
    const a = await node("pub-a");
    const b = await node("pub-b");
    const got = deferred<Envelope<{ text: string }>>();
    b.subscribe("test.pubsub", [echo], (env) => got.resolve(env));
    await b.nc.flush();
    a.publish("test.pubsub", echo, { text: "hi" });
    await expect(got.promise).resolves.toMatchObject({ v: 1, kind: "test.echo", from: "pub-a", body: { text: "hi" } });
  });

  it("identities sharing one connection (Transport.over) each get a broadcast, decoded once; a malformed copy is refused by each", async () => {
    const host = await node("host");
    const riders = await Promise.all(["r1", "r2", "r3"].map((id) => Transport.over(host.nc, { cluster: "test", nodeId: id, logger: silent })));
    const got = riders.map(() => deferred<Envelope<{ text: string }>>());
    riders.forEach((r, i) => r.subscribe("test.shared", [echo], (env) => got[i]?.resolve(env)));
    await host.nc.flush();
    const hitsBefore = sharedDecodesOf(host.nc).hits;
    const a = await node("shared-a");
    a.publish("test.shared", echo, { text: "all of you" });
    const envs = await Promise.all(got.map((g) => g.promise));
    for (const env of envs) expect(env).toMatchObject({ from: "shared-a", body: { text: "all of you" } });
    expect(sharedDecodesOf(host.nc).hits - hitsBefore).toBe(2);
    // Bad bytes: every rider counts its own rejection, from the one decode.
    a.nc.publish("test.shared", new Uint8Array([0x2a])); // msgpack 42: not a map
    await a.nc.flush();
    const deadline = Date.now() + 2000;
    while (riders.some((r) => r.rejects.snapshot().length === 0) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    for (const r of riders) expect(r.rejects.snapshot()).toEqual([{ kind: "unknown", reason: "not-an-envelope", count: 1 }]);
    await Promise.all(riders.map((r) => r.close()));
  });

  it("request/reply returns the reply envelope", async () => {
    const a = await node("rr-a");
    const b = await node("rr-b");
    b.subscribe("test.rr", [echo], (env, msg) => void b.respond(msg, echoed, { text: env.body.text, by: "rr-b" }));
    await b.nc.flush();
    const reply = await a.request("test.rr", echo, { text: "x" }, [echoed], { timeoutMs: 2000 });
    expect(reply).toMatchObject({ kind: "test.echoed", from: "rr-b", body: { text: "x", by: "rr-b" } });
  });

  it("a silent responder gives TimeoutError with a stable code", async () => {
    const a = await node("to-a");
    a.subscribe("test.silent", [echo], () => undefined);
    await a.nc.flush();
    const started = Date.now();
    const err = await a.request("test.silent", echo, { text: "x" }, [echoed], { timeoutMs: 200 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TimeoutError);
    expect((err as TimeoutError).code).toBe("DCNET_E_TIMEOUT");
    expect(Date.now() - started).toBeLessThan(1500);
  });

  it("nobody subscribed gives NoRespondersError at once", async () => {
    const a = await node("nr-a");
    const err = await a.request("test.nobody", echo, { text: "x" }, [echoed], { timeoutMs: 5000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NoRespondersError);
    expect((err as NoRespondersError).code).toBe("DCNET_E_NO_RESPONDERS");
    await expect(a.requestMany("test.nobody", echo, { text: "x" }, [echoed], { timeoutMs: 5000 })).rejects.toBeInstanceOf(NoRespondersError);
  });

  it("requestMany collects one reply from each of N responders and stops at `expected`", async () => {
    const client = await node("many-client");
    const responders = await Promise.all(["r1", "r2", "r3"].map((id) => node(id)));
    for (const r of responders) {
      r.subscribe("test.many", [echo], (env, msg) => void r.respond(msg, echoed, { text: env.body.text, by: r.nodeId }));
      await r.nc.flush();
    }
    const started = Date.now();
    const replies = await client.requestMany("test.many", echo, { text: "all" }, [echoed], { timeoutMs: 5000, expected: 3 });
    expect(Date.now() - started).toBeLessThan(2000);
    expect(replies.map((r) => r.body.by).sort()).toEqual(["r1", "r2", "r3"]);
    // Without `expected` it waits for the whole timeout and still has all three.
    const all = await client.requestMany("test.many", echo, { text: "all" }, [echoed], { timeoutMs: 300 });
    expect(all).toHaveLength(3);
  });

  it("a bad reply is BadReplyError and is counted; a service error without an accepted body is ServiceError", async () => {
    const registry = new Registry();
    const client = await node("bad-client", registry);
    const server1 = await node("bad-server");
    server1.subscribe("test.badreply", [echo], (_env, msg) => void msg.respond(new Uint8Array([0xc1, 0xc1])));
    server1.subscribe("test.svcerr", [echo], (_env, msg) => {
      const h = headers();
      h.set("Nats-Service-Error", "nope");
      h.set("Nats-Service-Error-Code", "400");
      msg.respond(server1.encode(failed, { why: "nope" }), { headers: h });
    });
    await server1.nc.flush();
    await expect(client.request("test.badreply", echo, { text: "x" }, [echoed])).rejects.toBeInstanceOf(BadReplyError);
    expect(await registry.getSingleMetricAsString("dcnet_transport_rejected_messages_total")).toMatch(/reason="undecodable"} 1/);
    const err = await client.request("test.svcerr", echo, { text: "x" }, [echoed]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ServiceError);
    expect(err).toMatchObject({ serviceCode: 400, description: "nope", code: "DCNET_E_SERVICE_ERROR" });
    // The error kind is accepted here, so the error reply comes back as an envelope.
    const env = await client.request("test.svcerr", echo, { text: "x" }, [echoed, failed]);
    expect(env).toMatchObject({ kind: "test.failed", body: { why: "nope" } });
  });
});

describe("transport - border", () => {
  it("rejects invalid messages, counts them per node registry, and lets onReject answer a requester", async () => {
    const registry = new Registry();
    const sub = await node("border-sub", registry);
    const pub = await node("border-pub");
    const handled: string[] = [];
    const rejected: Rejection[] = [];
    sub.subscribe("test.border", [echo], (env) => void handled.push(env.body.text), {
      onReject: (r, msg) => {
        rejected.push(r);
        msg.respond(sub.encode(failed, { why: `${r.reason}: ${r.message}` }));
      },
    });
    await sub.nc.flush();
    pub.nc.publish("test.border", new Uint8Array([1, 2, 3]));
    pub.publish("test.border", echo, { text: "y".repeat(101) });
    pub.publish("test.border", echoed, { text: "t", by: "b" });
    pub.publish("test.border", echo, { text: "good" });
    const answer = await pub.request("test.border", echoed, { text: "wrong kind", by: "me" }, [failed], { timeoutMs: 2000 });
    expect(answer.body.why).toBe('unknown-kind: kind: "test.echoed" is not one of test.echo');
    expect(handled).toEqual(["good"]);
    expect(rejected).toHaveLength(1); // onReject only for messages with a reply subject
    const metric = await registry.getSingleMetricAsString("dcnet_transport_rejected_messages_total");
    expect(metric).toContain('{kind="unknown",reason="undecodable"} 1');
    expect(metric).toContain('{kind="test.echo",reason="invalid-body"} 1');
    expect(metric).toContain('{kind="unknown",reason="unknown-kind"} 2');
    expect(sub.rejects.snapshot()).toHaveLength(3);
  });

  it("a throwing or rejecting handler is logged and the subscription keeps working", async () => {
    const logged: Array<{ msg?: string; err?: { message?: string } }> = [];
    const logger = pino({ level: "error" }, { write: (s: string) => void logged.push(JSON.parse(s) as (typeof logged)[number]) });
    const t = await Transport.connect({ servers: [server.url], cluster: "test", nodeId: "throws", logger, metrics: new Registry() });
    open.push(t);
    const seen: string[] = [];
    const done = deferred<void>();
    t.subscribe("test.throws", [echo], async (env) => {
      seen.push(env.body.text);
      if (env.body.text === "sync") throw new Error("boom");
      if (env.body.text === "async") return Promise.reject(new Error("async boom"));
      done.resolve();
    });
    await t.nc.flush();
    for (const text of ["sync", "async", "ok"]) t.publish("test.throws", echo, { text });
    await done.promise;
    await new Promise((r) => setTimeout(r, 20)); // the failures are logged from their own promise callbacks
    expect(seen).toEqual(["sync", "async", "ok"]);
    expect(logged.map((l) => [l.msg, l.err?.message])).toEqual([
      ["message handler failed", "boom"],
      ["message handler failed", "async boom"],
    ]);
  });

  it("unsubscribe stops delivery; close() is idempotent and reports closed", async () => {
    const t = await node("closer");
    const states: string[] = [];
    t.onStatus((s) => states.push(s.state));
    const got: string[] = [];
    const sub = t.subscribe("test.unsub", [echo], (env) => void got.push(env.body.text));
    sub.unsubscribe();
    sub.unsubscribe();
    t.publish("test.unsub", echo, { text: "late" });
    await t.nc.flush();
    await t.close();
    await t.close();
    expect(got).toEqual([]);
    expect(t.status().state).toBe("closed");
    expect(states).toEqual(["closed"]);
    expect(() => t.subscribe("test.unsub", [echo], () => undefined)).toThrow(TransportClosedError);
    await expect(t.request("test.unsub", echo, { text: "x" }, [echo])).rejects.toBeInstanceOf(TransportClosedError);
  });

  it("with connectTimeoutMs, a dead server list fails with ConnectError instead of waiting forever", async () => {
    const dead = await startNatsServer();
    await dead.stop();
    const err = await Transport.connect({ servers: [dead.url], cluster: "test", nodeId: "cli", logger: silent, metrics: new Registry(), connectTimeoutMs: 500 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectError);
    expect((err as ConnectError).code).toBe("DCNET_E_CONNECT_FAILED");
  });
});
