// The node's NATS connection: typed envelopes in and out, rejections counted, status pushed to listeners.
import { connect } from "@nats-io/transport-node";
import { createInbox, headers as natsHeaders, type Msg, type MsgHdrs, type NatsConnection, type Status, type TlsOptions } from "@nats-io/nats-core";
import { context, SpanKind, type Tracer } from "@opentelemetry/api";
import type { Logger } from "pino";
import { decode, encode, DEFAULT_MAX_BYTES } from "./codec.js";
import type { BodyOf } from "./envelope.js";
import { ConnectError, NoRespondersError, type BadReplyError, type ServiceError } from "./errors.js";
import type { TransportMetrics } from "./metrics.js";
import { RejectCounter } from "./rejects.js";
import { clusterServerCheck, type ServerIdentityCheck } from "./auth/server-identity.js";
import { classifyReply, isNoRespondersStatus, mapRequestError } from "./replies.js";
import { subjects, validateNodeId, type Subjects } from "./subjects.js";
import { injectContext, inSpan, messagingAttrs } from "./trace-headers.js";
import { connectionName, subscribeAdvisories, type ClientAdvisory } from "./advisories.js";
import { sharedDecodesOf, type SharedDecodes } from "./shared-decodes.js";
import { subscribeEnvelopes, type Handler, type SubscribeOptions, type TransportSubscription } from "./subscribe.js";
import type { ConnState, ConnStatus, DecodeResult, Envelope, KindDef, ServerSecurity, TransportOptions } from "./types.js";

const STILL_CONNECTING_MS = 10_000;
const STILL_CONNECTING = {
  tls: "no NATS server accepted the connection yet; still trying (a server that refuses this client's certificate looks the same: see its log)",
  plain: "no NATS server accepted the connection yet; still trying (a server that requires TLS client certificates looks the same: give this node its credential, nats.credentials)",
};

export interface RequestOptions {
  /** Default 5000. */
  readonly timeoutMs?: number;
  readonly headers?: MsgHdrs;
}

export interface RequestManyOptions {
  readonly timeoutMs: number;
  /** Stop as soon as this many replies (good or bad) have arrived. */
  readonly expected?: number;
  readonly headers?: MsgHdrs;
  /** Told about each reply that is not returned (BadReplyError, ServiceError without an accepted body). */
  readonly onFailure?: (err: BadReplyError | ServiceError) => void;
}

export type StatusListener = (status: ConnStatus) => void;

export class Transport {
  readonly nc: NatsConnection;
  readonly nodeId: string;
  readonly cluster: string;
  readonly subjects: Subjects;
  readonly rejects: RejectCounter;
  readonly #log: Logger;
  readonly #tracer: Tracer | undefined;
  readonly #metrics: TransportMetrics | undefined;
  readonly #maxBytes: number;
  readonly #inboxPrefix: string | undefined;
  readonly #listeners = new Set<StatusListener>();
  #status: ConnStatus;
  #watching: Promise<void> = Promise.resolve();
  /** Set when this transport rides on a connection it does not own (Transport.over). */
  #shared: { readonly subs: Set<TransportSubscription>; readonly decodes: SharedDecodes; stopWatching: () => void } | undefined;

