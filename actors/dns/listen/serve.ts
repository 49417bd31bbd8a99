// The query path shared by the UDP and TCP listeners: answer cache → parse → our zones → forwarder.
// Callback style (not a Promise per query) so the answers from our own zones, nearly all traffic,
// are produced synchronously within the socket's message event.
import { SpanKind, type Tracer } from "@opentelemetry/api";
import type { Logger } from "pino";
import { answerQuery, errorResponse, MAX_VARIANTS, parseQuery, renderVariants, type DnsTransport, type ResponseCache, type ParsedQuery } from "../wire/index.js";
import type { ForwardRequest, ForwardResult } from "../forward/index.js";
import type { ZoneBoard } from "../board.js";
import type { DnsMetrics } from "../metrics.js";

interface QueryPathOptions {
  readonly rotation: "round_robin" | "random" | "off";
  readonly maxUdpSize: number;
  readonly maxInflight: number;
  /** Trace one query in this many (0: none). */
  readonly traceEvery: number;
  /** RA in the answers made here: this node forwards some names (README "RA"). */
  readonly recursionAvailable: boolean;
}

interface QueryPathDeps {
  readonly board: ZoneBoard;
  readonly cache: ResponseCache;
  readonly metrics: DnsMetrics;
  readonly logger: Logger;
  readonly tracer?: Tracer;
  /** Reaches the forwarder actor; rejects when it is down or too slow. */
  readonly forward: (req: ForwardRequest) => Promise<ForwardResult>;
  readonly options: QueryPathOptions;
}

export class QueryPath {
  private inflight = 0;
  private seen = 0;
  private logged = 0;

  /** Made once: the answer options of every query carry it. */
  private readonly ra: { readonly recursionAvailable: boolean };

  constructor(private readonly deps: QueryPathDeps) {
    this.ra = { recursionAvailable: deps.options.recursionAvailable };
  }

  /**
   * Answers one DNS message; `send` is called at most once (never for a dropped packet). A listener
   * that lends `buf` and `peer` only for the duration of the call (the batched UDP socket reuses both
   * for the next batch) passes `keep`, which makes a lasting peer; the message is then copied too
   * before a query waits for the forwarder.
   */
  handle<P>(buf: Buffer, transport: DnsTransport, peer: P, send: (reply: Buffer, peer: P) => void, keep?: (peer: P) => P): void {
    const start = performance.now();
    const { board, cache, metrics } = this.deps;
    const zoneSet = board.current;
    const hit = cache.get(buf, zoneSet.generation, transport);
    if (hit) {
      send(hit.reply, peer);
      metrics.query(transport, hit.type, hit.rcode, hit.zone, start);
      return;
    }
    const parsed = parseQuery(buf);
    const ra = this.ra;
    if (!parsed.ok) {
      // An EDNS version we do not speak is a well-formed query with a defined answer (RFC 6891
      // §6.1.3): counted on its own, never logged as malformed.
      if (parsed.rcode === "BADVERS") {
        metrics.badVersion.inc({ transport });
        const reply = errorResponse(buf, parsed, ra);
        if (reply) send(reply, peer);
        return;
      }
      metrics.malformed.inc({ transport, reason: parsed.rcode ?? (parsed.formerr ? "FORMERR" : "dropped") });
      if (this.logged++ < 20 || this.logged % 10_000 === 0) this.deps.logger.warn({ transport, reason: parsed.reason, count: this.logged }, "malformed DNS message");
      const reply = errorResponse(buf, parsed, ra);
      if (reply) send(reply, peer);
      return;
    }
    const q = parsed.query;
    const traced = this.deps.tracer && this.deps.options.traceEvery > 0 && this.seen++ % this.deps.options.traceEvery === 0;
    const answered = answerQuery(zoneSet, q, { rotation: this.deps.options.rotation, ...ra });
    if (answered.kind === "answer") {
      let variants: Buffer[];
      // More orders than the cache keeps (an RRset of more than 16 records, or sets whose sizes have a
      // large common multiple): not cached, each query answered in its own order (rotated by its id,
      // or shuffled), so every record comes first in turn (issue 16: rotate all).
      const uncached = answered.variants > MAX_VARIANTS && this.deps.options.rotation !== "off";
      try {
        // Every rotation of the answer is rendered once, so cache hits rotate too (by message id).
        variants = renderVariants(zoneSet, q, answered, { rotation: this.deps.options.rotation, transport, maxUdp: this.deps.options.maxUdpSize, ...ra, ...(uncached ? { maxVariants: 1 } : {}) });
      } catch (err) {
        // Only bad zone data (never client input) gets here: answer SERVFAIL, keep serving.
        if (this.logged++ < 20) this.deps.logger.error({ err: (err as Error).message, name: q.question.name }, "cannot encode an answer from the zones");
        const reply = errorResponse(q, "SERVFAIL", ra);
        if (reply) send(reply, peer);
        metrics.query(transport, q.question.type, "SERVFAIL", answered.zone, start);
        return;
      }
      const meta = { type: q.question.type, rcode: answered.rcode, zone: answered.zone };
      if (!uncached) cache.put(buf, zoneSet.generation, transport, variants, meta);
      const reply = variants.length > 1 ? pick(variants, q.id, this.deps.options.rotation) : (variants[0] as Buffer);
      send(reply, peer);
      metrics.query(transport, q.question.type, answered.rcode, answered.zone, start);
      if (traced) this.span(q, transport, { zone: answered.zone, rcode: answered.rcode, forwarded: false }, start);
      return;
    }
    const later = keep ? keep(peer) : peer;
    this.forward(keep ? Buffer.from(buf) : buf, q, transport, (reply) => send(reply, later), start, traced === true);
  }

