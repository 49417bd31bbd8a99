// What an operator sees in Jaeger from a 3-node cluster (issue 18): three `dcnet node` processes and
// the `dcnet ctl` that talks to them export OTLP/HTTP to a receiver in the test, as they would to
// Jaeger on :4318, with the sampling an operator sets (OTEL_TRACES_SAMPLER_ARG=1) and default config.
// An idle cluster exports nothing (heartbeats, ticks, digests, sweeps are background work); one task
// registration is exactly one trace, from the CLI's request to the zone update on every node; and a
// caller's decision not to sample is kept by every node.
import { afterAll, beforeAll, describe, expect, jest, test } from "@jest/globals";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from "../testkit/otlp-receiver.js";
import { startDnsNodes, type DnsNodes } from "./support/dns-nodes.js";
import { runDcnet } from "./support/dcnet-process.js";
import { within } from "./support/admin.js";
import { dig } from "./support/dig.js";

jest.setTimeout(90_000);

const NODES = ["tr-a", "tr-b", "tr-c"] as const;
type NodeId = (typeof NODES)[number];
const IDLE_MS = 10_000;
const SERVER = 2;
const CLIENT = 3;
const PRODUCER = 4;
const CONSUMER = 5;

const node = (s: ReceivedSpan): string => String(s.resource["service.instance.id"]);
const byId = (spans: readonly ReceivedSpan[]): Map<string, ReceivedSpan> => new Map(spans.map((s) => [s.spanId, s]));

