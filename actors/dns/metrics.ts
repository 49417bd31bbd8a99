// DNS metrics (Prometheus, the node's registry). The query path runs tens of thousands of times a
// second, so per-query counts go into a plain Map and are folded into the prom-client counter when
// the registry is scraped (`collect`), instead of hashing a label set on every query.
import { Counter, Histogram, type Registry } from "prom-client";
import type { BatchStats } from "@dcnet/udp-batch";
import { counter, fastHistogram, gauge, getOrCreate, type HistogramSeries } from "../../observability/metrics.js";
import type { DnsTransport } from "./wire/index.js";

const QUERIES = "dcnet_dns_queries_total";
const pendingByRegistry = new WeakMap<Registry, Map<string, number>>();
/** The batched UDP listeners' own counters (kept in the addon), read at scrape time by listen address. */
const udpByRegistry = new WeakMap<Registry, Map<string, () => BatchStats | undefined>>();
const UDP_DATAGRAMS = "dcnet_dns_udp_datagrams_total";
const LATENCY_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

export class DnsMetrics {
  private readonly pending: Map<string, number>;
  private readonly latency: Record<DnsTransport, HistogramSeries>;
  readonly malformed: Counter<"transport" | "reason">;
  readonly overload: Counter<"transport">;
  /** Queries with an EDNS version other than 0, answered BADVERS (RFC 6891 §6.1.3). */
  readonly badVersion: Counter<"transport">;
  readonly forwardFailures: Counter<"upstream" | "transport" | "reason">;
  readonly forwardDuration: Histogram<"upstream">;
  readonly forwardCache: Counter<"result">;
  readonly upstreamHealthy: ReturnType<typeof gauge<"upstream">>;
  readonly zoneRecords: ReturnType<typeof gauge<"zone">>;
  readonly zoneBuild: Histogram<"zone">;
  readonly tcpConnections: ReturnType<typeof gauge<"listen">>;
  readonly tcpRejected: Counter<"listen" | "reason">;
  readonly udpEngine: ReturnType<typeof gauge<"listen" | "engine">>;
  /** Receive errors of UDP sockets, by errno name; a fatal one (the socket is reopened) also counts here. */
  readonly udpReceiveErrors: Counter<"listen" | "code" | "fatal">;
  /** Time queries waited in a batched UDP socket before the node read them: event-loop stalls. */
  readonly udpQueued: HistogramSeries;
  private readonly udpStats: Map<string, () => BatchStats | undefined>;

