// The `dns` section of a node's config: owned here, composed by actors/node/config.ts. A light module
// (zod, config/'s helpers and DNS's own pure zone rules), never the DNS runtime: config is validated
// before any actor starts. Each key's `.describe()` is its line in docs/config.md.
import { z } from "zod";
import { listenAddress } from "../../config/index.js";
// DNS owns the rules of its custom zones (dcos_dns_sup's checks); the config reuses them.
import { customZonesSchema } from "./zones/custom.js";

// `ip[:port]` (port 53 by default) or `[ip6][:port]`, for resolvers.
const resolverAddress = z.string().regex(/^(\d{1,3}(\.\d{1,3}){3}(:\d{1,5})?|\[[0-9A-Fa-f:.]+\](:\d{1,5})?|[0-9A-Fa-f:]+)$/, "ip, ip:port or [ipv6]:port");

export const dnsConfigSection = z
  .strictObject({
    enabled: z.boolean().default(true).describe("Run the DNS server (zones from the replicated catalogue, forwarding for other names)."),
    listen: z
      .array(listenAddress)
      .default(["127.0.0.1:8053"])
      .meta({ env: "DCNET_DNS_LISTEN" })
      .describe("UDP and TCP listen addresses, `ip:port` or `[ip6]:port` (flag --dns-listen, repeatable; env DCNET_DNS_LISTEN, comma separated). dcos-net's shipped default port is 8053; in production bind port 53 on a dedicated address."),
    ttl: z.number().int().min(0).max(86_400).default(5).describe("TTL (s) of records in the dcnet zones (dcos-dns: 5)."),
    negativeTtl: z.number().int().min(0).max(86_400).default(1).describe("SOA minimum of the dcnet zones: how long (s) resolvers may cache NXDOMAIN/NODATA (dcos-dns: 1)."),
    rotation: z.enum(["round_robin", "random", "off"]).default("round_robin").describe("Order of answers: rotated by message id (dcos-dns default), shuffled, or as stored."),
    maxInflight: z.number().int().positive().default(1024).describe("Queries being worked on at once (forwarded ones included); more are answered SERVFAIL, so memory stays bounded (dcos-dns handler_limit)."),
    maxUdpSize: z.number().int().min(512).max(65_535).default(4096).describe("Largest UDP answer sent, whatever EDNS0 size a client asks for."),
    answerCache: z.boolean().default(true).describe("Keep the encoded answers to repeated questions about the dcnet zones (emptied at every zone change); false encodes every answer (bench/dns-qps prints both)."),
    traceEvery: z.number().int().nonnegative().default(100).describe("Trace one query in this many (a span with zone, rcode, forwarded); 0: none. Spans are exported only when tracing is on."),
    udpEngine: z
      .enum(["auto", "batch", "dgram"])
      .default("auto")
      .describe("How UDP listeners do socket I/O: batch (native/udp-batch: up to 64 datagrams per recvmmsg/sendmmsg, one JS call per batch; Linux), dgram (node:dgram, one syscall and one JS call per datagram), or auto (batch when the addon is built, else dgram with a warning)."),
    tcpIdleMs: z.number().int().positive().default(10_000).describe("A TCP client idle (or sending a partial message) this long (ms) is disconnected."),
    tcpMaxConnections: z.number().int().positive().default(256).describe("Open TCP connections per listener; further connections are closed at once."),
    upstreams: z
      .array(resolverAddress)
      .default([])
      .meta({ env: "DCNET_DNS_UPSTREAMS" })
      .describe("Resolvers for names outside the dcnet zones, `ip` or `ip:port` (dcos-net upstream_resolvers). Empty: such names are REFUSED (env DCNET_DNS_UPSTREAMS, comma separated)."),
    forwardZones: z
      .record(z.string().regex(/^[A-Za-z0-9_.-]+$/, "a DNS zone name"), z.array(resolverAddress).min(1))
      .default({})
      .describe('Per-zone resolvers, e.g. {"corp.example": ["10.0.0.2"]}; the longest matching zone wins (dcos-net forward_zones).'),
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
    zones: customZonesSchema
      .default({})
      .describe('Custom CNAME zones, dcos-net style: {"component.thisdcos.directory": [{"type": "cname", "name": "registry", "value": "master.dcos.thisdcos.directory"}]}.'),
    resolver: z
      .strictObject({
        enabled: z
          .boolean()
          .default(false)
          .meta({ env: "DCNET_DNS_RESOLVER_ENABLED" })
          .describe("Serve DNS on fixed resolver addresses on this host (dcos-net's `spartan` interface), UDP and TCP, for the host and every container whatever its networking mode: the addresses go on `lo` and are removed when the node stops (env DCNET_DNS_RESOLVER_ENABLED). Off by default: it changes the host's addresses; needs root."),
        addresses: z
          .array(z.union([z.ipv4(), z.ipv6()]))
          .min(1)
          .default(["198.51.100.1", "198.51.100.2", "198.51.100.3"])
          .describe("The resolver addresses (dcos-net: 198.51.100.1–3, TEST-NET-2, never routed). glibc uses the first 3 in resolv.conf."),
        port: z.number().int().min(1).max(65_535).default(53).describe("Port of the resolver addresses (53: resolv.conf and container runtimes cannot name another)."),
      })
      .prefault({}),
    manageResolvConf: z
      .boolean()
      .default(false)
      .meta({ env: "DCNET_DNS_MANAGE_RESOLV_CONF" })
      .describe("Point the host at the resolver addresses: the host's resolv.conf is kept as a backup and replaced while the node runs, put back when it stops; its nameservers become the upstreams when dns.upstreams is empty, so external names keep resolving (env DCNET_DNS_MANAGE_RESOLV_CONF). Needs dns.resolver.enabled."),
    resolvConf: z
      .strictObject({
        path: z.string().startsWith("/").default("/etc/resolv.conf").describe("The resolv.conf dcnet manages. For a network namespace: /etc/netns/<ns>/resolv.conf, which `ip netns exec` binds over /etc/resolv.conf (then set backupPath outside that folder: it binds every file there)."),
        backupPath: z.string().startsWith("/").optional().describe("Where the host's own file is kept while dcnet runs; default `<path>.dcnet-backup`."),
        search: z
          .array(z.string().regex(/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*\.?$/, "a domain name"))
          .max(6)
          .default([])
          .describe("Search domains written first (e.g. marathon.l4lb.thisdcos.directory); also the CNI result's search list."),
        keepSearch: z.boolean().default(true).describe("Keep the host's own search domains after the configured ones."),
        options: z
          .array(z.string().regex(/^[a-z0-9-]+(:\d+)?$/, "a resolv.conf option such as ndots:2 or timeout:1"))
          .default([])
          .describe("resolv.conf options (e.g. timeout:1, attempts:2); also the CNI result's options."),
      })
      .prefault({}),
    mesos: z
      .strictObject({
        mode: z.enum(["native", "forward", "off"]).default("native").describe("`.mesos`: served from the Mesos master state by dcnet itself (native), forwarded to Mesos-DNS servers (forward), or not answered (off)."),
        domain: z
          .string()
          .regex(/^[a-z0-9-]+(\.[a-z0-9-]+)*$/, "a lower-case domain")
          .default("mesos")
          .describe("Mesos-DNS domain."),
        resolvers: z.array(resolverAddress).default([]).describe("Mesos-DNS servers for mode forward (dcos-net mesos_resolvers, port 61053 in DC/OS)."),
        ttl: z.number().int().min(0).max(86_400).default(60).describe("TTL (s) of `.mesos` records (Mesos-DNS TTL)."),
        mirror: z.boolean().default(true).describe("Also serve the `.mesos` names under mesos.thisdcos.directory (TTL = dns.ttl), as dcos-dns does."),
        compat: z.boolean().default(false).describe("Reproduce Mesos-DNS's non-RFC answers in `.mesos` (no OPT, SRV NOERROR without SOA, SOA/NS in authority)."),
        refreshMs: z
          .number()
          .int()
          .positive()
          .default(30_000)
          .describe("How often (ms) the node following the leading master re-reads /master/state for the `.mesos` records regardless of events: the safety net for changes the operator stream does not announce as task events (Mesos-DNS: 60 s; dcos-net polled Mesos-DNS every 30 s)."),
        changeDelayMs: z
          .number()
          .int()
          .nonnegative()
          .default(100)
          .describe("After a task event on the leading master's operator stream, /master/state is re-read this long (ms) later, so a burst of events costs one read: `.mesos` follows task changes within about this delay."),
        ipSources: z
          .array(z.enum(["netinfo", "mesos", "docker", "host"]))
          .min(1)
          .default(["netinfo", "mesos", "host"])
          .describe("Mesos-DNS IPSources, in order."),
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
    const addrs = new Set<string>();
    dns.resolver.addresses.forEach((a, i) => {
      if (addrs.has(a)) ctx.addIssue({ code: "custom", path: ["resolver", "addresses", i], message: `${a} is listed twice` });
      addrs.add(a);
    });
    if (dns.manageResolvConf && !dns.resolver.enabled) ctx.addIssue({ code: "custom", path: ["manageResolvConf"], message: "needs dns.resolver.enabled: the host's resolv.conf points at the resolver addresses" });
    if (dns.manageResolvConf && dns.resolver.port !== 53) ctx.addIssue({ code: "custom", path: ["resolver", "port"], message: "must be 53 with dns.manageResolvConf: resolv.conf cannot name a port" });
    // A resolver that is this node itself would forward every unknown name back to us, forever.
    const own = new Set([...dns.listen, ...resolverListen(dns)].map(withPort53));
    const resolvers: Array<[string[], string[]]> = [
      [["upstreams"], dns.upstreams],
      ...Object.entries(dns.forwardZones).map(([zone, list]): [string[], string[]] => [["forwardZones", zone], list]),
      [["mesos", "resolvers"], dns.mesos.resolvers],
    ];
    for (const [where, list] of resolvers) {
      list.forEach((r, i) => {
        if (own.has(withPort53(r))) ctx.addIssue({ code: "custom", path: [...where, i], message: `${r} is this node's own DNS listener (a forwarding loop)` });
      });
    }
  })
  .prefault({});

/** The listen addresses of the resolver addresses (`ip:port`, `[ip6]:port`); none when off. */
export function resolverListen(dns: { readonly resolver: { readonly enabled: boolean; readonly addresses: readonly string[]; readonly port: number } }): string[] {
  if (!dns.resolver.enabled) return [];
  return dns.resolver.addresses.map((a) => (a.includes(":") ? `[${a}]:${dns.resolver.port}` : `${a}:${dns.resolver.port}`));
}

/** `ip` → `ip:53`, `[v6]` → `[v6]:53`, a bare IPv6 → `[v6]:53`; others unchanged. */
function withPort53(addr: string): string {
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(addr)) return `${addr}:53`;
  if (/^\[[^\]]+\]$/.test(addr)) return `${addr}:53`;
  if (/^[0-9A-Fa-f:]+$/.test(addr) && addr.includes(":") && !/^\d/.test(addr.split(":").pop() ?? "")) return `[${addr}]:53`;
  return addr;
}

declare module "../../config/index.js" {
  interface ConfigSections {
    dns: z.output<typeof dnsConfigSection>;
  }
}
