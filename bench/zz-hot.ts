import { pino } from "pino";
import * as dnsPacket from "dns-packet";
import { Registry } from "prom-client";
import { ZoneBoard } from "../actors/dns/board.js";
import { DnsMetrics } from "../actors/dns/metrics.js";
import { QueryPath } from "../actors/dns/serve.js";
import { ResponseCache } from "../actors/dns/wire/index.js";
import { thisnodeZone, assembleZoneSet } from "../actors/dns/zones/index.js";
const board = new ZoneBoard();
board.publish(assembleZoneSet(1, [thisnodeZone({ privateIp: "10.0.0.1", publicIps: [] })]));
const metrics = new DnsMetrics(new Registry());
const path = new QueryPath({ board, cache: new ResponseCache({ rotation: "round_robin" }), metrics, logger: pino({ level: "silent" }), forward: async () => { throw new Error("x"); }, options: { rotation: "round_robin", maxUdpSize: 4096, maxInflight: 10, traceEvery: 0 } });
const q = dnsPacket.encode({ type: "query", id: 1, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type: "A", name: "thisnode.thisdcos.directory" }] });
let n = 0; const peer = {};
const send = (_b: Buffer, _p: unknown) => { n++; };
for (let round = 0; round < 3; round++) {
  const N = 1_000_000; const t0 = performance.now();
  for (let i = 0; i < N; i++) { q.writeUInt16BE(i & 0xffff, 0); path.handle(q, "udp", peer, send); }
  console.log("handle hit ns/op", ((performance.now() - t0) * 1e6 / N).toFixed(0));
}
const t1 = performance.now();
for (let i = 0; i < 1_000_000; i++) metrics.query("udp", "A", "NOERROR", "z", performance.now());
console.log("metrics.query ns/op", ((performance.now() - t1)).toFixed(0));
const cache = new ResponseCache({ rotation: "round_robin" });
cache.put(q, 1, "udp", [Buffer.alloc(60)], { type: "A", rcode: "NOERROR", zone: "z" });
const t2 = performance.now();
for (let i = 0; i < 1_000_000; i++) cache.get(q, 1, "udp");
console.log("cache.get ns/op", ((performance.now() - t2)).toFixed(0));