  constructor(registry: Registry) {
    // One pending map per registry, shared by every instance, so the counter's collect sees all of them.
    let pending = pendingByRegistry.get(registry);
    if (!pending) pendingByRegistry.set(registry, (pending = new Map()));
    this.pending = pending;
    getOrCreate(registry, QUERIES, () =>
      new Counter({
        name: QUERIES,
        help: "DNS queries answered, by transport, question type, response code and zone (`forward` zones are named `forward:<zone>`)",
        labelNames: ["transport", "type", "rcode", "zone"] as const,
        registers: [registry],
        collect() {
          const counts = pendingByRegistry.get(registry);
          if (!counts) return;
          for (const [key, n] of counts) {
            const [transport, type, rcode, zone] = key.split("|") as [string, string, string, string];
            this.inc({ transport, type, rcode, zone }, n);
          }
          counts.clear();
        },
      }),
    );
    this.latency = fastHistogram(registry, "dcnet_dns_request_duration_seconds", "Time from receiving a DNS query to sending its answer", "transport", ["udp", "tcp"] as const, LATENCY_BUCKETS);
    this.malformed = counter(registry, "dcnet_dns_malformed_total", "DNS packets rejected as malformed (dropped or answered FORMERR)", ["transport", "reason"]);
    this.badVersion = counter(registry, "dcnet_dns_edns_badvers_total", "Queries with an EDNS version other than 0, answered BADVERS", ["transport"]);
    this.overload = counter(registry, "dcnet_dns_overload_total", "Queries answered SERVFAIL because maxInflight queries were already being worked on", ["transport"]);
    this.forwardFailures = counter(registry, "dcnet_dns_forward_failures_total", "Failed upstream attempts (dcos-dns worker_failures_total)", ["upstream", "transport", "reason"]);
    this.forwardDuration = getOrCreate(registry, "dcnet_dns_forward_duration_seconds", () =>
      new Histogram({ name: "dcnet_dns_forward_duration_seconds", help: "Upstream reply time of forwarded queries", labelNames: ["upstream"] as const, buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5], registers: [registry] }),
    );
    this.forwardCache = counter(registry, "dcnet_dns_forward_cache_total", "Forwarded queries answered from the cache (hit) or sent upstream (miss)", ["result"]);
    this.upstreamHealthy = gauge(registry, "dcnet_dns_upstream_healthy", "1 while an upstream resolver answers, 0 while it is failing and being probed", ["upstream"]);
    this.zoneRecords = gauge(registry, "dcnet_dns_zone_records", "Records in each zone served", ["zone"]);
    this.zoneBuild = getOrCreate(registry, "dcnet_dns_zone_build_seconds", () =>
      new Histogram({ name: "dcnet_dns_zone_build_seconds", help: "Time to rebuild a zone after its inputs changed", labelNames: ["zone"] as const, buckets: [0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5], registers: [registry] }),
    );
    this.tcpConnections = gauge(registry, "dcnet_dns_tcp_connections", "Open DNS TCP connections", ["listen"]);
    this.tcpRejected = counter(registry, "dcnet_dns_tcp_closed_total", "DNS TCP connections closed by the server: over the connection limit, idle or too slow, oversized message", ["listen", "reason"]);
    this.udpEngine = gauge(registry, "dcnet_dns_udp_engine", "1 for the UDP engine each listener runs on: batch (recvmmsg/sendmmsg) or dgram (node:dgram)", ["listen", "engine"]);
    this.udpReceiveErrors = counter(registry, "dcnet_dns_udp_receive_errors_total", "Failed reads of a UDP listener socket, by errno name (e.g. ENOBUFS); fatal=true: the socket stopped working and the listener opened a new one", ["listen", "code", "fatal"]);
    this.udpQueued = fastHistogram(registry, "dcnet_dns_udp_queued_seconds", "Time a UDP query waited in the socket receive buffer before the node read it (kernel receive timestamp; batch engine): how long the event loop kept clients waiting", "transport", ["udp"] as const, LATENCY_BUCKETS).udp;
    let udp = udpByRegistry.get(registry);
    if (!udp) udpByRegistry.set(registry, (udp = new Map()));
    this.udpStats = udp;
    getOrCreate(registry, UDP_DATAGRAMS, () =>
      new Counter({
        name: UDP_DATAGRAMS,
        help: "Datagrams through batched UDP listeners: received, sent, send_dropped (socket buffer full), truncated (longer than a receive slot); batches counts recvmmsg calls that returned data",
        labelNames: ["listen", "result"] as const,
        registers: [registry],
        collect() {
          const sources = udpByRegistry.get(registry);
          if (!sources) return;
          // The addon keeps running totals: the counter is set to them, not incremented by them.
          this.reset();
          for (const [listen, read] of sources) {
            const s = read();
            if (!s) continue;
            this.inc({ listen, result: "received" }, s.received);
            this.inc({ listen, result: "sent" }, s.sent);
            this.inc({ listen, result: "send_dropped" }, s.sendDropped);
            this.inc({ listen, result: "truncated" }, s.truncated);
            this.inc({ listen, result: "batches" }, s.batches);
          }
        },
      }),
    );
  }

  /** A UDP listener bound (`stats` for the batch engine) or, with `engine` undefined, closed. */
  udpListener(listen: string, engine: "batch" | "dgram" | undefined, stats?: () => BatchStats | undefined): void {
    for (const e of ["batch", "dgram"] as const) this.udpEngine.set({ listen, engine: e }, e === engine ? 1 : 0);
    if (engine === "batch" && stats) this.udpStats.set(listen, stats);
    else this.udpStats.delete(listen);
  }

  /** One answered query; `startMs` is performance.now() when it arrived. */
  query(transport: DnsTransport, type: string, rcode: string, zone: string, startMs: number): void {
    const key = `${transport}|${type}|${rcode}|${zone}`;
    this.pending.set(key, (this.pending.get(key) ?? 0) + 1);
    this.latency[transport].observe((performance.now() - startMs) / 1000);
  }
}
