// Trace context through the store: a write's carrier reaches the watchers of the writer's node and,
// with the delta, those of every other node, so the work a change triggers (a zone rebuild) joins the
// change's trace. Real nats-server, stores of several nodes in one process (testkit.ts).
import { afterAll, afterEach, beforeAll, describe, expect, it } from "@jest/globals";
import { context, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { Registry } from "prom-client";
import { startNatsServer, type NatsServerHandle } from "../../../integration/harness/nats-local.js";
import { startTree, supervisor, worker } from "../../../supervisors/index.js";
import { ANY, Transport, encode, type KindDef } from "../../../transport/index.js";
import { carrierSpanContext, extractCarrier, injectCarrier } from "../../../transport/trace-headers.js";
import { registrationsBehaviour, type RegistrationMsg, type RegistrationResult } from "../../catalogue/index.js";
import { storeWriter } from "../../catalogue/index.js";
import type { Task } from "../../catalogue/index.js";
import { emptyKey, hlcNow, setField } from "../crdt/index.js";
import type { TraceCarrier, UpdateOp, WatchEvent } from "./types.js";
import { deltasKind, MAX_TRACESTATE_CHARS, type DeltasBody } from "./wire.js";
import { counters, getKey, lww, setOp, silent, startStoreNode, waitUntil, type StoreNode } from "../../../testkit/gossip/store.js";

let server: NatsServerHandle;
let open: Array<{ stop(): Promise<void> }> = [];
let clusterSeq = 0;
const provider = new BasicTracerProvider();
const tracer = provider.getTracer("store-trace-test");

beforeAll(async () => {
  // What startTracing installs: without a context manager there is no active span to capture.
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  server = await startNatsServer();
});

afterEach(async () => {
  await Promise.all(open.map((n) => n.stop()));
  open = [];
});

afterAll(async () => {
  await server.stop();
  await provider.shutdown();
  context.disable();
});

async function cluster(ids: readonly string[], traced?: typeof tracer): Promise<{ name: string; nodes: StoreNode[] }> {
  const name = `trace${++clusterSeq}`;
  const nodes = await Promise.all(ids.map((id) => startStoreNode(server.url, name, id, traced ? { tracer: traced } : {})));
  open.push(...nodes);
  await waitUntil("stores synced", async () => (await Promise.all(nodes.map(counters))).every((c) => c.synced), 5_000);
  return { name, nodes };
}

function pick<T>(xs: readonly T[], i: number): T {
  const x = xs[i];
  if (x === undefined) throw new Error(`no element ${i}`);
  return x;
}

/** Change events (not the snapshot) seen by a new watch on `prefix`. */
async function watch(n: StoreNode, prefix: string): Promise<WatchEvent[]> {
  const seen: WatchEvent[] = [];
  await n.store.ask<number>((reply) => ({ type: "watch", prefix, subscriber: (ev) => void (ev.initial ? undefined : seen.push(ev)), reply }), 5_000);
  return seen;
}

async function eventFor(seen: readonly WatchEvent[], key: string, what: string): Promise<WatchEvent> {
  let found: WatchEvent | undefined;
  await waitUntil(what, () => (found = seen.find((e) => e.key === key)) !== undefined, 3_000, 5);
  if (found === undefined) throw new Error(`no event for ${key}`);
  return found;
}

function traceIdOf(c: TraceCarrier | undefined): string | undefined {
  return carrierSpanContext(c)?.traceId;
}

function writeTraced(n: StoreNode, key: string, ops: readonly UpdateOp[], carrier: TraceCarrier | undefined): Promise<{ ok: boolean }> {
  return n.store.ask<{ ok: boolean }>((reply) => ({ type: "update", key, ops, trace: carrier, reply }), 5_000);
}

const T1: TraceCarrier = { traceparent: "00-11111111111111111111111111111111-1111111111111111-01" };
const T2: TraceCarrier = { traceparent: "00-22222222222222222222222222222222-2222222222222222-01", tracestate: "dcnet=t2" };

describe("gossip store: trace context of writes", () => {
  it("a write in a span on A reaches the watchers of A and B with that span's context; an untraced one carries none, on the wire too", async () => {
    const { name, nodes } = await cluster(["a", "b"]);
    const [a, b] = [pick(nodes, 0), pick(nodes, 1)];
    const [onA, onB] = [await watch(a, "tasks/"), await watch(b, "tasks/")];
    const spy = await Transport.connect({ servers: [server.url], cluster: name, nodeId: "spy", logger: silent, metrics: new Registry() });
    open.push({ stop: () => spy.close() });
    const batches: DeltasBody[] = [];
    spy.subscribe(spy.subjects.gossipDelta(ANY), [deltasKind], (env) => void batches.push(env.body));
    await spy.nc.flush();

    const write = storeWriter(() => a.store);
    const span = tracer.startSpan("admin task-add");
    await context.with(trace.setSpan(context.active(), span), () => write("tasks/a/native/t1", [setOp("task", { id: "t1" })]));
    span.end();
    const { traceId, spanId } = span.spanContext();

    const remote = await eventFor(onB, "tasks/a/native/t1", "B's change event");
    expect(remote.trace?.traceparent).toBe(`00-${traceId}-${spanId}-01`);
    // What the zone actor will do with it: parent (or link) its rebuild span on the writer's span.
    const parent = trace.getSpanContext(extractCarrier(remote.trace));
    expect(parent).toMatchObject({ traceId, spanId, isRemote: true });
    expect((await eventFor(onA, "tasks/a/native/t1", "A's change event")).trace).toEqual(remote.trace);

    // No span active: no carrier, and no `trace` field anywhere.
    expect(injectCarrier(context.active())).toBeUndefined();
    await write("tasks/a/native/t2", [setOp("task", { id: "t2" })]);
    expect(await eventFor(onB, "tasks/a/native/t2", "B's untraced event")).not.toHaveProperty("trace");
    expect(await eventFor(onA, "tasks/a/native/t2", "A's untraced event")).not.toHaveProperty("trace");
    await waitUntil("the spy saw both deltas", () => batches.flatMap((bt) => bt.deltas).length >= 2, 2_000);
    const onWire = new Map(batches.flatMap((bt) => bt.deltas).map((d) => [d.key, d]));
    expect(traceIdOf(onWire.get("tasks/a/native/t1")?.trace)).toBe(traceId);
    expect(Object.keys(onWire.get("tasks/a/native/t2") ?? {}).sort()).toEqual(["key", "state"]);
  }, 20_000);

  it("a task added through the registrations actor with the request's carrier: B's watcher sees the request's trace", async () => {
    const { nodes } = await cluster(["a", "b"]);
    const [a, b] = [pick(nodes, 0), pick(nodes, 1)];
    const onB = await watch(b, "tasks/");
    const tree = await startTree(supervisor("catalogue", "one_for_one", [worker("registrations", registrationsBehaviour({ nodeId: "a", logger: silent, store: () => a.store }))]));
    open.push({ stop: () => tree.shutdown() });
    const regs = tree.lookup<RegistrationMsg>("/catalogue/registrations");
    if (regs === undefined) throw new Error("no registrations actor");
    const task: Task = { id: "web-1", name: "web", framework: "native", runtime: "native", agentIp: "10.0.0.1", taskIps: ["10.0.0.1"], state: "running", ports: [] };
    const add = await regs.ask<RegistrationResult>((reply) => ({ type: "add", task, trace: T1, reply }), 5_000);
    expect(add).toEqual({ ok: true });
    expect((await eventFor(onB, "tasks/a/native/web-1", "B sees the task")).trace).toEqual(T1);
    onB.length = 0;
    expect(await regs.ask<RegistrationResult>((reply) => ({ type: "remove", id: "web-1", trace: T2, reply }), 5_000)).toEqual({ ok: true });
    const removed = await eventFor(onB, "tasks/a/native/web-1", "B sees the removal");
    expect(removed).toMatchObject({ value: undefined, trace: T2 });
  }, 20_000);

  it("writes of one key coalesced into one delta reach peers with the latest write's carrier", async () => {
    const { nodes } = await cluster(["a", "b"]);
    const [a, b] = [pick(nodes, 0), pick(nodes, 1)];
    const onB = await watch(b, "hot/");
    // Both are in A's mailbox before its 2 ms flush tick: one delta, one event on B.
    const acks = await Promise.all([writeTraced(a, "hot/k", [setOp("v", 1)], T1), writeTraced(a, "hot/k", [setOp("v", 2)], T2)]);
    expect(acks).toEqual([{ ok: true }, { ok: true }]);
    await waitUntil("B has v=2", async () => lww(await getKey(b, "hot/k"), "v") === 2, 2_000);
    const last = onB.filter((e) => e.key === "hot/k").at(-1);
    expect(last?.trace).toEqual(T2);
  }, 20_000);

  it("a writer's malformed carrier is dropped (an oversized tracestate alone); the write goes through", async () => {
    const { nodes } = await cluster(["a", "b"]);
    const [a, b] = [pick(nodes, 0), pick(nodes, 1)];
    const onB = await watch(b, "bad/");
    expect(await writeTraced(a, "bad/1", [setOp("v", 1)], { traceparent: "not-a-traceparent" })).toEqual({ ok: true });
    expect(await writeTraced(a, "bad/2", [setOp("v", 2)], { traceparent: T1.traceparent ?? "", tracestate: "x".repeat(MAX_TRACESTATE_CHARS + 1) })).toEqual({ ok: true });
    expect(await eventFor(onB, "bad/1", "B sees bad/1")).not.toHaveProperty("trace");
    expect((await eventFor(onB, "bad/2", "B sees bad/2")).trace).toEqual({ traceparent: T1.traceparent });
    expect((await counters(b)).rejected).toBe(0);
  }, 20_000);

  it("a delta batch with a malformed carrier is refused at the border and counted; the store carries on", async () => {
    const { name, nodes } = await cluster(["a", "b"]);
    const b = pick(nodes, 1);
    const onB = await watch(b, "evil/");
    const evil = await Transport.connect({ servers: [server.url], cluster: name, nodeId: "evil", logger: silent, metrics: new Registry() });
    open.push({ stop: () => evil.close() });
    const replica = "evil@1";
    const state = (v: number) => setField(emptyKey(), replica, "v", v, hlcNow(undefined, replica, Date.now()));
    // encode() does not check the body: a peer's bytes are whatever it sends.
    const publish = (body: unknown): void => evil.nc.publish(evil.subjects.gossipDelta("evil"), encode(deltasKind as KindDef<unknown>, "evil", body));
    const malformed: unknown[] = [
      { traceparent: "00-xyz" },
      { traceparent: T1.traceparent, tracestate: "x".repeat(100_000) },
      { traceparent: T1.traceparent, nested: { deep: [1, 2, 3] } },
      42,
    ];
    for (const [i, bad] of malformed.entries()) publish({ replica, deltas: [{ key: `evil/${i}`, state: state(i), trace: bad }] });
    publish({ replica, deltas: [{ key: "evil/ok", state: state(7), trace: T2 }] });
    await evil.nc.flush();
    // The well-formed batch sent after them is merged: the bad ones were dropped, not fatal.
    expect((await eventFor(onB, "evil/ok", "B merged the good batch")).trace).toEqual(T2);
    const rejected = (await b.registry.getSingleMetric("dcnet_transport_rejected_messages_total")?.get())?.values ?? [];
    expect(rejected.find((v) => v.labels.kind === "gossip.deltas" && v.labels.reason === "invalid-body")?.value).toBe(malformed.length);
    for (let i = 0; i < malformed.length; i++) expect(await getKey(b, `evil/${i}`)).toBeUndefined();
    expect(onB.map((e) => e.key)).toEqual(["evil/ok"]);
    expect(pick(b.tree.stats().filter((s) => s.path.endsWith("/store")), 0).restarts).toBe(0);
  }, 20_000);

  it("on a tracing node: a traced delta is published in a PRODUCER span under the write and arrives on B in a CONSUMER span that B's watchers get as their parent", async () => {
    const exporter = new InMemorySpanExporter();
    const traced = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
    const t = traced.getTracer("store-spans");
    const { nodes } = await cluster(["a", "b"], t);
    const [a, b] = [pick(nodes, 0), pick(nodes, 1)];
    const onB = await watch(b, "tasks/");
    const write = t.startSpan("admin task-add");
    const carrier = injectCarrier(trace.setSpan(context.active(), write));
    expect(await writeTraced(a, "tasks/a/native/s1", [setOp("task", { id: "s1" })], carrier)).toEqual({ ok: true });
    write.end();
    const ev = await eventFor(onB, "tasks/a/native/s1", "B's change event");
    await waitUntil("publish and arrival spans", () => exporter.getFinishedSpans().some((s) => s.name === "gossip delta arrival"), 2_000);
    const spans = exporter.getFinishedSpans();
    const publish = spans.find((s) => s.name === "gossip delta publish");
    const arrival = spans.find((s) => s.name === "gossip delta arrival");
    expect(publish?.parentSpanContext?.spanId).toBe(write.spanContext().spanId);
    expect(publish?.attributes["dcnet.store.key"]).toBe("tasks/a/native/s1");
    expect(arrival?.parentSpanContext?.spanId).toBe(publish?.spanContext().spanId);
    expect(arrival?.attributes).toMatchObject({ "dcnet.store.key": "tasks/a/native/s1", "dcnet.gossip.from": "a", "dcnet.gossip.changed": true });
    // What B does with the change (a zone rebuild) is parented on the arrival, in the writer's trace.
    expect(carrierSpanContext(ev.trace)).toMatchObject({ traceId: write.spanContext().traceId, spanId: arrival?.spanContext().spanId });
    await traced.shutdown();
  }, 20_000);

  it("on a tracing node: a write that came without a carrier is parented on its own store.update turn", async () => {
    const exporter = new InMemorySpanExporter();
    const traced = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
    const { nodes } = await cluster(["a", "b"], traced.getTracer("store-spans"));
    const [a, b] = [pick(nodes, 0), pick(nodes, 1)];
    const onB = await watch(b, "tasks/");
    expect(await writeTraced(a, "tasks/a/native/s2", [setOp("task", { id: "s2" })], undefined)).toEqual({ ok: true });
    const ev = await eventFor(onB, "tasks/a/native/s2", "B's change event");
    await waitUntil("the arrival span", () => exporter.getFinishedSpans().some((s) => s.name === "gossip delta arrival"), 2_000);
    const update = exporter.getFinishedSpans().find((s) => s.name === "/node/gossip/store store.update");
    expect(update?.parentSpanContext).toBeUndefined();
    expect(carrierSpanContext(ev.trace)?.traceId).toBe(update?.spanContext().traceId);
    await traced.shutdown();
  }, 20_000);
});
