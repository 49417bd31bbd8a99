// The receiving side's sender check (`senderToken`), over one real nats-server on loopback: an
// envelope is delivered only when its `from` is the sender token of the subject it arrived on.
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { pino } from "pino";
import { Registry } from "prom-client";
import { z } from "zod";
import { startNatsServer, type NatsServerHandle } from "../integration/harness/nats-local.js";
import { encode } from "./codec.js";
import { Transport } from "./connection.js";
import { defineKind } from "./envelope.js";
import type { Rejection } from "./rejects.js";
import { ANY } from "./subjects.js";
import type { Envelope } from "./types.js";

const note = defineKind("test.note", z.strictObject({ n: z.number() }));
const silent = pino({ level: "silent" });

let server: NatsServerHandle;
const open: Transport[] = [];

async function node(nodeId: string, registry = new Registry()): Promise<Transport> {
  const t = await Transport.connect({ servers: [server.url], cluster: "sub", nodeId, logger: silent, metrics: registry });
  open.push(t);
  return t;
}

beforeAll(async () => {
  server = await startNatsServer();
});

afterAll(async () => {
  await Promise.all(open.map((t) => t.close()));
  await server.stop();
});

describe("subscribe - senderToken", () => {
  it("delivers only envelopes whose from is the subject's sender token; the rest are counted as forged-sender", async () => {
    const registry = new Registry();
    const rx = await node("rx", registry);
    const evil = await node("evil");
    const got: Envelope<{ n: number }>[] = [];
    const refused: Rejection[] = [];
    rx.subscribe(rx.subjects.gossipDelta(ANY), [note], (env) => void got.push(env), { senderToken: "last", onReject: (r) => void refused.push(r) });
    await rx.nc.flush();
    evil.publish(evil.subjects.gossipDelta("evil"), note, { n: 1 }); // honest: from evil on evil's subject
    evil.nc.publish(evil.subjects.gossipDelta("b"), encode(note, "b", { n: 2 })); // the server's job (permissions): from b on b's subject
    evil.nc.publish(evil.subjects.gossipDelta("evil"), encode(note, "b", { n: 3 })); // claims b on its own subject
    evil.publish(evil.subjects.gossipDelta("b"), note, { n: 4 }); // from evil on b's subject
    const reply = evil.nc.request(evil.subjects.gossipDelta("evil"), encode(note, "b", { n: 5 }), { timeout: 500 }).catch((err: unknown) => err);
    await evil.nc.flush();
    const deadline = Date.now() + 2000;
    while (rx.rejects.snapshot().reduce((n, r) => n + r.count, 0) < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    await reply;
    expect(got.map((e) => [e.from, e.body.n])).toEqual([["evil", 1], ["b", 2]]);
    expect(rx.rejects.snapshot()).toEqual([{ kind: "test.note", reason: "forged-sender", count: 3 }]);
    const metric = await registry.getSingleMetric("dcnet_transport_rejected_messages_total")?.get();
    expect(metric?.values.map((v) => [v.labels.kind, v.labels.reason, v.value])).toEqual([["test.note", "forged-sender", 3]]);
    // onReject is told only about the one that carried a reply subject.
    expect(refused).toEqual([{ kind: "test.note", reason: "forged-sender", message: 'from: "b" is not the sender token of dcnet.sub.gossip.delta.evil', subject: "dcnet.sub.gossip.delta.evil" }]);
  });

  it("without senderToken, from is not compared with the subject", async () => {
    const rx = await node("plain");
    const tx = await node("tx");
    const got: string[] = [];
    rx.subscribe("test.plain.x", [note], (env) => void got.push(env.from));
    await rx.nc.flush();
    tx.publish("test.plain.x", note, { n: 1 });
    await tx.nc.flush();
    const deadline = Date.now() + 2000;
    while (got.length < 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(got).toEqual(["tx"]);
    expect(rx.rejects.snapshot()).toEqual([]);
  });
});
