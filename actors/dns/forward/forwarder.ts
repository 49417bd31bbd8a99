// The forwarder: names dcnet does not serve itself go to upstream resolvers.
//
// Routing follows dcos-net/Mesos-DNS: the longest forward zone that is a label-suffix of the name
// wins (`corp.example` matches `a.corp.example`, not `notcorp.example`), else the default
// upstreams; nothing configured for the name -> REFUSED (Mesos-DNS with ExternalOn=false).
//
// Racing follows dcos-net: ask the upstreams chosen by takeUpstreams (select.ts) in parallel and
// relay the first reply verbatim. Racing two upstreams instead of asking one and failing over
// means one dead or slow upstream costs nothing in latency, at the price of twice the upstream
// traffic. Differences from dcos-net, each on purpose:
// - A SERVFAIL reply does not win while another attempt is still running (the other upstream may
//   well have the answer); it is kept and relayed only if nothing better arrives.
// - Losing attempts are not cancelled: they run to their own timeout so their failures are still
//   counted and health-marked (dcos-net's workers do the same), only their replies are dropped.
// - When every chosen upstream has failed and queryTimeoutMs is not yet spent, the next choice is
//   made among the upstreams not tried yet (only possible with 3 or more upstreams), so the
//   overall timeout buys something beyond one round of per-upstream timeouts.
// - Answers are cached (cache.ts) and unhealthy upstreams are skipped while probed (health.ts).
//
// Failure counts (the select.ts buckets) decay by halving every `failureHalfLifeMs` (default
// 60 s) rather than being cumulative as in dcos-net: with a cumulative counter an upstream that
// had one bad hour stays at the back of the queue forever, even after it became the best one.
// Halving keeps the ranking between persistently failing and mostly good upstreams while letting
// an old burst fade within minutes.
import { randomInt } from "node:crypto";
import { performance } from "node:perf_hooks";
import dnsPacket from "dns-packet";
import { HEADER_LEN, RCODE, rcodeName } from "../wire/codes.js";
import type { DnsTransport, ErrorRcode } from "../wire/index.js";
import { ForwardCache, type ForwardCacheOptions } from "./cache.js";
import { HealthChecker, DEFAULT_PROBE_INTERVAL_MS } from "./health.js";
import { errorReply, rcodeOf, readHeader, udpLimit } from "./packet.js";
import { takeUpstreams, type Candidate, type Random } from "./select.js";
import { ExchangeError, ForwardTransport, type TransportStats } from "./transport.js";
import { parseUpstreams, type Upstream } from "./upstream.js";

export type ForwardEvent =
  | { type: "upstream-failure"; upstream: string; transport: DnsTransport; zone: string; reason: "timeout" | "error" | "servfail" }
  | { type: "upstream-reply"; upstream: string; transport: DnsTransport; zone: string; seconds: number; rcode: string }
  | { type: "cache"; hit: boolean }
  | { type: "health"; upstream: string; healthy: boolean };

export interface ForwarderOptions {
  /** Default upstreams ("ip", "ip:port", "[v6]:port"); empty = only forwardZones are forwarded. */
  upstreams: string[];
  /** Zone (e.g. "corp.example", "mesos") -> its upstreams; longest label-suffix match wins. */
  forwardZones?: Record<string, string[]>;
  /** Timeout of one attempt at one upstream. Default 2000. */
  upstreamTimeoutMs?: number;
  /** Timeout of the whole query, after which the client gets SERVFAIL. Default 5000. */
  queryTimeoutMs?: number;
  cache?: Omit<ForwardCacheOptions, "now">;
  /** Probe interval of unhealthy upstreams. Default 500. */
  probeIntervalMs?: number;
  /** Failure counts halve every this many ms. Default 60000. */
  failureHalfLifeMs?: number;
  /** Shared UDP sockets per address family. Default 4. */
  udpPoolSize?: number;
  /** [0,1) source for the upstream choice; injectable for tests. */
  random?: Random;
  /** Milliseconds clock for the cache and the failure decay; injectable for tests. */
  now?: () => number;
  /** Observability hook (metrics, logs); exceptions thrown by it are swallowed. */
  onEvent?: (ev: ForwardEvent) => void;
}