  /** Connects (waiting for the first server to answer, forever) and starts following the connection status. */
  static async connect(opts: TransportOptions): Promise<Transport> {
    subjects(opts.cluster);
    validateNodeId(opts.nodeId);
    if (opts.servers.length === 0) throw new TypeError("TransportOptions.servers is empty");
    const wait = opts.reconnectWaitMs ?? 250;
    const log = opts.logger; // callers pass their subsystem logger (node: sub=transport)
    log.info({ servers: opts.servers }, "connecting to NATS");
    const firstTry = opts.connectTimeoutMs;
    let nc: NatsConnection;
    // A node waits for its servers forever, silently as far as nats.js goes: say so now and then, since
    // a server refusing our certificate (TLS 1.3 refuses it after the handshake) looks just the same.
    const waiting = firstTry === undefined ? setInterval(() => log.warn({ servers: opts.servers, tls: opts.tls !== undefined }, opts.tls ? STILL_CONNECTING.tls : STILL_CONNECTING.plain), STILL_CONNECTING_MS) : undefined;
    try {
      nc = await connect({
        servers: [...opts.servers],
        name: connectionName(opts.cluster, opts.nodeId),
        reconnectTimeWait: wait,
        reconnectJitter: wait,
        reconnectJitterTLS: wait,
        pingInterval: opts.pingIntervalMs ?? 5_000,
        maxPingOut: 3,
        ...(opts.tls === undefined ? {} : { tls: tlsOptions(opts.tls, opts.cluster) }),
        ...(opts.inboxPrefix === undefined ? {} : { inboxPrefix: opts.inboxPrefix }),
        // A node never gives up on the bus: it retries forever, with jitter so a restarted server is not
        // stampeded. Short-lived clients (CLI) make one pass over the servers instead: with unlimited
        // reconnects, nats.js would retry a refused client certificate for ever, past `timeout`.
        ...(firstTry === undefined ? { maxReconnectAttempts: -1, waitOnFirstConnect: true } : { maxReconnectAttempts: 1, waitOnFirstConnect: false, timeout: firstTry }),
      });
    } catch (err) {
      throw new ConnectError(opts.servers, { cause: err });
    } finally {
      clearInterval(waiting);
    }
    // Metrics only for a node: a CLI process passes no registry and so never loads prom-client.
    const metrics = opts.metrics ? (await import("./metrics.js")).transportMetrics(opts.metrics) : undefined;
    const t = new Transport(nc, opts, log, metrics);
    t.#watching = t.#watch();
    log.info({ server: t.#status.server }, "connected to NATS");
    return t;
  }

  /**
   * A transport for one more node identity on a connection someone else owns and closes: many node
   * instances in one test or bench process share one NATS connection, so the host's cost per
   * message is the instances' work, not one socket write per instance (testkit/gossip). close()
   * only unsubscribes what this transport subscribed. Never used by a node: a node owns its connection.
   */
  static async over(nc: NatsConnection, opts: Omit<TransportOptions, "servers">): Promise<Transport> {
    subjects(opts.cluster);
    validateNodeId(opts.nodeId);
    const metrics = opts.metrics ? (await import("./metrics.js")).transportMetrics(opts.metrics) : undefined;
    const t = new Transport(nc, { ...opts, servers: [] }, opts.logger, metrics);
    // nats.js's status iterator has stop() (its QueuedIterator), typed only as AsyncIterable.
    const statuses = nc.status() as AsyncIterable<Status> & { stop?: () => void };
    t.#shared = { subs: new Set(), decodes: sharedDecodesOf(nc), stopWatching: () => statuses.stop?.() };
    t.#watching = (async () => {
      for await (const s of statuses) t.#onNatsStatus(s);
    })();
    return t;
  }

  private constructor(nc: NatsConnection, opts: TransportOptions, log: Logger, metrics: TransportMetrics | undefined) {
    this.nc = nc;
    this.nodeId = opts.nodeId;
    this.cluster = opts.cluster;
    this.subjects = subjects(opts.cluster);
    this.#log = log;
    this.#tracer = opts.tracer;
    this.#metrics = metrics;
    this.#maxBytes = opts.maxMessageBytes ?? DEFAULT_MAX_BYTES;
    this.#inboxPrefix = opts.inboxPrefix;
    this.rejects = new RejectCounter({ ...(metrics ? { metrics } : {}), logger: log, logIntervalMs: opts.rejectLogIntervalMs ?? 10_000 });
    this.#status = { state: "connected", server: serverUrl(nc.getServer()), since: Date.now() };
    this.#metrics?.connected.set(1);
  }

  status(): ConnStatus {
    return this.#status;
  }

  /** What the server in use demands of clients, from its INFO (a node refuses to run where nothing is). */
  serverSecurity(): ServerSecurity {
    const info = this.nc.info;
    return { tlsRequired: info?.tls_required === true, clientCertRequired: info?.tls_verify === true, authRequired: info?.auth_required === true };
  }