  /** A UDP datagram longer than the listener's receive slot: cut by the kernel, so never answered. */
  oversized(transport: DnsTransport, bytes: number): void {
    this.deps.metrics.malformed.inc({ transport, reason: "oversized" });
    if (this.logged++ < 20 || this.logged % 10_000 === 0) this.deps.logger.warn({ transport, bytes, count: this.logged }, "malformed DNS message: longer than the receive buffer");
  }

  private forward(buf: Buffer, q: ParsedQuery, transport: DnsTransport, send: (reply: Buffer) => void, start: number, traced: boolean): void {
    const { metrics } = this.deps;
    if (this.inflight >= this.deps.options.maxInflight) {
      metrics.overload.inc({ transport });
      const reply = errorResponse(q, "SERVFAIL", this.ra);
      if (reply) send(reply);
      metrics.query(transport, q.question.type, "SERVFAIL", "overload", start);
      return;
    }
    this.inflight++;
    this.deps
      .forward({ query: buf, name: q.question.name, type: q.question.type, transport })
      .then(
        (out) => {
          send(out.reply);
          metrics.query(transport, q.question.type, out.rcode, `forward:${out.zone}`, start);
          if (traced) this.span(q, transport, { zone: out.zone, rcode: out.rcode, forwarded: true, cached: out.cached, ...(out.upstream ? { upstream: out.upstream } : {}) }, start);
        },
        (err: Error) => {
          const reply = errorResponse(q, "SERVFAIL", this.ra);
          if (reply) send(reply);
          metrics.query(transport, q.question.type, "SERVFAIL", "forward:unavailable", start);
          if (traced) this.span(q, transport, { zone: "", rcode: "SERVFAIL", forwarded: true, error: err.message }, start);
        },
      )
      .finally(() => this.inflight--);
  }

  /** A span per sampled query, back-dated to when the query arrived. */
  private span(q: ParsedQuery, transport: DnsTransport, attrs: Record<string, string | number | boolean>, start: number): void {
    const tracer = this.deps.tracer;
    if (!tracer) return;
    const startMs = Date.now() - (performance.now() - start);
    const span = tracer.startSpan(`dns ${q.question.type}`, {
      kind: SpanKind.SERVER,
      startTime: startMs,
      attributes: { "dns.question.name": q.question.name, "dns.question.type": q.question.type, "network.transport": transport, ...Object.fromEntries(Object.entries(attrs).map(([k, v]) => [`dns.${k}`, v])) },
    });
    span.end();
  }
}

/** The variant a fresh answer would have had; the cache picks the same way for later hits. */
function pick(variants: readonly Buffer[], id: number, rotation: QueryPathOptions["rotation"]): Buffer {
  const i = rotation === "random" ? Math.floor(Math.random() * variants.length) : id % variants.length;
  const v = Buffer.from(variants[i] as Buffer);
  v.writeUInt16BE(id, 0);
  return v;
}