/** A query the listeners could not answer from the zones: the one request type from the query path to the forwarder. */
export interface ForwardRequest {
  /** The client's raw query (no TCP length prefix). */
  readonly query: Buffer;
  /** Query name as parsed by the wire layer, used for routing. */
  readonly name: string;
  /** Query type as parsed by the wire layer (informational). */
  readonly type: string;
  /** How the client asked; the upstream is asked the same way. */
  readonly transport: DnsTransport;
}

export interface ForwardResult {
  /** Bytes to send to the client: the upstream's reply verbatim (id = the client's), a patched cache copy, or our own error reply. */
  readonly reply: Buffer;
  readonly rcode: string;
  readonly cached: boolean;
  /** Key ("ip:port") of the upstream whose reply this is; absent for cache hits and our own replies. */
  readonly upstream?: string;
  /** The forward zone matched, or "." for the default upstreams. */
  readonly zone: string;
}

interface UpstreamStats {
  upstream: string;
  healthy: boolean;
  /** Decayed failure count used for ranking. */
  failures: number;
}

interface ForwarderStats {
  upstreams: UpstreamStats[];
  cache: { size: number; maxEntries: number };
  transport: TransportStats;
}

interface Route {
  zone: string;
  upstreams: readonly Upstream[];
}

interface FailureCount {
  count: number;
  since: number;
}

type Attempt =
  | { kind: "reply"; reply: Buffer; upstream: Upstream }
  | { kind: "servfail"; reply: Buffer; upstream: Upstream }
  | { kind: "failed" };

const FORWARDER_DEFAULTS = {
  upstreamTimeoutMs: 2000,
  queryTimeoutMs: 5000,
  probeIntervalMs: DEFAULT_PROBE_INTERVAL_MS,
  failureHalfLifeMs: 60_000,
} as const;

/** Lower-case, no trailing dot; "" is the root. */
function normalizeName(name: string): string {
  const n = name.trim().toLowerCase();
  return n.endsWith(".") ? n.slice(0, -1) : n;
}

function positive(name: string, value: number | undefined, fallback: number): number {
  const v = value ?? fallback;
  if (!Number.isFinite(v) || v <= 0) throw new RangeError(`${name} must be a positive number of milliseconds, got ${v}`);
  return v;
}

/** `. IN NS` with RD, as CoreDNS probes; the transport replaces the id. */
function probeQuery(): Buffer {
  return dnsPacket.encode({ type: "query", id: randomInt(0x10000), flags: dnsPacket.RECURSION_DESIRED, questions: [{ type: "NS", name: "." }] });
}

export class Forwarder {
  private readonly defaultUpstreams: readonly Upstream[];
  private readonly zones = new Map<string, readonly Upstream[]>();
  private readonly all = new Map<string, Upstream>();
  private readonly failures = new Map<string, FailureCount>();
  private readonly upstreamTimeoutMs: number;
  private readonly queryTimeoutMs: number;
  private readonly halfLifeMs: number;
  private readonly random: Random;
  private readonly now: () => number;
  private readonly onEvent: ((ev: ForwardEvent) => void) | undefined;
  private readonly cache: ForwardCache;
  private readonly transport: ForwardTransport;
  private readonly health: HealthChecker;
  private closed = false;
  /** Some name is forwarded (default upstreams or a forward zone with resolvers). */
  readonly recurses: boolean;