  /** Calls `listener` on every state change (not with the current state: read status() for that). */
  onStatus(listener: StatusListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  publish<B>(subject: string, def: KindDef<B>, body: B, headers?: MsgHdrs): void {
    const send = (h: MsgHdrs | undefined): void => {
      try {
        this.nc.publish(subject, encode(def, this.nodeId, body), h === undefined ? {} : { headers: h });
      } catch (err) {
        throw mapRequestError(err, subject, 0);
      }
    };
    const tracer = this.#tracer;
    if (tracer === undefined) return send(headers);
    tracer.startActiveSpan(`${subject} publish`, { kind: SpanKind.PRODUCER, attributes: messagingAttrs(subject, "publish", def.kind, def.background) }, (span) => {
      try {
        send(injectContext(context.active(), headers ?? natsHeaders()));
      } finally {
        span.end();
      }
    });
  }

  /** Envelope from this node, for replies sent by other means (e.g. a micro service's msg.respond). */
  encode<B>(def: KindDef<B>, body: B): Uint8Array {
    return encode(def, this.nodeId, body);
  }

  /** decode() with this transport's size limit. The caller records failures in `rejects` (it knows the subject). */
  decode<D extends KindDef<unknown>>(bytes: Uint8Array, defs: readonly D[]): DecodeResult<BodyOf<D>> {
    return decode(bytes, defs, { maxBytes: this.#maxBytes });
  }

  /** Answers a request received by a subscription handler. Returns false when the message had no reply subject. */
  respond<B>(msg: Msg, def: KindDef<B>, body: B): boolean {
    return msg.respond(encode(def, this.nodeId, body));
  }

  subscribe<D extends KindDef<unknown>>(subject: string, defs: readonly D[], handler: Handler<BodyOf<D>>, opts: SubscribeOptions = {}): TransportSubscription {
    const sub = subscribeEnvelopes({ nc: this.nc, log: this.#log, rejects: this.rejects, tracer: this.#tracer, maxBytes: this.#maxBytes, ...(this.#shared === undefined ? {} : { shared: this.#shared.decodes }) }, subject, defs, handler, opts);
    const shared = this.#shared;
    if (shared === undefined) return sub;
    shared.subs.add(sub);
    return {
      ...sub,
      unsubscribe: () => {
        shared.subs.delete(sub);
        sub.unsubscribe();
      },
    };
  }

  /**
   * NATS connect/disconnect advisories about the nodes of this cluster (transport/advisories.ts).
   * Only where the server exports them into our account; elsewhere this subscription hears nothing.
   */
  onClientAdvisory(handler: (a: ClientAdvisory) => void): TransportSubscription {
    const sub = subscribeAdvisories(this.nc, this.rejects, this.cluster, handler);
    const shared = this.#shared;
    if (shared === undefined) return sub;
    shared.subs.add(sub);
    return {
      unsubscribe: () => {
        shared.subs.delete(sub);
        sub.unsubscribe();
      },
    };
  }

  /** One request, one reply. Throws TimeoutError, NoRespondersError, BadReplyError, ServiceError, TransportClosedError. */
  async request<B, D extends KindDef<unknown>>(subject: string, reqDef: KindDef<B>, body: B, resDefs: readonly D[], opts: RequestOptions = {}): Promise<Envelope<BodyOf<D>>> {
    const timeoutMs = opts.timeoutMs ?? 5_000;
    const run = async (h: MsgHdrs | undefined): Promise<Envelope<BodyOf<D>>> => {
      let msg: Msg;
      try {
        msg = await this.nc.request(subject, encode(reqDef, this.nodeId, body), h === undefined ? { timeout: timeoutMs } : { timeout: timeoutMs, headers: h });
      } catch (err) {
        throw mapRequestError(err, subject, timeoutMs);
      }
      const out = classifyReply(subject, msg, resDefs, this.rejects, { maxBytes: this.#maxBytes });
      if (!out.ok) throw out.error;
      return out.env;
    };
    const tracer = this.#tracer;
    if (tracer === undefined) return run(opts.headers);
    return inSpan(tracer, `${subject} request`, SpanKind.CLIENT, messagingAttrs(subject, "request", reqDef.kind, reqDef.background), context.active(), () =>
      run(injectContext(context.active(), opts.headers ?? natsHeaders())),
    );
  }

  /**
   * Scatter-gather: publishes once and collects the accepted replies until timeoutMs or `expected` replies
   * (accepted or not). Throws NoRespondersError when nothing subscribes, TransportClosedError when closed.
   */
  async requestMany<B, D extends KindDef<unknown>>(subject: string, reqDef: KindDef<B>, body: B, resDefs: readonly D[], opts: RequestManyOptions): Promise<Envelope<BodyOf<D>>[]> {
    const run = (h: MsgHdrs | undefined): Promise<Envelope<BodyOf<D>>[]> => this.#gather(subject, encode(reqDef, this.nodeId, body), resDefs, opts, h);
    const tracer = this.#tracer;
    if (tracer === undefined) return run(opts.headers);
    return inSpan(tracer, `${subject} request`, SpanKind.CLIENT, messagingAttrs(subject, "request", reqDef.kind, reqDef.background), context.active(), async (span) => {
      const replies = await run(injectContext(context.active(), opts.headers ?? natsHeaders()));
      span.setAttribute("dcnet.replies", replies.length);
      return replies;
    });
  }

  #gather<D extends KindDef<unknown>>(subject: string, data: Uint8Array, defs: readonly D[], opts: RequestManyOptions, h: MsgHdrs | undefined): Promise<Envelope<BodyOf<D>>[]> {
    const replies: Envelope<BodyOf<D>>[] = [];
    let failures = 0;
    // With credentials, the only inboxes this connection may hear are under its own prefix.
    const inbox = createInbox(this.#inboxPrefix);
    return new Promise((resolve, reject) => {
      let done = false;
      const finish = (err?: Error): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        sub.unsubscribe();
        if (err === undefined) resolve(replies);
        else reject(err);
      };
      const sub = this.nc.subscribe(inbox, {
        callback: (err, msg) => {
          if (err !== null) return finish(mapRequestError(err, subject, opts.timeoutMs));
          if (isNoRespondersStatus(msg)) return finish(replies.length + failures === 0 ? new NoRespondersError(subject) : undefined);
          const out = classifyReply(subject, msg, defs, this.rejects, { maxBytes: this.#maxBytes });
          if (out.ok) replies.push(out.env);
          else {
            failures += 1;
            this.#tell(opts.onFailure, out.error);
          }
          if (opts.expected !== undefined && replies.length + failures >= opts.expected) finish();
        },
      });
      const timer = setTimeout(() => finish(), opts.timeoutMs);
      try {
        this.nc.publish(subject, data, h === undefined ? { reply: inbox } : { reply: inbox, headers: h });
      } catch (err) {
        finish(mapRequestError(err, subject, opts.timeoutMs));
      }
    });
  }

  #tell<E>(listener: ((e: E) => void) | undefined, e: E): void {
    try {
      listener?.(e);
    } catch (err) {
      this.#log.error({ err }, "onFailure listener threw");
    }
  }

  /** Drains subscriptions and closes. Idempotent. */
  async close(): Promise<void> {
    const shared = this.#shared;
    if (shared !== undefined) {
      for (const sub of shared.subs) sub.unsubscribe();
      shared.subs.clear();
      shared.stopWatching();
      await this.#watching;
      this.#set("closed", undefined);
      return;
    }
    if (!this.nc.isClosed() && !this.nc.isDraining()) {
      try {
        await this.nc.drain();
      } catch (err) {
        this.#log.warn({ err }, "drain failed; closing");
        await this.nc.close().catch(() => undefined);
      }
    }
    await this.nc.closed();
    await this.#watching;
    this.#set("closed", undefined);
  }

  async #watch(): Promise<void> {
    for await (const s of this.nc.status()) this.#onNatsStatus(s);
  }

  #onNatsStatus(s: Status): void {
    switch (s.type) {
      case "disconnect":
        this.#metrics?.connected.set(0);
        this.#log.warn({ server: serverUrl(s.server) }, "disconnected from NATS");
        return this.#set("disconnected", undefined);
      case "reconnecting":
        return this.#set("reconnecting", undefined);
      case "reconnect":
        this.#metrics?.connected.set(1);
        this.#metrics?.reconnects.inc();
        this.#log.info({ server: serverUrl(this.nc.getServer()) }, "reconnected to NATS");
        return this.#set("connected", serverUrl(this.nc.getServer()));
      case "close":
        this.#metrics?.connected.set(0);
        return this.#set("closed", undefined);
      case "error":
        this.#log.warn({ err: s.error }, "NATS async error");
        return;
      case "ldm":
        this.#log.info({ server: serverUrl(s.server) }, "NATS server entering lame duck mode");
        return;
      case "slowConsumer":
        this.#log.warn({ subject: s.sub.getSubject(), pending: s.pending }, "slow consumer");
        return;
      default:
        return;
    }
  }

  #set(state: ConnState, server: string | undefined): void {
    if (this.#status.state === state && this.#status.server === server) return;
    this.#status = server === undefined ? { state, since: Date.now() } : { state, server, since: Date.now() };
    for (const listener of this.#listeners) {
      try {
        listener(this.#status);
      } catch (err) {
        this.#log.error({ err }, "status listener threw");
      }
    }
  }
}

/**
 * nats.js passes its TLS options through to Node's tls.connect; the server check is the cluster's
 * (auth/server-identity.ts), since nats.js does not tell Node which host it dialled.
 */
function tlsOptions(t: NonNullable<TransportOptions["tls"]>, cluster: string): TlsOptions {
  const options: TlsOptions & { checkServerIdentity: ServerIdentityCheck } = { ca: t.ca, cert: t.cert, key: t.key, checkServerIdentity: clusterServerCheck(cluster) };
  return options;
}

/** nats.js reports "host:port"; listeners and logs get a URL they can paste into a client. */
function serverUrl(listen: string): string | undefined {
  if (listen === "") return undefined;
  return listen.includes("://") ? listen : `nats://${listen}`;
}
