// Derives the zones from the replicated store and publishes them on the board: sources → store →
// zone parts → this view → listeners. Runs every registered zone part (zones/part.ts): watches the
// union of their store prefixes, folds each change into the parts that watch its key, and rebuilds
// only the parts whose state changed; a burst of changes (the initial snapshot, a failover) is one
// rebuild. State is only a cache of the store: after a crash the watches replay everything, and
// meanwhile the listeners keep answering from the board's last good zones.
import { SpanKind, type Tracer } from "@opentelemetry/api";
import type { Logger } from "pino";
import { extractCarrier, type TraceCarrier } from "../../transport/index.js";
import type { ActorRef, Behaviour, ReplyTo } from "../../supervisors/index.js";
import type { StoreMsg, WatchEvent } from "../gossip/index.js";
import { StoreUnavailableError } from "../gossip/index.js";
import type { ZoneBoard } from "./board.js";
import type { DnsMetrics } from "./metrics.js";
import { RecordPager, type RecordsPage, type RecordsPageRequest } from "./records-page.js";
import { assembleZoneSet, runZonePart, watchCover, zoneRecords, zoneSize, type RunningZonePart, type Zone, type ZoneBuildContext, type ZonePart, type ZoneRow } from "./zones/index.js";

export type ZoneMsg =
  | { readonly type: "changed"; readonly ev: WatchEvent }
  /** An event of one part's feed (zones/part.ts ZoneFeed), for that part only. */
  | { readonly type: "fed"; readonly part: string; readonly ev: unknown }
  | { readonly type: "rebuild" }
  /** Queued after the watches' initial snapshots, so it arrives once they are all folded in. */
  | { readonly type: "replayed" }
  | { readonly type: "records"; readonly zone?: string; readonly reply: ReplyTo<{ readonly zones: readonly string[]; readonly rows: readonly ZoneRow[] }> }
  /** The same rows a page at a time (records-page.ts), for readers that stream them. */
  | ({ readonly type: "records-page"; readonly reply: ReplyTo<RecordsPage> } & RecordsPageRequest);

interface ZoneState {
  /** In registration order: built-in parts first, then other subsystems'. */
  readonly parts: readonly RunningZonePart[];
  readonly dirty: Set<RunningZonePart>;
  scheduled: boolean;
  /** When the last rebuild ended and how long it took (ms), to pace the next one. */
  lastBuildAt: number;
  lastBuildMs: number;
  readonly built: Map<RunningZonePart, readonly Zone[]>;
  readonly watchIds: number[];
  readonly unsubscribes: Array<() => void>;
  /** False after a restart until the store's snapshot is replayed: publishing earlier would replace good zones with partial ones. */
  ready: boolean;
  /** Trace contexts of the changes folded into the next rebuild (a few; a burst shares one rebuild). */
  readonly traces: Map<string, TraceCarrier>;
  /** Origins a part built without declaring them (dropped), logged once each. */
  readonly strays: Set<string>;
  /** The newest write (HLC wall time, ms) among the store values folded in: the zones' serial. */
  newest: number;
}

/** A rebuild joins at most this many changes' traces; more in one burst are counted, not traced. */
const MAX_TRACES_PER_REBUILD = 16;

interface ZoneDeps {
  /** Every zone part this node serves, conflicts already rejected (zones/parts/builtin.ts zonePartsFor). */
  readonly parts: readonly ZonePart[];
  readonly nodeId: string;
  /** `dns.ttl` and `dns.negativeTtl`, every part's defaults. */
  readonly ttl: number;
  readonly negativeTtl: number;
  /** This node's private IP (`dns.thisnode.ip`, else the address the node found). */
  readonly nodeIp: () => string | undefined;
  readonly board: ZoneBoard;
  readonly metrics: DnsMetrics;
  readonly logger: Logger;
  readonly store: () => ActorRef<StoreMsg> | undefined;
  readonly tracer?: Tracer;
}

