// The one config schema of a node. Each subsystem owns its section; defaults, units and the text
// of docs/config.md live here and nowhere else (dcos-net read untyped app envs at call time, with a
// copy-paste bug to show for it).
import { z } from "zod";
// DNS owns the rules of its custom zones (dcos_dns_sup's checks); the config reuses them.
import { customZonesSchema } from "../actors/dns/index.js";

const id = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, "letters, digits, '_' or '-', at most 64");
const natsUrl = z.string().regex(/^(nats|tls):\/\/[^\s,]+$/, "a nats:// or tls:// URL");
const ms = z.number().int().nonnegative();
// `ip:port` / `[ip6]:port` for listeners; `ip[:port]` (port 53 by default) for resolvers.
const hostPort = z.string().regex(/^(\d{1,3}(\.\d{1,3}){3}|\[[0-9A-Fa-f:.]+\]):\d{1,5}$/, "ip:port or [ipv6]:port");
const hostPort53 = z.string().regex(/^(\d{1,3}(\.\d{1,3}){3}(:\d{1,5})?|\[[0-9A-Fa-f:.]+\](:\d{1,5})?|[0-9A-Fa-f:]+)$/, "ip, ip:port or [ipv6]:port");

export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export const configSchema = z.strictObject({
  id: id.describe("Node id, unique in the cluster (flag --id, env DCNET_ID)."),
  cluster: id.default("dcnet").describe("Cluster name; every NATS subject starts with dcnet.<cluster> (env DCNET_CLUSTER)."),
  nats: z
    .strictObject({
      servers: z.array(natsUrl).min(1).default(["nats://127.0.0.1:4222"]).describe("NATS servers to use, any of them (flag --nats, env DCNET_NATS, comma separated)."),
      reconnectWaitMs: ms.default(250).describe("Base wait between reconnect attempts, ms; jitter is added. Reconnects never stop."),
    })
    .prefault({}),
  admin: z
    .strictObject({
      allowCrash: z.boolean().default(false).describe("Allow fault injection with `dcnet ctl crash` (env DCNET_ADMIN_ALLOW_CRASH)."),
    })
    .prefault({}),
  log: z.strictObject({ level: z.enum(LOG_LEVELS).default("info").describe("Log level; `dcnet ctl log-level` changes it at runtime (env DCNET_LOG_LEVEL).") }).prefault({}),
  tracing: z
    .strictObject({
      enabled: z.boolean().default(false).describe("Export spans over OTLP/HTTP even when no OTEL_EXPORTER_OTLP_* endpoint is set (env DCNET_TRACING)."),
    })
    .prefault({}),
  gossip: z
    .strictObject({
      heartbeatMs: z.number().int().positive().default(200).describe("Membership heartbeat interval, ms."),
      suspectAfterMs: z.number().int().positive().default(800).describe("A peer silent this long (ms, not counting our own stalls) is suspect."),
      deadAfterMs: z.number().int().positive().default(1600).describe("A peer silent this long (ms) is dead."),
      deadGraceMs: z.number().int().nonnegative().default(30_000).describe("A dead node's facts (and a restarted node's older facts) are removed this long (ms) after it was declared dead."),
      antiEntropyMs: z.number().int().positive().default(1000).describe("Digest exchange interval, ms; any missed delta is repaired within about one interval."),
      syncTimeoutMs: z.number().int().positive().default(2000).describe("At start, local writes wait for the full sync at most this long (ms), e.g. when alone."),
      tombstoneTtlMs: z.number().int().positive().default(600_000).describe("A deleted key's causal context is forgotten this long (ms) after deletion."),
      maxPendingBytes: z.number().int().positive().default(8 * 1024 * 1024).describe("Above this many unsent bytes in the NATS client, writers wait for a flush (back-pressure)."),
      repairConcurrency: z.number().int().positive().default(4).describe("Bucket requests in flight during repair or full sync."),
    })
    .prefault({}),
  mesos: z
    .strictObject({
      masters: z
        .array(z.string().regex(/^https?:\/\/[^\s,]+$/, "an http:// or https:// URL"))
        .default([])
        .describe("Mesos masters whose Operator API stream this node follows (on master nodes: the local master; flag --mesos, comma separated). Empty: no listener."),
      agentsReadinessMs: z.number().int().positive().default(600_000).describe("After a (re)subscription, wait at most this long (ms) for recovered agents to re-register before publishing."),
      tasksReadinessMs: z.number().int().nonnegative().default(10_000).describe("Then wait this long (ms) for their tasks before publishing the table."),
      agent: z.string().regex(/^https?:\/\/[^\s,]+$/, "an http:// or https:// URL").optional().describe("This node's Mesos agent (e.g. http://127.0.0.1:5051): polled for the tasks it runs (flag --mesos-agent, env DCNET_MESOS_AGENT). Unset: no agent poller."),
      token: z.string().min(1).optional().describe("Sent as `Authorization: token=<token>` to Mesos (env DCNET_MESOS_TOKEN)."),
      pollMs: z.number().int().positive().default(2000).describe("Agent poll interval, ms."),
      maxBackoffMs: z.number().int().positive().default(60_000).describe("After failures the poll interval doubles, with jitter, up to this (ms)."),
      timeoutMs: z.number().int().positive().default(10_000).describe("Timeout of one Mesos call, ms."),
    })
    .prefault({}),
  dns: z
    .strictObject({
      enabled: z.boolean().default(true).describe("Run the DNS server (zones from the replicated catalogue, forwarding for other names)."),
      listen: z
        .array(hostPort)
        .default(["127.0.0.1:8053"])
        .describe("UDP and TCP listen addresses, `ip:port` or `[ip6]:port` (flag --dns-listen, repeatable; env DCNET_DNS_LISTEN, comma separated). dcos-net's shipped default port is 8053; in production bind port 53 on a dedicated address."),
      ttl: z.number().int().min(0).max(86_400).default(5).describe("TTL (s) of records in the dcnet zones (dcos-dns: 5)."),
      negativeTtl: z.number().int().min(0).max(86_400).default(1).describe("SOA minimum of the dcnet zones: how long (s) resolvers may cache NXDOMAIN/NODATA (dcos-dns: 1)."),
      rotation: z.enum(["round_robin", "random", "off"]).default("round_robin").describe("Order of answers: rotated by message id (dcos-dns default), shuffled, or as stored."),
      maxInflight: z.number().int().positive().default(1024).describe("Queries being worked on at once (forwarded ones included); more are answered SERVFAIL, so memory stays bounded (dcos-dns handler_limit)."),
      maxUdpSize: z.number().int().min(512).max(65_535).default(4096).describe("Largest UDP answer sent, whatever EDNS0 size a client asks for."),
      traceEvery: z.number().int().nonnegative().default(100).describe("Trace one query in this many (a span with zone, rcode, forwarded); 0: none. Spans are exported only when tracing is on."),
      udpEngine: z
        .enum(["auto", "batch", "dgram"])
        .default("auto")
        .describe("How UDP listeners do socket I/O: batch (native/udp-batch: up to 64 datagrams per recvmmsg/sendmmsg, one JS call per batch; Linux), dgram (node:dgram, one syscall and one JS call per datagram), or auto (batch when the addon is built, else dgram with a warning)."),
      tcpIdleMs: z.number().int().positive().default(10_000).describe("A TCP client idle (or sending a partial message) this long (ms) is disconnected."),
      tcpMaxConnections: z.number().int().positive().default(256).describe("Open TCP connections per listener; further connections are closed at once."),
      upstreams: z
        .array(hostPort53)
        .default([])
        .describe("Resolvers for names outside the dcnet zones, `ip` or `ip:port` (dcos-net upstream_resolvers). Empty: such names are REFUSED (env DCNET_DNS_UPSTREAMS, comma separated)."),
      forwardZones: z.record(z.string().regex(/^[A-Za-z0-9_.-]+$/, "a DNS zone name"), z.array(hostPort53).min(1)).default({}).describe("Per-zone resolvers, e.g. {\"corp.example\": [\"10.0.0.2\"]}; the longest matching zone wins (dcos-net forward_zones)."),
      upstreamTimeoutMs: z.number().int().positive().default(2000).describe("Timeout of one upstream attempt, ms."),
      queryTimeoutMs: z.number().int().positive().default(5000).describe("A forwarded query with no answer after this long (ms) is answered SERVFAIL."),
      probeIntervalMs: z.number().int().positive().default(500).describe("A failed upstream is probed (`. NS`) this often (ms) until it answers again."),
      cache: z
        .strictObject({
          maxEntries: z.number().int().nonnegative().default(10_000).describe("Forwarded answers kept (LRU); 0 turns the cache off."),
          maxTtlS: z.number().int().positive().default(3600).describe("Longest time (s) a forwarded answer is kept, whatever its TTL."),
          maxNegativeTtlS: z.number().int().nonnegative().default(300).describe("Longest time (s) an NXDOMAIN/NODATA is kept (by its SOA minimum)."),
        })
        .prefault({}),
      thisnode: z
        .strictObject({
          ip: z.union([z.ipv4(), z.ipv6()]).optional().describe("Private IP for thisnode.thisdcos.directory; default: this node's first non-loopback address."),
          publicIps: z.array(z.union([z.ipv4(), z.ipv6()])).default([]).describe("Public IPs for public.thisnode.thisdcos.directory."),
        })
        .prefault({}),
      zones: customZonesSchema.default({}).describe("Custom CNAME zones, dcos-net style: {\"component.thisdcos.directory\": [{\"type\": \"cname\", \"name\": \"registry\", \"value\": \"master.dcos.thisdcos.directory\"}]}."),
      mesos: z
        .strictObject({
          mode: z.enum(["native", "forward", "off"]).default("native").describe("`.mesos`: served from the Mesos master state by dcnet itself (native), forwarded to Mesos-DNS servers (forward), or not answered (off)."),
          domain: z.string().regex(/^[a-z0-9-]+(\.[a-z0-9-]+)*$/, "a lower-case domain").default("mesos").describe("Mesos-DNS domain."),
          resolvers: z.array(hostPort53).default([]).describe("Mesos-DNS servers for mode forward (dcos-net mesos_resolvers, port 61053 in DC/OS)."),
          ttl: z.number().int().min(0).max(86_400).default(60).describe("TTL (s) of `.mesos` records (Mesos-DNS TTL)."),
          mirror: z.boolean().default(true).describe("Also serve the `.mesos` names under mesos.thisdcos.directory (TTL = dns.ttl), as dcos-dns does."),
          compat: z.boolean().default(false).describe("Reproduce Mesos-DNS's non-RFC answers in `.mesos` (no OPT, SRV NOERROR without SOA, SOA/NS in authority)."),
          refreshMs: z.number().int().positive().default(30_000).describe("How often (ms) the node following the leading master re-reads /master/state for the `.mesos` records regardless of events: the safety net for changes the operator stream does not announce as task events (Mesos-DNS: 60 s; dcos-net polled Mesos-DNS every 30 s)."),
          changeDelayMs: z.number().int().nonnegative().default(100).describe("After a task event on the leading master's operator stream, /master/state is re-read this long (ms) later, so a burst of events costs one read: `.mesos` follows task changes within about this delay."),
          ipSources: z.array(z.enum(["netinfo", "mesos", "docker", "host"])).min(1).default(["netinfo", "mesos", "host"]).describe("Mesos-DNS IPSources, in order."),
          enforceRFC952: z.boolean().default(false).describe("Mesos-DNS EnforceRFC952 labels (24 characters)."),
        })
        .prefault({}),
    })
    .superRefine((dns, ctx) => {
      const seen = new Set<string>();
      dns.listen.forEach((l, i) => {
        if (seen.has(l)) ctx.addIssue({ code: "custom", path: ["listen", i], message: `${l} is listed twice` });
        seen.add(l);
      });
      // A resolver that is this node itself would forward every unknown name back to us, forever.
      const own = new Set(dns.listen.map(withPort53));
      const resolvers: Array<[string[], string[]]> = [[["upstreams"], dns.upstreams], ...Object.entries(dns.forwardZones).map(([z, r]): [string[], string[]] => [["forwardZones", z], r]), [["mesos", "resolvers"], dns.mesos.resolvers]];
      for (const [where, list] of resolvers) {
        list.forEach((r, i) => {
          if (own.has(withPort53(r))) ctx.addIssue({ code: "custom", path: [...where, i], message: `${r} is this node's own DNS listener (a forwarding loop)` });
        });
      }
    })
    .prefault({}),
  metrics: z
    .strictObject({
      listen: z.union([hostPort, z.literal("")]).default("127.0.0.1:9163").describe("Prometheus text-format endpoint `ip:port` serving GET /metrics (every metric of the node); empty: off (env DCNET_METRICS_LISTEN)."),
    })
    .prefault({}),
  supervision: z
    .strictObject({
      intensity: z.number().int().positive().default(5).describe("Root supervisor: at most this many restarts within periodMs, else the node exits 1."),
      periodMs: z.number().int().positive().default(10_000).describe("Root supervisor restart window, ms."),
      handlerDeadlineMs: z.number().int().positive().default(30_000).describe("A message handler running longer than this (ms) is a crash."),
      shutdownTimeoutMs: z.number().int().positive().default(10_000).describe("Budget for the whole ordered shutdown on SIGTERM, ms."),
    })
    .prefault({}),
});

/** `ip` → `ip:53`, `[v6]` → `[v6]:53`, a bare IPv6 → `[v6]:53`; others unchanged. */
function withPort53(addr: string): string {
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(addr)) return `${addr}:53`;
  if (/^\[[^\]]+\]$/.test(addr)) return `${addr}:53`;
  if (/^[0-9A-Fa-f:]+$/.test(addr) && addr.includes(":") && !/^\d/.test(addr.split(":").pop() ?? "")) return `[${addr}]:53`;
  return addr;
}

export type Config = z.infer<typeof configSchema>;
/** What a file, the environment or flags may give before defaults are applied. */
export type ConfigInput = z.input<typeof configSchema>;