describe("tracing - a 3-node cluster as an operator sees it in Jaeger", () => {
  let receiver: OtlpReceiver;
  let lab: DnsNodes<NodeId> | undefined;
  let urls: string;
  // What an operator sets on every process (issue 18): every change traced; background left at its default.
  const env = (): NodeJS.ProcessEnv => ({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_BSP_SCHEDULE_DELAY: "100", OTEL_TRACES_SAMPLER_ARG: "1" });

  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    lab = await startDnsNodes(NODES, { env: env() });
    urls = lab.nats.urls.join(",");
    // The start's own traces (member joins, node facts written) reach the receiver within the batch delay.
    await new Promise((r) => setTimeout(r, 1_500));
  }, 60_000);

  afterAll(async () => {
    await lab?.stop();
    await receiver?.close();
  });

  async function addTask(id: string, sampled: boolean, ttlMs?: number): Promise<void> {
    const file = join(lab!.dir, `${id}.json`);
    writeFileSync(file, JSON.stringify({ id, name: id, framework: "shop", runtime: "native", agentIp: "10.1.0.7", taskIps: [], state: "running", ports: [] }));
    const ttl = ttlMs === undefined ? [] : ["--ttl", String(ttlMs)];
    const r = await runDcnet(["ctl", "--nats", urls, "--node", "tr-a", "task", "add", file, ...ttl], { ...env(), OTEL_TRACES_SAMPLER_ARG: sampled ? "1" : "0" });
    expect(r.code).toBe(0);
  }

  /** Every node answers the task's name: the change has landed everywhere (DNS queries are traced 1 in dns.traceEvery, 100). */
  async function answeredEverywhere(id: string): Promise<void> {
    await within(15_000, async () => {
      for (const n of NODES) {
        const r = await dig({ host: "127.0.0.1", port: lab!.dnsPort.get(n) as number }, [`${id}.shop.agentip.dcos.thisdcos.directory`, "A"]);
        if (r.answer.length === 0) throw new Error(`${n} does not answer ${id} yet`);
      }
    }, 100);
  }

  test("idle for 10 s with default settings: no span exported, and none of background work since the start", async () => {
    const before = receiver.spans().length;
    await new Promise((r) => setTimeout(r, IDLE_MS));
    const idle = receiver.spans().slice(before);
    console.log(`idle 3-node cluster, default settings: ${idle.length} spans exported in ${IDLE_MS / 1000} s = ${(idle.length / (IDLE_MS / 1000)).toFixed(1)} spans/s`);
    // A member flapping on a loaded CI machine is a change (its trace starts at the store's member turn), not background.
    const flaps = new Set(idle.filter((s) => s.parentSpanId === "" && s.name.endsWith("store.member")).map((s) => s.traceId));
    expect(idle.filter((s) => !flaps.has(s.traceId)).map((s) => `${node(s)} ${s.name}`)).toEqual([]);
    // Nothing of the periodic work was exported at any time, under its names or its mark.
    const periodic = /gossip\.hb|gossip\.digest|gossip\.bucket|membership\.(tick|heartbeat)|store\.(anti-entropy|remote-digest|remote-deltas)| expire$| check$| bind$/;
    const background = receiver.spans().filter((s) => s.attributes["dcnet.background"] === true || periodic.test(s.name));
    expect(background.map((s) => `${node(s)} ${s.name}`)).toEqual([]);
  });

  test("one task registration is exactly one trace: the CLI's request, the write on tr-a, and on every node the zone update; on tr-b and tr-c the delta's arrival", async () => {
    const before = receiver.spans().length;
    await addTask("traced-1", true);
    const key = "tasks/tr-a/native/traced-1";
    const updated = (all: readonly ReceivedSpan[], n: string) => all.some((s) => s.name === "dns zone update" && s.attributes["dcnet.store.key"] === key && node(s) === n);
    await receiver.waitFor((all) => NODES.every((n) => updated(all, n)), 15_000);
    // Whatever else the change caused has reached the receiver too.
    await new Promise((r) => setTimeout(r, 1_000));
    const spans = receiver.spans().slice(before);
    const tree = receiver.tree(spans);

    const traces = [...new Set(spans.map((s) => s.traceId))];
    if (traces.length !== 1) throw new Error(`${traces.length} traces, want 1:\n${tree}`);
    const ids = byId(spans);
    const roots = spans.filter((s) => !ids.has(s.parentSpanId));
    expect(roots.map((s) => [s.name, s.kind, s.parentSpanId])).toEqual([[expect.stringContaining("admin.admin.tr-a.task-add request"), CLIENT, ""]]);
    const [root] = roots as [ReceivedSpan];
    expect(String(root.resource["service.instance.id"])).toMatch(/^ctl-\d+$/);

    /** The chain of parents of `s` up to the root, as "node name" lines. */
    const ancestors = (s: ReceivedSpan): ReceivedSpan[] => {
      const out: ReceivedSpan[] = [];
      for (let p = ids.get(s.parentSpanId); p !== undefined; p = ids.get(p.parentSpanId)) out.push(p);
      return out;
    };
    const one = (pred: (s: ReceivedSpan) => boolean, what: string): ReceivedSpan => {
      const hits = spans.filter(pred);
      if (hits.length !== 1) throw new Error(`${hits.length} spans for ${what}:\n${tree}`);
      return hits[0] as ReceivedSpan;
    };
    const admin = one((s) => s.name === "admin task-add" && node(s) === "tr-a", "the admin request on tr-a");
    expect(admin).toMatchObject({ kind: SERVER, parentSpanId: root.spanId });
    const published = one((s) => s.name === "gossip delta publish" && s.attributes["dcnet.store.key"] === key, "the delta's publish");
    expect(node(published)).toBe("tr-a");
    expect(published.kind).toBe(PRODUCER);
    expect(ancestors(published)).toContain(admin);
    const zoneA = one((s) => s.name === "dns zone update" && node(s) === "tr-a", "the zone update on tr-a");
    expect(ancestors(zoneA)).toContain(admin);
    for (const n of ["tr-b", "tr-c"]) {
      const arrival = one((s) => s.name === "gossip delta arrival" && node(s) === n, `the delta's arrival on ${n}`);
      expect(arrival).toMatchObject({ kind: CONSUMER, parentSpanId: published.spanId });
      expect(arrival.attributes).toMatchObject({ "dcnet.store.key": key, "dcnet.gossip.from": "tr-a", "dcnet.gossip.changed": true });
      const zone = one((s) => s.name === "dns zone update" && node(s) === n, `the zone update on ${n}`);
      expect(zone.parentSpanId).toBe(arrival.spanId);
      expect(zone.attributes["dcnet.store.key"]).toBe(key);
      // What else the change caused there (the zone actor's turns, the VIP table) hangs under the arrival.
      for (const s of spans.filter((x) => node(x) === n && x !== arrival)) expect(ancestors(s)).toContain(arrival);
    }
    for (const s of spans.filter((x) => x !== root)) {
      expect(NODES).toContain(node(s));
      expect(s.resource["host.name"]).toEqual(expect.any(String));
      expect(s.resource["service.name"]).toBe("dcnet");
    }
    console.log(`one registration → 1 trace of ${spans.length} spans:\n${tree}`);
  });

  test("a caller that does not sample: no node exports anything of that change (ParentBased honours the remote decision)", async () => {
    const before = receiver.spans().length;
    await addTask("unsampled-1", false);
    await answeredEverywhere("unsampled-1");
    await new Promise((r) => setTimeout(r, 1_000));
    const spans = receiver.spans().slice(before);
    const ofChange = spans.filter((s) => s.attributes["dcnet.store.key"] === "tasks/tr-a/native/unsampled-1" || s.name === "admin task-add" || s.name.includes("gossip delta"));
    expect(ofChange.map((s) => `${node(s)} ${s.name}`)).toEqual([]);
  });

  test("a task expired by the TTL sweep (background work): no span of the sweep, and the expiry is one trace of its own across the 3 nodes", async () => {
    const key = "tasks/tr-a/native/expiring-1";
    await addTask("expiring-1", true, 1_000);
    const updates = (all: readonly ReceivedSpan[]) => all.filter((s) => s.name === "dns zone update" && s.attributes["dcnet.store.key"] === key);
    // The registration's trace has one update per node; the expiry's is a second trace with one per node.
    await receiver.waitFor((all) => new Set(updates(all).map((s) => s.traceId)).size === 2 && updates(all).length === 6, 15_000);
    await new Promise((r) => setTimeout(r, 500));
    const all = receiver.spans();
    const added = all.find((s) => s.name.includes("task-add request") && updates(all).some((u) => u.traceId === s.traceId));
    const expiry = updates(all).find((u) => u.traceId !== added?.traceId)?.traceId;
    const spans = all.filter((s) => s.traceId === expiry);
    const tree = receiver.tree(spans);
    const ids = byId(spans);
    const roots = spans.filter((s) => !ids.has(s.parentSpanId));
    // The sweep's turn was not sampled (background); the write it made is the root of the change's trace.
    expect({ roots: roots.map((s) => `${node(s)} ${s.name} ${s.parentSpanId}`), tree }).toEqual({ roots: ["tr-a /node/gossip/store store.update "], tree });
    for (const n of NODES) expect(updates(spans).filter((s) => node(s) === n)).toHaveLength(1);
    for (const n of ["tr-b", "tr-c"]) expect(spans.filter((s) => s.name === "gossip delta arrival" && node(s) === n && s.attributes["dcnet.store.key"] === key)).toHaveLength(1);
    expect(all.filter((s) => s.name.includes("registrations expire"))).toEqual([]);
  });
});