  /** Throws (UpstreamParseError, RangeError) on invalid configuration. */
  constructor(options: ForwarderOptions) {
    this.defaultUpstreams = this.intern(parseUpstreams(options.upstreams));
    for (const [zone, list] of Object.entries(options.forwardZones ?? {})) {
      const key = normalizeName(zone);
      if (this.zones.has(key)) throw new RangeError(`forward zone ${JSON.stringify(zone)} is listed twice`);
      this.zones.set(key, this.intern(parseUpstreams(list)));
    }
    this.recurses = this.defaultUpstreams.length > 0 || [...this.zones.values()].some((list) => list.length > 0);
    this.upstreamTimeoutMs = positive("upstreamTimeoutMs", options.upstreamTimeoutMs, FORWARDER_DEFAULTS.upstreamTimeoutMs);
    this.queryTimeoutMs = positive("queryTimeoutMs", options.queryTimeoutMs, FORWARDER_DEFAULTS.queryTimeoutMs);
    this.halfLifeMs = positive("failureHalfLifeMs", options.failureHalfLifeMs, FORWARDER_DEFAULTS.failureHalfLifeMs);
    const probeIntervalMs = positive("probeIntervalMs", options.probeIntervalMs, FORWARDER_DEFAULTS.probeIntervalMs);
    this.random = options.random ?? Math.random;
    this.now = options.now ?? Date.now;
    this.onEvent = options.onEvent;
    this.cache = new ForwardCache({ ...options.cache, now: this.now });
    this.transport = new ForwardTransport(options.udpPoolSize === undefined ? {} : { udpPoolSize: options.udpPoolSize });
    // A probe only has to show the upstream is reachable; 1 s is CoreDNS's probe read timeout.
    const probeTimeoutMs = Math.min(this.upstreamTimeoutMs, 1000);
    this.health = new HealthChecker({
      probeIntervalMs,
      probe: (u, signal) => this.transport.exchangeUdp(u, probeQuery(), probeTimeoutMs, signal),
      onChange: (u, healthy) => this.emit({ type: "health", upstream: u.key, healthy }),
    });
  }

  /** The route for a name: its forward zone and upstreams, or undefined when nothing is configured. */
  route(name: string): Route | undefined {
    const labels = normalizeName(name).split(".").filter((l) => l !== "");
    for (let i = 0; i <= labels.length; i++) {
      const suffix = labels.slice(i).join(".");
      const upstreams = this.zones.get(suffix);
      if (upstreams !== undefined) return upstreams.length > 0 ? { zone: suffix === "" ? "." : suffix, upstreams } : undefined;
    }
    return this.defaultUpstreams.length > 0 ? { zone: ".", upstreams: this.defaultUpstreams } : undefined;
  }

  /** Forwards one client query. Never rejects: failures become SERVFAIL / REFUSED / FORMERR replies. */
  async forward(req: ForwardRequest): Promise<ForwardResult> {
    const { query } = req;
    if (query.length < HEADER_LEN) return this.own(query, "FORMERR", ".", this.recurses);
    const route = this.route(req.name);
    // No resolver for this name: we will not recurse for it, so RA is clear (README "RA").
    if (route === undefined) return this.own(query, "REFUSED", this.zoneOf(req.name), false);
    if (this.closed) return this.own(query, "SERVFAIL", route.zone, true);

    if (this.cache.enabled) {
      const hit = this.cache.get(query, req.transport === "udp" ? udpLimit(query) : undefined);
      this.emit({ type: "cache", hit: hit !== undefined });
      if (hit !== undefined) return { reply: hit, rcode: rcodeName(rcodeOf(readHeader(hit))), cached: true, zone: route.zone };
    }

    const won = await this.race(route, req);
    if (won === undefined) return this.own(query, "SERVFAIL", route.zone, true);
    if (won.kind === "reply") this.cache.set(query, won.reply);
    return { reply: won.reply, rcode: rcodeName(rcodeOf(readHeader(won.reply))), cached: false, upstream: won.upstream.key, zone: route.zone };
  }

  stats(): ForwarderStats {
    return {
      upstreams: [...this.all.values()].map((u) => ({ upstream: u.key, healthy: this.health.isHealthy(u.key), failures: this.failureCount(u.key) })),
      cache: { size: this.cache.size, maxEntries: this.cache.capacity },
      transport: this.transport.stats(),
    };
  }

