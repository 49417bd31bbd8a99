// /node/l4lb/allocator: the named-VIP address allocator client. The applier tells it which
// allocation names it needs (`want`: named VIPs with backends, per family); it claims every missing
// one in the cluster's JetStream KV (transport/kv-allocator.ts: CP, so every node gets the same
// address for a name, where dcos-net hashed per node and could disagree), follows every node's
// allocations through a KV watch and hands the whole map to its watchers (the applier, DNS). A name
// this node stopped wanting is released once it has stayed unwanted for `graceMs`.
//
// Nothing here blocks the mailbox on the KV: every claim, release, open and watch runs in the
// background and reports back with a message, so a KV that is slow or gone only leaves names pending
// (retried with backoff, one warning) and never crashes or stalls the actor, nor the node.
import { performance } from "node:perf_hooks";
import type { Logger } from "pino";
import type { Registry } from "prom-client";
import type { NatsConnection } from "@nats-io/nats-core";
import type { ActorContext, Behaviour, ReplyTo } from "../../supervisors/index.js";
import { AllocationExhaustedError, AllocationUnavailableError, KvAllocator } from "../../transport/index.js";
import type { AllocationEvent, AllocationWatch } from "../../transport/index.js";
import { counter, gauge } from "../../observability/metrics.js";
import { candidatesFor, parseAllocationName, type NamedRanges } from "./names/candidates.js";
import { parseNamedRange, type RangeConfig } from "./names/range.js";
import { WantBook } from "./names/want.js";

/** Every node's named-VIP addresses, as this node last read them. */
export interface AllocatorView {
  /** allocationName (`v4:mygroupmyapp.marathon`) → address, for every node's allocations. */
  readonly addresses: ReadonlyMap<string, string>;
  /** The KV's state has been read once: a name missing from `addresses` is really unallocated. */
  readonly ready: boolean;
}

export interface AllocatorStatus {
  readonly bucket: string;
  /** The KV bucket is open (false: not reached yet, or the first open failed and is being retried). */
  readonly available: boolean;
  readonly ready: boolean;
  /** Names wanted here that have an address. */
  readonly held: number;
  /** Names wanted here still waiting for one (queued, being claimed, or exhausted). */
  readonly pending: number;
  /** Of the pending: every address of their range is taken. */
  readonly exhausted: number;
  /** Names unwanted here, waiting out the grace period before their release. */
  readonly releasing: number;
  /** Allocations of every node in the view. */
  readonly allocated: number;
  /** Since this actor started: claims that got an address, addresses released, failed claims and releases. */
  readonly claims: number;
  readonly releases: number;
  readonly failures: number;
}

export type AllocatorMsg =
  /** The allocation names needed now (named VIPs with backends); replaces the previous set. */
  | { readonly type: "want"; readonly names: readonly string[] }
  /** The subscriber gets the view at once and after every change (at most once per macrotask). */
  | { readonly type: "watch"; readonly subscriber: (view: AllocatorView) => void; readonly reply: ReplyTo<number> }
  | { readonly type: "unwatch"; readonly id: number }
  | { readonly type: "status"; readonly reply: ReplyTo<AllocatorStatus> };

/** What the actor needs of the KV allocator (KvAllocator; a fake in unit tests). */
export interface AllocationStore {
  claim(name: string, candidates: Iterable<string>): Promise<string>;
  release(name: string): Promise<boolean>;
  watch(): Promise<AllocationWatch>;
}

/** Messages only the actor sends itself; `inc` tells this incarnation's from a previous one's. */
export type AllocatorInternalMsg =
  | { readonly type: "opened"; readonly inc: number; readonly store: AllocationStore }
  | { readonly type: "open-failed"; readonly inc: number; readonly err: unknown }
  | { readonly type: "watch-events"; readonly inc: number; readonly session: number; readonly events: readonly AllocationEvent[] }
  | { readonly type: "watch-ended"; readonly inc: number; readonly session: number; readonly err?: unknown }
  | { readonly type: "claimed"; readonly inc: number; readonly name: string; readonly value: string }
  | { readonly type: "claim-failed"; readonly inc: number; readonly name: string; readonly err: unknown }
  | { readonly type: "released"; readonly inc: number; readonly name: string; readonly freed: boolean }
  | { readonly type: "release-failed"; readonly inc: number; readonly name: string; readonly err: unknown }
  | { readonly type: "tick"; readonly inc: number }
  | { readonly type: "notify"; readonly inc: number };

