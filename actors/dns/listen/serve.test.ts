// The query path without sockets: answers from the board, the cache's rotation, forwarding with
// its overload bound and failures, malformed input, and the metrics it leaves behind.
import { describe, expect, it } from "@jest/globals";
import { pino } from "pino";
import * as dnsPacket from "dns-packet";
import { Registry } from "prom-client";
import { ZoneBoard } from "../board.js";
import { DnsMetrics } from "../metrics.js";
import { QueryPath } from "./serve.js";
import type { ForwardRequest, ForwardResult } from "../forward/index.js";
import { ResponseCache } from "../wire/index.js";
import { assembleZoneSet, dcosZone } from "../zones/index.js";
import type { Task } from "../../catalogue/index.js";

const task = (id: string, ip: string): Task => ({ id, name: "web", framework: "marathon", runtime: "native", agentIp: "10.0.0.1", taskIps: [ip], state: "running", ports: [] });

function setup(forward: (req: ForwardRequest) => Promise<ForwardResult> = () => Promise.reject(new Error("no upstream")), maxInflight = 2, recursionAvailable = false) {
  const board = new ZoneBoard();
  board.publish(assembleZoneSet(1, [dcosZone({ tasks: [task("a", "9.0.0.1"), task("b", "9.0.0.2"), task("c", "9.0.0.3")], masters: [] })]));
  const registry = new Registry();
  const warnings: string[] = [];
  const logger = pino({ level: "warn" }, { write: (line: string) => warnings.push(line) });
  const path = new QueryPath({
    board,
    cache: new ResponseCache({ rotation: "round_robin" }),
    metrics: new DnsMetrics(registry),
    logger,
    forward,
    options: { rotation: "round_robin", maxUdpSize: 4096, maxInflight, traceEvery: 0, recursionAvailable },
  });
  return { board, registry, path, warnings };
}

const query = (name: string, id = 1) => dnsPacket.encode({ type: "query", id, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type: "A", name }] });

function ask(path: QueryPath, buf: Buffer): Promise<dnsPacket.DecodedPacket & { rcode?: string }> {
  return new Promise((resolve) => path.handle(buf, "udp", undefined, (reply) => resolve(dnsPacket.decode(reply))));
}

const NAME = "web.marathon.containerip.dcos.thisdcos.directory";
const ips = (p: dnsPacket.DecodedPacket) => (p.answers ?? []).map((a) => String((a as { data?: unknown }).data));