  /** Stops probes, fails in-flight exchanges, closes sockets. Later forwards get SERVFAIL. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.health.stop();
    this.transport.close();
  }

  private intern(list: Upstream[]): Upstream[] {
    // One Upstream object per key, so failure counts and health are shared across zones.
    return list.map((u) => {
      const known = this.all.get(u.key);
      if (known !== undefined) return known;
      this.all.set(u.key, u);
      return u;
    });
  }

  private zoneOf(name: string): string {
    const labels = normalizeName(name).split(".").filter((l) => l !== "");
    for (let i = 0; i <= labels.length; i++) {
      const suffix = labels.slice(i).join(".");
      if (this.zones.has(suffix)) return suffix === "" ? "." : suffix;
    }
    return ".";
  }

  private own(query: Buffer, rcode: ErrorRcode, zone: string, recursionAvailable: boolean): ForwardResult {
    return { reply: errorReply(query, rcode, recursionAvailable), rcode, cached: false, zone };
  }

  private race(route: Route, req: ForwardRequest): Promise<Extract<Attempt, { reply: Buffer }> | undefined> {
    return new Promise((resolve) => {
      const tried = new Set<string>();
      let inFlight = 0;
      let settled = false;
      let fallback: Extract<Attempt, { kind: "servfail" }> | undefined;
      const finish = (result: Extract<Attempt, { reply: Buffer }> | undefined): void => {
        if (settled) return;
        settled = true;
        clearTimeout(deadline);
        resolve(result);
      };
      const deadline = setTimeout(() => finish(fallback), this.queryTimeoutMs);
      const wave = (): void => {
        const candidates: Array<Candidate & { upstream: Upstream }> = route.upstreams
          .filter((u) => !tried.has(u.key))
          .map((u) => ({ key: u.key, upstream: u, failures: this.failureCount(u.key), healthy: this.health.isHealthy(u.key) }));
        const chosen = takeUpstreams(candidates, this.random);
        if (chosen.length === 0) {
          finish(fallback);
          return;
        }
        for (const { upstream } of chosen) {
          tried.add(upstream.key);
          inFlight += 1;
          void this.attempt(upstream, req, route.zone).then((outcome) => {
            inFlight -= 1;
            if (settled) return;
            if (outcome.kind === "reply") finish(outcome);
            else if (outcome.kind === "servfail") fallback ??= outcome;
            if (!settled && inFlight === 0) wave();
          });
        }
      };
      wave();
    });
  }

  private async attempt(upstream: Upstream, req: ForwardRequest, zone: string): Promise<Attempt> {
    const transport = req.transport;
    const started = performance.now();
    try {
      const reply =
        transport === "udp"
          ? await this.transport.exchangeUdp(upstream, req.query, this.upstreamTimeoutMs)
          : await this.transport.exchangeTcp(upstream, req.query, this.upstreamTimeoutMs);
      this.health.markAlive(upstream);
      const rcode = rcodeOf(readHeader(reply));
      this.emit({ type: "upstream-reply", upstream: upstream.key, transport, zone, seconds: (performance.now() - started) / 1000, rcode: rcodeName(rcode) });
      if (rcode === RCODE.SERVFAIL) {
        this.countFailure(upstream.key);
        this.emit({ type: "upstream-failure", upstream: upstream.key, transport, zone, reason: "servfail" });
        return { kind: "servfail", reply, upstream };
      }
      return { kind: "reply", reply, upstream };
    } catch (e) {
      // Aborted = we closed; not the upstream's fault.
      if (e instanceof ExchangeError && e.reason === "aborted") return { kind: "failed" };
      const reason = e instanceof ExchangeError && e.reason === "timeout" ? "timeout" : "error";
      this.countFailure(upstream.key);
      this.emit({ type: "upstream-failure", upstream: upstream.key, transport, zone, reason });
      this.health.markFailed(upstream);
      return { kind: "failed" };
    }
  }

  private decayed(key: string): FailureCount | undefined {
    const f = this.failures.get(key);
    if (f === undefined) return undefined;
    const now = this.now();
    const periods = Math.floor((now - f.since) / this.halfLifeMs);
    if (periods > 0) {
      f.count = periods >= 32 ? 0 : Math.floor(f.count / 2 ** periods);
      f.since += periods * this.halfLifeMs;
    }
    return f;
  }

  private failureCount(key: string): number {
    return this.decayed(key)?.count ?? 0;
  }

  private countFailure(key: string): void {
    const f = this.decayed(key);
    if (f === undefined) this.failures.set(key, { count: 1, since: this.now() });
    else f.count += 1;
  }

  private emit(ev: ForwardEvent): void {
    if (this.onEvent === undefined) return;
    try {
      this.onEvent(ev);
    } catch {
      // Metrics must never break forwarding.
    }
  }
}