export type AllocatorActorMsg = AllocatorMsg | AllocatorInternalMsg;

export interface AllocatorDeps {
  readonly logger: Logger;
  readonly metrics: Registry;
  /** The node's NATS connection (Transport.nc); undefined while there is none. */
  readonly connection: () => NatsConnection | undefined;
  readonly bucket: string;
  /** Stream replicas when this node creates the bucket: 3 in production. */
  readonly replicas: 1 | 3 | 5;
  /** How long a name stays unwanted before its address is released (config l4lb.releaseGraceMs). */
  readonly graceMs: number;
  /** config l4lb.namedV4 / namedV6; checked when the behaviour is built (InvalidNamedRangeError). */
  readonly ranges: { readonly v4: RangeConfig; readonly v6: RangeConfig };
  /** Per KV operation, ms. Default 2000. */
  readonly timeoutMs?: number;
  /** Claims and releases in flight at once. Default 16. */
  readonly concurrency?: number;
  /** First delay after the KV failed, doubling up to maxRetryMs. Defaults 250 and 30000 ms. */
  readonly retryMs?: number;
  readonly maxRetryMs?: number;
  /** Tests: the store to use instead of a KvAllocator opened on connection(). */
  readonly openStore?: () => Promise<AllocationStore>;
}

/** What the background tasks of one incarnation share with it: whether it has ended, and the watch to stop then. */
interface Life {
  closed: boolean;
  watch: AllocationWatch | undefined;
}

interface AllocatorState {
  readonly inc: number;
  readonly life: Life;
  store: AllocationStore | undefined;
  opening: boolean;
  readonly book: WantBook;
  /** The view: every node's allocations. */
  addresses: Map<string, string>;
  ready: boolean;
  /** The current watch session: its number, whether it runs, its initial state while it is read. */
  session: number;
  watching: boolean;
  watchStartedAt: number;
  /** The first watch has neither read the KV's state nor failed yet. */
  firstRead: boolean;
  staging: Map<string, string> | undefined;
  /** Wanted names without an address, waiting for a claim, in the order they came. */
  readonly queue: Set<string>;
  readonly claiming: Set<string>;
  readonly releasing: Set<string>;
  /** Wanted names whose whole range was taken at their last claim; retried when an address is freed. */
  readonly exhausted: Set<string>;
  exhaustedRetryAt: number;
  /** Wanted names the KV refuses outright (too long): not retried while they stay wanted. */
  readonly invalid: Set<string>;
  /** KV back-off: no new KV work before this (performance.now() ms). */
  retryAt: number;
  failuresInRow: number;
  /** Since when the KV has been failing (performance.now()), while it is. */
  downSince: number | undefined;
  readonly counts: { claims: number; releases: number; failures: number };
  readonly watchers: Map<number, (view: AllocatorView) => void>;
  nextWatchId: number;
  notifyPending: boolean;
  readonly stopTimer: () => void;
}

const DEFAULT_CONCURRENCY = 16;
/** An exhausted name is tried again at least this often, even when no release was seen. */
const EXHAUSTED_RETRY_MS = 60_000;

let incarnations = 0;