describe("QueryPath", () => {
  it("answers from the board, and a repeated query (a cache hit) rotates by message id like a fresh answer", async () => {
    const { path } = setup();
    const first = await ask(path, query(NAME, 0));
    expect(ips(first).sort()).toEqual(["9.0.0.1", "9.0.0.2", "9.0.0.3"]);
    const orders = new Set<string>();
    for (let id = 0; id < 6; id++) orders.add(ips(await ask(path, query(NAME, id))).join(","));
    expect(orders.size).toBe(3);
    // same id, same order: the rotation is a function of the id, hit or miss
    expect(ips(await ask(path, query(NAME, 4)))).toEqual(ips(await ask(path, query(NAME, 4))));
  });

  it("an RRset of more than 16 records: every record comes first in turn, hit or miss (issue 16: rotate all)", async () => {
    const { path, board } = setup();
    const many = Array.from({ length: 20 }, (_, i) => task(`t${i}`, `9.0.1.${i + 1}`));
    board.publish(assembleZoneSet(2, [dcosZone({ tasks: many, masters: [] })]));
    const firsts = new Set<string>();
    for (let id = 0; id < 40; id++) firsts.add(ips(await ask(path, query(NAME, id)))[0] ?? "");
    expect(firsts.size).toBe(20);
    // Still a function of the id: the same id, the same order.
    expect(ips(await ask(path, query(NAME, 7)))).toEqual(ips(await ask(path, query(NAME, 7))));
  });

  it("a new zone generation is answered at once (the cache keys on it)", async () => {
    const { path, board } = setup();
    expect(ips(await ask(path, query(NAME)))).toHaveLength(3);
    board.publish(assembleZoneSet(board.nextGeneration(), [dcosZone({ tasks: [task("a", "9.0.0.1")], masters: [] })]));
    expect(ips(await ask(path, query(NAME)))).toEqual(["9.0.0.1"]);
  });

  it("forwards other names; a failed forward and the overload bound both answer SERVFAIL", async () => {
    const pending: Array<(o: ForwardResult) => void> = [];
    const { path, registry } = setup((req) => new Promise((resolve) => pending.push((o) => resolve({ ...o, reply: Buffer.from(req.query) }))));
    const replies: Array<dnsPacket.DecodedPacket & { rcode?: string }> = [];
    for (let i = 0; i < 3; i++) path.handle(query("www.example.test", 10 + i), "udp", undefined, (r) => replies.push(dnsPacket.decode(r)));
    // the third exceeded maxInflight 2: SERVFAIL at once, the first two still waiting
    expect(replies.map((r) => [r.id, r.rcode])).toEqual([[12, "SERVFAIL"]]);
    for (const p of pending) p({ reply: Buffer.alloc(0), rcode: "NOERROR", zone: ".", cached: false });
    await new Promise((r) => setImmediate(r));
    expect(replies.map((r) => r.id).sort()).toEqual([10, 11, 12]);
    const failing = setup();
    expect((await ask(failing.path, query("www.example.test", 99))).rcode).toBe("SERVFAIL");
    const text = await registry.metrics();
    expect(text).toMatch(/dcnet_dns_overload_total\{transport="udp"\} 1/);
  });

  it("a listener that lends its buffer and peer (the batched UDP engine) gets forwarded answers at the kept peer, for the query as sent", async () => {
    const asked: Buffer[] = [];
    const { path } = setup((req) => {
      asked.push(req.query);
      return Promise.resolve({ reply: Buffer.from(req.query), rcode: "NOERROR", zone: ".", cached: false });
    });
    const lent = Buffer.alloc(512);
    const sent: Array<[number, string]> = [];
    const q = query("www.example.test", 77);
    q.copy(lent);
    // peer 3 is a slot number, valid only during the call; keep turns it into a lasting address
    path.handle(lent.subarray(0, q.length), "udp", 3 as number | string, (r, peer) => sent.push([dnsPacket.decode(r).id ?? -1, String(peer)]), (slot) => `addr-of-${slot}`);
    lent.fill(0xee); // the next batch overwrites the slot
    await new Promise((r) => setImmediate(r));
    expect(sent).toEqual([[77, "addr-of-3"]]);
    expect(asked[0]?.equals(q)).toBe(true);
    // answers from the zones go to the lent peer at once, without keep
    const direct: Array<number | string> = [];
    path.handle(query(NAME, 5), "udp", 4 as number | string, (_r, peer) => direct.push(peer), () => "not-kept");
    expect(direct).toEqual([4]);
  });

  it("an oversized datagram is counted as malformed", async () => {
    const { path, registry } = setup();
    path.oversized("udp", 5000);
    expect(await registry.metrics()).toMatch(/dcnet_dns_malformed_total\{transport="udp",reason="oversized"\} 1/);
  });

  it("malformed input is counted; FORMERR only where a reply can be addressed", async () => {
    const { path, registry } = setup();
    const sent: Buffer[] = [];
    path.handle(Buffer.from([1, 2, 3]), "udp", undefined, (r) => sent.push(r));
    const twoQuestions = Buffer.from(query(NAME, 5));
    twoQuestions.writeUInt16BE(2, 4);
    path.handle(twoQuestions, "udp", undefined, (r) => sent.push(r));
    expect(sent.map((b) => dnsPacket.decode(b)).map((p) => [p.id, (p as { rcode?: string }).rcode])).toEqual([[5, "FORMERR"]]);
    const text = await registry.metrics();
    const total = text.split("\n").filter((l) => l.startsWith("dcnet_dns_malformed_total{")).reduce((s, l) => s + Number(l.split(" ").pop()), 0);
    expect(total).toBe(2);
  });

  it("RA only on a node that forwards: authoritative answers, errors and failed forwards alike (issue 16, defect 1)", async () => {
    for (const ra of [false, true]) {
      const { path } = setup(undefined, 2, ra);
      const flags = async (buf: Buffer) => (await ask(path, buf)).flag_ra;
      expect(await flags(query(NAME))).toBe(ra);
      expect(await flags(query(NAME))).toBe(ra); // a cache hit
      expect(await flags(query("www.example.test"))).toBe(ra); // the forwarder failed: SERVFAIL
      const twoQuestions = Buffer.from(query(NAME, 5));
      twoQuestions.writeUInt16BE(2, 4);
      expect(await flags(twoQuestions)).toBe(ra); // FORMERR
    }
  });

  it("IXFR (with the client's SOA in authority) is REFUSED over UDP and TCP, not FORMERR (issue 16, defect 2)", async () => {
    const { path, registry } = setup();
    const soa = { name: "dcos.thisdcos.directory", type: "SOA" as const, ttl: 60, data: { mname: "ns.spartan", rname: "root.spartan", serial: 1, refresh: 60, retry: 60, expire: 60, minimum: 60 } };
    const ixfr = dnsPacket.encode({ type: "query", id: 21, questions: [{ name: "dcos.thisdcos.directory", type: "IXFR" }], authorities: [soa] });
    for (const transport of ["udp", "tcp"] as const) {
      const reply = await new Promise<dnsPacket.DecodedPacket & { rcode?: string }>((resolve) => path.handle(ixfr, transport, undefined, (r) => resolve(dnsPacket.decode(r))));
      expect([reply.id, reply.rcode, reply.flag_aa]).toEqual([21, "REFUSED", false]);
    }
    expect(await registry.metrics()).not.toMatch(/dcnet_dns_malformed_total\{/);
  });

  it("EDNS version 1: BADVERS, counted in dcnet_dns_edns_badvers_total, never logged as malformed (issue 16, defect 7)", async () => {
    const { path, registry, warnings } = setup();
    const v1 = dnsPacket.encode({ type: "query", id: 31, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type: "A", name: NAME }], additionals: [{ type: "OPT", name: ".", udpPayloadSize: 1232, flags: 0, ednsVersion: 1 } as dnsPacket.Answer] });
    for (let i = 0; i < 2; i++) {
      const reply = await ask(path, v1);
      expect(reply.id).toBe(31);
      expect(reply.additionals).toMatchObject([{ type: "OPT", extendedRcode: 1, ednsVersion: 0 }]);
    }
    const text = await registry.metrics();
    expect(text).toMatch(/dcnet_dns_edns_badvers_total\{transport="udp"\} 2/);
    expect(text).not.toMatch(/dcnet_dns_malformed_total\{/);
    expect(warnings).toEqual([]);
  });

  it("counts queries by type, rcode and zone, and exposes the latency histogram in the text format", async () => {
    const { path, registry } = setup();
    await ask(path, query(NAME));
    await ask(path, query(NAME));
    await ask(path, query(`nobody.${"dcos.thisdcos.directory"}`));
    const text = await registry.metrics();
    expect(text).toMatch(/dcnet_dns_queries_total\{transport="udp",type="A",rcode="NOERROR",zone="dcos\.thisdcos\.directory"\} 2/);
    expect(text).toMatch(/dcnet_dns_queries_total\{transport="udp",type="A",rcode="NXDOMAIN",zone="dcos\.thisdcos\.directory"\} 1/);
    expect(text).toMatch(/# TYPE dcnet_dns_request_duration_seconds histogram/);
    expect(text).toMatch(/dcnet_dns_request_duration_seconds_bucket\{le="\+Inf",transport="udp"\} 3/);
    expect(text).toMatch(/dcnet_dns_request_duration_seconds_count\{transport="udp"\} 3/);
    // counts are folded in at scrape time and not counted twice
    expect(await registry.metrics()).toMatch(/rcode="NOERROR",zone="dcos\.thisdcos\.directory"\} 2/);
  });
});