export function zoneBehaviour(deps: ZoneDeps): Behaviour<ZoneState, ZoneMsg> {
  // Outside the state: its name indexes belong to the published zones (which outlive a restart), not to this incarnation.
  const pager = new RecordPager();
  // The SOA serial comes from the replicated state, not the clock of this node's rebuild: the newest
  // write folded in, in seconds (HLC wall time, the same on every replica). Nodes holding the same
  // state serve the same serial (Zonemaster CONSISTENCY01), and it never goes below the last one
  // published here. A deletion carries no stamp, so it alone does not raise the serial.
  const context = (state: ZoneState): ZoneBuildContext => {
    const serial = Math.max(deps.board.serial, Math.floor(state.newest / 1000), 1);
    deps.board.serial = serial;
    return { defaults: { ttl: deps.ttl, negativeTtl: deps.negativeTtl, serial }, nodeId: deps.nodeId, nodeIp: deps.nodeIp() };
  };

  const stray = (state: ZoneState, part: RunningZonePart) => (origin: string) => {
    if (state.strays.has(origin)) return;
    state.strays.add(origin);
    deps.logger.warn({ part: part.name, zone: origin, origins: [...part.origins] }, "a zone part built a zone it did not declare; not served");
  };

  const build = (state: ZoneState): void => {
    state.scheduled = false;
    const began = performance.now();
    const beganAt = Date.now();
    const ctx = context(state);
    for (const part of state.dirty) {
      const started = process.hrtime.bigint();
      const zones = part.build(ctx, stray(state, part));
      state.built.set(part, zones);
      for (const z of zones) {
        deps.metrics.zoneBuild.observe({ zone: z.origin }, Number(process.hrtime.bigint() - started) / 1e9);
        deps.metrics.zoneRecords.set({ zone: z.origin }, zoneSize(z));
      }
    }
    const rebuilt = [...state.dirty];
    state.dirty.clear();
    const all = state.parts.flatMap((p) => state.built.get(p) ?? []);
    const generation = deps.board.nextGeneration();
    deps.board.publish(assembleZoneSet(generation, all));
    state.lastBuildMs = performance.now() - began;
    state.lastBuildAt = Date.now();
    traceRebuild(state, rebuilt, generation, beganAt);
  };

  // The last step of a task change's trace: a span per traced change in this rebuild, child of the
  // write that caused it (on whichever node it was made), ending when the new zones are answerable.
  const traceRebuild = (state: ZoneState, rebuilt: readonly RunningZonePart[], generation: number, beganAt: number): void => {
    if (!deps.tracer || state.traces.size === 0) return;
    const zones = rebuilt.flatMap((p) => (state.built.get(p) ?? []).map((z) => z.origin)).join(",");
    for (const [key, carrier] of state.traces) {
      const span = deps.tracer.startSpan("dns zone update", { kind: SpanKind.INTERNAL, startTime: beganAt, attributes: { "dns.zones": zones, "dns.generation": generation, "dcnet.store.key": key, "dcnet.node.id": deps.nodeId } }, extractCarrier(carrier));
      span.end();
    }
    state.traces.clear();
  };

  // A cheap rebuild (the usual case) follows at once; an expensive one (a big .mesos zone while
  // thousands of names arrive) waits until its own cost is a fifth of the time, so a stream of
  // changes costs a bounded share of the node's one thread, not one rebuild each.
  const schedule = (state: ZoneState, self: { tell(m: ZoneMsg): void }): void => {
    if (state.scheduled) return;
    state.scheduled = true;
    const wait = state.lastBuildAt + 4 * state.lastBuildMs - Date.now();
    if (wait > 0) setTimeout(() => self.tell({ type: "rebuild" }), Math.min(wait, 2000));
    else setImmediate(() => self.tell({ type: "rebuild" }));
  };

  return {
    async init(ctx) {
      const store = deps.store();
      if (!store) throw new StoreUnavailableError();
      const parts = deps.parts.map(runZonePart);
      // First start: publish at once, so the cluster's names are ours from the first query (NXDOMAIN
      // until known, never forwarded upstream). After a crash the board still holds the last good
      // zones; keep them until the store's snapshot has been replayed into this new incarnation.
      const restarted = deps.board.current.generation > 0;
      const state: ZoneState = { parts, dirty: new Set(parts), scheduled: false, lastBuildAt: 0, lastBuildMs: 0, built: new Map(), watchIds: [], unsubscribes: [], ready: !restarted, traces: new Map(), strays: new Set(), newest: 0 };
      if (!restarted) build(state);
      // Each watch sends its snapshot into the mailbox before its reply, so "replayed" lands after all of them.
      for (const prefix of watchCover(parts)) {
        state.watchIds.push(await store.ask<number>((reply) => ({ type: "watch", prefix, subscriber: (ev) => ctx.self.tell({ type: "changed", ev }), reply }), 60_000));
      }
      // A feed replays its current state synchronously in subscribe, so that too lands before "replayed".
      for (const part of parts) {
        if (part.subscribe) state.unsubscribes.push(part.subscribe((ev) => ctx.self.tell({ type: "fed", part: part.name, ev })));
      }
      ctx.self.tell({ type: "replayed" });
      if (restarted) deps.logger.info({ generation: deps.board.current.generation }, "zone view restarted: serving the last zones until the store is replayed");
      return state;
    },
    handle(state, msg, ctx) {
      switch (msg.type) {
        case "changed": {
          for (const field of Object.values(msg.ev.value ?? {})) if (field.type === "lww" && field.ts.t > state.newest) state.newest = field.ts.t;
          let changed = false;
          for (const part of state.parts) {
            if (part.watches(msg.ev.key) && part.fold(msg.ev)) {
              state.dirty.add(part);
              changed = true;
            }
          }
          if (changed && msg.ev.trace && state.traces.size < MAX_TRACES_PER_REBUILD) state.traces.set(msg.ev.key, msg.ev.trace);
          if (changed) schedule(state, ctx.self);
          return state;
        }
        case "fed": {
          const part = state.parts.find((p) => p.name === msg.part);
          if (part && part.foldFed(msg.ev)) {
            state.dirty.add(part);
            schedule(state, ctx.self);
          }
          return state;
        }
        case "rebuild":
          if (state.ready && state.dirty.size > 0) build(state);
          return state;
        case "replayed":
          state.ready = true;
          // Parts fed by the store rebuild from the replayed snapshot; fixed ones only if not built yet.
          for (const part of state.parts) if (part.watch.length > 0 || part.subscribe || !state.built.has(part)) state.dirty.add(part);
          build(state);
          return state;
        case "records": {
          const zones = [...deps.board.current.zones.values()];
          const selected = msg.zone ? zones.filter((z) => z.origin === msg.zone!.toLowerCase().replace(/\.$/, "")) : zones;
          msg.reply({ zones: zones.map((z) => z.origin).sort(), rows: selected.flatMap((z) => zoneRecords(z)) });
          return state;
        }
        case "records-page":
          msg.reply(pager.page(deps.board.current.zones, msg));
          return state;
      }
    },
    terminate(state) {
      for (const id of state.watchIds) deps.store()?.tell({ type: "unwatch", id });
      for (const off of state.unsubscribes) off();
    },
  };
}