export function allocatorBehaviour(deps: AllocatorDeps): Behaviour<AllocatorState, AllocatorActorMsg> {
  const log = deps.logger;
  const ranges: NamedRanges = { v4: parseNamedRange(deps.ranges.v4, "ip"), v6: parseNamedRange(deps.ranges.v6, "ip6") };
  const timeoutMs = deps.timeoutMs ?? 2_000;
  const concurrency = deps.concurrency ?? DEFAULT_CONCURRENCY;
  const retryMs = deps.retryMs ?? 250;
  const maxRetryMs = deps.maxRetryMs ?? 30_000;
  // Releases fall due at most a tick late; a tick also drives retries.
  const tickMs = Math.max(20, Math.min(1_000, Math.floor(deps.graceMs / 10), retryMs));
  const claimsTotal = counter(deps.metrics, "dcnet_l4lb_named_vip_claims_total", "Named-VIP address claims by outcome (claimed: got an address; exhausted: every address of the range is taken; unavailable: the KV did not answer; invalid: the KV refused the name)", ["outcome"]);
  const releasesTotal = counter(deps.metrics, "dcnet_l4lb_named_vip_releases_total", "Named-VIP addresses this node released after their VIP had no backends for the grace period");
  const namedVips = gauge(deps.metrics, "dcnet_l4lb_named_vips", "Named-VIP allocation names this node needs, by state (held: has its address; pending: waiting for one)", ["state"]);
  const open = openStore(deps, timeoutMs);

  const now = (): number => performance.now();
  const inflight = (s: AllocatorState): number => s.claiming.size + s.releasing.size;
  const tell = (s: AllocatorState, ctx: ActorContext<AllocatorActorMsg>, msg: AllocatorInternalMsg): void => {
    if (!s.life.closed) ctx.self.tell(msg);
  };

  const scheduleNotify = (s: AllocatorState, ctx: ActorContext<AllocatorActorMsg>): void => {
    if (s.notifyPending) return;
    s.notifyPending = true;
    setImmediate(() => tell(s, ctx, { type: "notify", inc: s.inc }));
  };

  const view = (s: AllocatorState): AllocatorView => ({ addresses: new Map(s.addresses), ready: s.ready });

  const deliver = (id: number, w: (v: AllocatorView) => void, v: AllocatorView): void => {
    try {
      w(v);
    } catch (err) {
      // A broken watcher is its owner's bug; the allocator and the other watchers carry on.
      log.error({ watcher: id, err: err instanceof Error ? err.message : String(err) }, "named-VIP view watcher threw");
    }
  };

  const counts = (s: AllocatorState): { held: number; pending: number } => {
    let held = 0;
    for (const n of s.book.wanted()) if (s.addresses.has(n)) held++;
    return { held, pending: s.book.wanted().size - held };
  };

  /** The KV failed: back off (once per round of in-flight work) and say so once per outage. */
  const unavailable = (s: AllocatorState, op: string, err: unknown): void => {
    const t = now();
    if (t >= s.retryAt) {
      s.failuresInRow++;
      const base = Math.min(maxRetryMs, retryMs * 2 ** Math.min(s.failuresInRow - 1, 20));
      s.retryAt = t + base * (1 + Math.random() / 2);
    }
    const fields = { bucket: deps.bucket, op, err: err instanceof Error ? err.message : String(err) };
    if (s.downSince === undefined) {
      s.downSince = t;
      log.warn(fields, "named-VIP address store unavailable: named VIPs without an address wait, retrying with backoff");
    } else log.debug(fields, "named-VIP address store still unavailable");
  };

  const available = (s: AllocatorState): void => {
    s.failuresInRow = 0;
    s.retryAt = 0;
    if (s.downSince !== undefined) {
      log.info({ bucket: deps.bucket, downMs: Math.round(now() - s.downSince) }, "named-VIP address store available again");
      s.downSince = undefined;
    }
  };

  const startOpen = (s: AllocatorState, ctx: ActorContext<AllocatorActorMsg>): void => {
    s.opening = true;
    open().then(
      (store) => tell(s, ctx, { type: "opened", inc: s.inc, store }),
      (err: unknown) => tell(s, ctx, { type: "open-failed", inc: s.inc, err }),
    );
  };

  const startWatch = (s: AllocatorState, ctx: ActorContext<AllocatorActorMsg>, store: AllocationStore): void => {
    const session = ++s.session;
    s.watching = true;
    s.staging = new Map();
    s.watchStartedAt = now();
    void (async () => {
      let w: AllocationWatch;
      try {
        w = await store.watch();
      } catch (err) {
        tell(s, ctx, { type: "watch-ended", inc: s.inc, session, err });
        return;
      }
      if (s.life.closed) return w.stop();
      s.life.watch = w;
      // A burst of KV changes (the initial state: one per allocation) is one message per macrotask.
      let batch: AllocationEvent[] = [];
      const flush = (): void => {
        const events = batch;
        batch = [];
        if (events.length > 0) tell(s, ctx, { type: "watch-events", inc: s.inc, session, events });
      };
      try {
        for await (const ev of w) {
          if (s.life.closed) break;
          if (batch.length === 0) setImmediate(flush);
          batch.push(ev);
        }
        flush();
        tell(s, ctx, { type: "watch-ended", inc: s.inc, session });
      } catch (err) {
        flush();
        tell(s, ctx, { type: "watch-ended", inc: s.inc, session, err });
      }
    })();
  };

  const startClaim = (s: AllocatorState, ctx: ActorContext<AllocatorActorMsg>, store: AllocationStore, name: string): void => {
    const cands = candidatesFor(name, ranges);
    if (!cands) return;
    s.claiming.add(name);
    store.claim(name, cands).then(
      (value) => tell(s, ctx, { type: "claimed", inc: s.inc, name, value }),
      (err: unknown) => tell(s, ctx, { type: "claim-failed", inc: s.inc, name, err }),
    );
  };

  const startRelease = (s: AllocatorState, ctx: ActorContext<AllocatorActorMsg>, store: AllocationStore, name: string): void => {
    s.releasing.add(name);
    store.release(name).then(
      (freed) => tell(s, ctx, { type: "released", inc: s.inc, name, freed }),
      (err: unknown) => tell(s, ctx, { type: "release-failed", inc: s.inc, name, err }),
    );
  };

  /** Starts what KV work there is room for: claims first (a VIP waits for them), then due releases. */
  const pump = (s: AllocatorState, ctx: ActorContext<AllocatorActorMsg>): void => {
    const store = s.store;
    const t = now();
    if (!store || t < s.retryAt) return;
    // While the first watch reads the KV's state (bounded by the op timeout), claims wait for it: it
    // says which names already have an address, one read instead of a lookup per name. Claims do not
    // need it, though: a node cut off from the KV majority cannot start a watch but still gets its
    // existing allocations back from claim (reads are answered by the local replica).
    const initialRead = s.firstRead && s.watching && t - s.watchStartedAt < timeoutMs;
    if (!initialRead) {
      for (const name of s.queue) {
        if (inflight(s) >= concurrency) break;
        s.queue.delete(name);
        if (s.addresses.has(name) || !s.book.isWanted(name) || s.claiming.has(name) || s.releasing.has(name)) continue;
        startClaim(s, ctx, store, name);
      }
    }
    // Why a node cut off from the rest cannot wrongly release a name others still use: its VIP table
    // comes from gossip, so while partitioned it may go stale and show a VIP without backends that
    // the others still serve. But a release is a compare-and-delete on the KV stream's leader, which
    // needs the NATS majority (CP): a node that cannot hear its peers cannot reach that majority
    // either, so its release fails (AllocationUnavailableError) and is retried with backoff until it
    // is back, and by then gossip has usually caught its table up: the name is wanted again, which
    // cancels the release. A node that does reach the majority is at most a propagation delay behind
    // the others, far less than the grace period. Should a name still be released while another node
    // wants it, that node's watch sees the release and claims it again at once: the same address, as
    // the probe starts at the same place and the address was just freed.
    for (const name of s.book.due(t, deps.graceMs)) {
      if (inflight(s) >= concurrency) break;
      if (s.claiming.has(name) || s.releasing.has(name)) continue;
      startRelease(s, ctx, store, name);
    }
  };

  /** A wanted name lost its address (released by another node, or a fresh read without it): claim it again. */
  const requeue = (s: AllocatorState, name: string): void => {
    if (s.book.isWanted(name) && !s.addresses.has(name) && !s.exhausted.has(name) && !s.invalid.has(name)) s.queue.add(name);
  };

  /** An address was freed somewhere: names that found their range full may fit now. */
  const retryExhausted = (s: AllocatorState): void => {
    for (const n of s.exhausted) s.queue.add(n);
    s.exhausted.clear();
    s.exhaustedRetryAt = now() + EXHAUSTED_RETRY_MS;
  };

  const setAddress = (s: AllocatorState, ctx: ActorContext<AllocatorActorMsg>, name: string, value: string | undefined): void => {
    if (s.addresses.get(name) === value) return;
    if (value === undefined) s.addresses.delete(name);
    else s.addresses.set(name, value);
    scheduleNotify(s, ctx);
  };

  const onWatchEvents = (s: AllocatorState, ctx: ActorContext<AllocatorActorMsg>, events: readonly AllocationEvent[]): void => {
    let freed = false;
    for (const ev of events) {
      if (ev.type === "ready") {
        if (s.staging) {
          // The fresh read replaces the view: allocations made or freed while no watch ran show up.
          const before = s.addresses;
          s.addresses = s.staging;
          s.staging = undefined;
          if (!sameMap(before, s.addresses)) scheduleNotify(s, ctx);
          for (const n of before.keys()) if (!s.addresses.has(n)) requeue(s, n);
        }
        s.firstRead = false;
        if (!s.ready) {
          s.ready = true;
          scheduleNotify(s, ctx);
          log.info({ bucket: deps.bucket, allocated: s.addresses.size }, "named-VIP addresses read");
        }
        // Names queued before the read that it shows held need no claim.
        for (const n of s.queue) if (s.addresses.has(n)) s.queue.delete(n);
        continue;
      }
      if (s.staging) {
        if (ev.value === undefined) s.staging.delete(ev.name);
        else s.staging.set(ev.name, ev.value);
        continue;
      }
      setAddress(s, ctx, ev.name, ev.value);
      if (ev.value === undefined) {
        freed = true;
        requeue(s, ev.name);
      } else {
        s.queue.delete(ev.name);
        s.exhausted.delete(ev.name);
      }
    }
    if (freed) retryExhausted(s);
  };

  return {
    init(ctx) {
      const inc = ++incarnations;
      const life: Life = { closed: false, watch: undefined };
      const timer = setInterval(() => {
        if (!life.closed) ctx.self.tell({ type: "tick", inc });
      }, tickMs);
      const s: AllocatorState = {
        inc,
        life,
        store: undefined,
        opening: false,
        book: new WantBook(),
        addresses: new Map(),
        ready: false,
        session: 0,
        watching: false,
        watchStartedAt: 0,
        firstRead: true,
        staging: undefined,
        queue: new Set(),
        claiming: new Set(),
        releasing: new Set(),
        exhausted: new Set(),
        exhaustedRetryAt: 0,
        invalid: new Set(),
        retryAt: 0,
        failuresInRow: 0,
        downSince: undefined,
        counts: { claims: 0, releases: 0, failures: 0 },
        watchers: new Map(),
        nextWatchId: 1,
        notifyPending: false,
        stopTimer: () => clearInterval(timer),
      };
      // Opened in the background: a KV that is not there yet must not hold up the node's start.
      startOpen(s, ctx);
      namedVips.set({ state: "held" }, 0);
      namedVips.set({ state: "pending" }, 0);
      return s;
    },

    handle(s, msg, ctx) {
      if ("inc" in msg && msg.inc !== s.inc) return s; // a previous incarnation's late report
      switch (msg.type) {
        case "want": {
          const valid: string[] = [];
          for (const n of msg.names) {
            if (parseAllocationName(n)) valid.push(n);
            else if (!s.invalid.has(n)) {
              s.invalid.add(n);
              log.error({ name: n }, "not a named-VIP allocation name (v4:<dns name> or v6:<dns name>); ignored");
            }
          }
          const { added, dropped } = s.book.want(valid, now());
          for (const n of dropped) {
            s.queue.delete(n);
            s.exhausted.delete(n);
          }
          if (s.invalid.size > 0) {
            const named = new Set(msg.names);
            for (const n of s.invalid) if (!named.has(n)) s.invalid.delete(n);
          }
          for (const n of added) requeue(s, n);
          pump(s, ctx);
          return s;
        }
        case "watch": {
          const id = s.nextWatchId++;
          s.watchers.set(id, msg.subscriber);
          msg.reply(id);
          deliver(id, msg.subscriber, view(s));
          return s;
        }
        case "unwatch":
          s.watchers.delete(msg.id);
          return s;
        case "status": {
          const { held, pending } = counts(s);
          msg.reply({
            bucket: deps.bucket,
            available: s.store !== undefined,
            ready: s.ready,
            held,
            pending,
            exhausted: s.exhausted.size,
            releasing: s.book.inGrace(),
            allocated: s.addresses.size,
            ...s.counts,
          });
          return s;
        }
        case "opened":
          s.opening = false;
          s.store = msg.store;
          available(s);
          log.info({ bucket: deps.bucket }, "named-VIP address store open");
          startWatch(s, ctx, msg.store);
          pump(s, ctx);
          return s;
        case "open-failed":
          s.opening = false;
          unavailable(s, "open", msg.err);
          return s;
        case "watch-events":
          if (msg.session !== s.session) return s;
          onWatchEvents(s, ctx, msg.events);
          pump(s, ctx);
          return s;
        case "watch-ended":
          if (msg.session !== s.session) return s;
          s.watching = false;
          s.firstRead = false;
          s.life.watch = undefined;
          s.staging = undefined; // a read cut short: keep the last complete view
          if (msg.err !== undefined) unavailable(s, "watch", msg.err);
          else if (s.retryAt < now()) s.retryAt = now() + retryMs; // ended with the connection: no busy loop
          return s;
        case "claimed":
          s.claiming.delete(msg.name);
          s.counts.claims++;
          claimsTotal.inc({ outcome: "claimed" });
          available(s);
          s.queue.delete(msg.name);
          s.exhausted.delete(msg.name);
          // The watch reports it too; set now so the applier need not wait for the round trip.
          s.staging?.set(msg.name, msg.value);
          setAddress(s, ctx, msg.name, msg.value);
          pump(s, ctx);
          return s;
        case "claim-failed":
          s.claiming.delete(msg.name);
          s.counts.failures++;
          if (msg.err instanceof AllocationExhaustedError) {
            claimsTotal.inc({ outcome: "exhausted" });
            if (!s.exhausted.has(msg.name)) log.warn({ name: msg.name, tried: msg.err.tried, code: msg.err.code }, "no free named-VIP address: every address of the range is taken; the VIP waits for one to be released");
            if (s.book.isWanted(msg.name)) s.exhausted.add(msg.name);
            if (s.exhausted.size === 1) s.exhaustedRetryAt = now() + EXHAUSTED_RETRY_MS;
          } else if (msg.err instanceof AllocationUnavailableError) {
            claimsTotal.inc({ outcome: "unavailable" });
            unavailable(s, "claim", msg.err);
            requeue(s, msg.name);
          } else if (msg.err instanceof TypeError) {
            // The KV's own limits (a name over MAX_ALLOCATION_CHARS): retrying cannot help.
            claimsTotal.inc({ outcome: "invalid" });
            s.invalid.add(msg.name);
            log.error({ name: msg.name, err: msg.err.message }, "named-VIP allocation name refused; the VIP gets no address");
          } else {
            claimsTotal.inc({ outcome: "unavailable" });
            unavailable(s, "claim", msg.err);
            requeue(s, msg.name);
          }
          pump(s, ctx);
          return s;
        case "released":
          s.releasing.delete(msg.name);
          s.book.forget(msg.name);
          available(s);
          if (msg.freed) {
            s.counts.releases++;
            releasesTotal.inc();
            log.info({ name: msg.name, address: s.addresses.get(msg.name), graceMs: deps.graceMs }, "named-VIP address released");
          }
          // With a live watch its report is the one to trust (another node may have claimed the name
          // again since); without one, this is the best knowledge there is.
          if (!(s.watching && s.ready && !s.staging)) setAddress(s, ctx, msg.name, undefined);
          requeue(s, msg.name); // wanted again while it was being released
          if (msg.freed) retryExhausted(s);
          pump(s, ctx);
          return s;
        case "release-failed":
          s.releasing.delete(msg.name);
          s.counts.failures++;
          unavailable(s, "release", msg.err);
          return s; // still due: the next pump after the backoff tries again
        case "tick": {
          const t = now();
          if (!s.store && !s.opening && t >= s.retryAt) startOpen(s, ctx);
          if (s.store && !s.watching && t >= s.retryAt) startWatch(s, ctx, s.store);
          if (s.exhausted.size > 0 && t >= s.exhaustedRetryAt) retryExhausted(s);
          pump(s, ctx);
          const { held, pending } = counts(s);
          namedVips.set({ state: "held" }, held);
          namedVips.set({ state: "pending" }, pending);
          return s;
        }
        case "notify": {
          s.notifyPending = false;
          const v = view(s);
          for (const [id, w] of s.watchers) deliver(id, w, v);
          return s;
        }
      }
    },

    terminate(s) {
      s.life.closed = true;
      s.stopTimer();
      s.life.watch?.stop();
    },

    messageName: (msg) => `allocator.${msg.type}`,
    background: (msg) => msg.type === "tick", // periodic; not traced by default (observability/README.md § Sampling)
  };
}

function openStore(deps: AllocatorDeps, timeoutMs: number): () => Promise<AllocationStore> {
  if (deps.openStore) return deps.openStore;
  return async () => {
    const nc = deps.connection();
    if (!nc || nc.isClosed()) throw new AllocationUnavailableError(deps.bucket, "open", { cause: new Error("no NATS connection") });
    return KvAllocator.open(nc, { bucket: deps.bucket, replicas: deps.replicas, timeoutMs });
  };
}

function sameMap(a: ReadonlyMap<string, string>, b: ReadonlyMap<string, string>): boolean {
  if (a.size !== b.size) return false;
  for (const [k, v] of a) if (b.get(k) !== v) return false;
  return true;
}
