// Derives the zones from the replicated store and publishes them on the board: sources → store →
// this view → listeners. Watches tasks/, nodes/, mesos/ and dns/mesos/; a burst of changes (the
// initial snapshot, a failover) is one rebuild, and only the zones whose inputs changed are rebuilt.
// State is only a cache of the store: after a crash the watches replay everything, and meanwhile
// the listeners keep answering from the board's last good zones.
import { SpanKind, type Tracer } from "@opentelemetry/api";
import type { Logger } from "pino";
import { extractCarrier, type TraceCarrier } from "../../transport/index.js";
import type { ActorRef, Behaviour, ReplyTo } from "../../supervisors/index.js";
import type { StoreMsg, WatchEvent } from "../gossip/index.js";
import type { Config } from "../../config/index.js";
import { TASKS_PREFIX } from "../catalogue/index.js";
import type { ZoneBoard } from "./board.js";
import type { DnsMetrics } from "./metrics.js";
import type { Zone } from "./zones/types.js";
import { assembleZoneSet, customZones, dcosZone, mesosZones, thisnodeZone, zoneRecords, zoneSize, type ZoneRow } from "./zones/index.js";
import { MESOS_RECORDS_PREFIX, NODES_PREFIX, foldEvent, type ZoneInputs, type ZonePart } from "./inputs.js";
import { StoreUnavailableError } from "../gossip/index.js";

const WATCHED = [TASKS_PREFIX, NODES_PREFIX, "mesos/", MESOS_RECORDS_PREFIX] as const;

type Part = ZonePart;

export type ZoneMsg =
  | { readonly type: "changed"; readonly ev: WatchEvent }
  | { readonly type: "rebuild" }
  /** Queued after the watches' initial snapshots, so it arrives once they are all folded in. */
  | { readonly type: "replayed" }
  | { readonly type: "records"; readonly zone?: string; readonly reply: ReplyTo<{ readonly zones: readonly string[]; readonly rows: readonly ZoneRow[] }> };

interface ZoneState extends ZoneInputs {
  readonly dirty: Set<Part>;
  scheduled: boolean;
  /** When the last rebuild ended and how long it took (ms), to pace the next one. */
  lastBuildAt: number;
  lastBuildMs: number;
  readonly built: Map<Part, readonly Zone[]>;
  /** Zones that never change while the node runs: thisnode, custom CNAME zones. */
  readonly fixed: readonly Zone[];
  readonly watchIds: number[];
  /** False after a restart until the store's snapshot is replayed: publishing earlier would replace good zones with partial ones. */
  ready: boolean;
  /** Trace contexts of the changes folded into the next rebuild (a few; a burst shares one rebuild). */
  readonly traces: Map<string, TraceCarrier>;
}

/** A rebuild joins at most this many changes' traces; more in one burst are counted, not traced. */
const MAX_TRACES_PER_REBUILD = 16;

export interface ZoneDeps {
  readonly nodeId: string;
  readonly dns: Config["dns"];
  /** This node's private IP (thisnode.thisdcos.directory). */
  readonly nodeIp: () => string | undefined;
  readonly board: ZoneBoard;
  readonly metrics: DnsMetrics;
  readonly logger: Logger;
  readonly store: () => ActorRef<StoreMsg> | undefined;
  readonly tracer?: Tracer;
}

export function zoneBehaviour(deps: ZoneDeps): Behaviour<ZoneState, ZoneMsg> {
  const defaults = () => ({ ttl: deps.dns.ttl, negativeTtl: deps.dns.negativeTtl, serial: Math.floor(Date.now() / 1000) });

  const build = (state: ZoneState): void => {
    state.scheduled = false;
    const began = performance.now();
    const beganAt = Date.now();
    for (const part of state.dirty) {
      const started = process.hrtime.bigint();
      const zones = part === "dcos" ? [buildDcos(state)] : buildMesos(state);
      state.built.set(part, zones);
      for (const z of zones) {
        deps.metrics.zoneBuild.observe({ zone: z.origin }, Number(process.hrtime.bigint() - started) / 1e9);
        deps.metrics.zoneRecords.set({ zone: z.origin }, zoneSize(z));
      }
    }
    const parts = [...state.dirty];
    state.dirty.clear();
    const all = [...state.fixed, ...[...state.built.values()].flat()];
    const generation = deps.board.nextGeneration();
    deps.board.publish(assembleZoneSet(generation, all));
    state.lastBuildMs = performance.now() - began;
    state.lastBuildAt = Date.now();
    traceRebuild(state, parts, generation, beganAt);
  };

  // The last step of a task change's trace: a span per traced change in this rebuild, child of the
  // write that caused it (on whichever node it was made), ending when the new zones are answerable.
  const traceRebuild = (state: ZoneState, parts: readonly Part[], generation: number, beganAt: number): void => {
    if (!deps.tracer || state.traces.size === 0) return;
    const zones = parts.flatMap((p) => (state.built.get(p) ?? []).map((z) => z.origin)).join(",");
    for (const [key, carrier] of state.traces) {
      const span = deps.tracer.startSpan("dns zone update", { kind: SpanKind.INTERNAL, startTime: beganAt, attributes: { "dns.zones": zones, "dns.generation": generation, "dcnet.store.key": key, "dcnet.node.id": deps.nodeId } }, extractCarrier(carrier));
      span.end();
    }
    state.traces.clear();
  };

  const buildDcos = (state: ZoneState): Zone => {
    const ipOf = (id: string | undefined) => (id ? state.nodes.get(id)?.ip : undefined);
    const masters = [...state.nodes.values()].filter((n) => n.roles.includes("master") && n.ip).map((n) => n.ip as string);
    const leader = ipOf(state.leaderNode);
    return dcosZone({ tasks: [...state.tasks.values()], masters: [...new Set(masters)].sort(), ...(leader ? { leader } : {}) }, defaults());
  };

  const buildMesos = (state: ZoneState): Zone[] => {
    if (deps.dns.mesos.mode !== "native") return [];
    const m = deps.dns.mesos;
    const z = mesosZones([...state.mesos.values()].flat(), { domain: m.domain, ttl: m.ttl, mirror: m.mirror, compat: m.compat, serial: Math.floor(Date.now() / 1000), mirrorTtl: deps.dns.ttl });
    return z;
  };

  return {
    async init(ctx) {
      const store = deps.store();
      if (!store) throw new StoreUnavailableError();
      const ip = deps.dns.thisnode.ip ?? deps.nodeIp();
      const fixed: Zone[] = [thisnodeZone({ ...(ip ? { privateIp: ip } : {}), publicIps: [...deps.dns.thisnode.publicIps] }, defaults()), ...customZones(deps.dns.zones, defaults())];
      // First start: publish at once, so the cluster's names are ours from the first query (NXDOMAIN
      // until known, never forwarded upstream). After a crash the board still holds the last good
      // zones; keep them until the store's snapshot has been replayed into this new incarnation.
      const restarted = deps.board.current.generation > 0;
      const state: ZoneState = { tasks: new Map(), nodes: new Map(), leaderNode: undefined, mesos: new Map(), dirty: new Set(["dcos", "mesos"]), scheduled: false, lastBuildAt: 0, lastBuildMs: 0, built: new Map(), fixed, watchIds: [], ready: !restarted, traces: new Map() };
      if (!restarted) build(state);
      // Each watch sends its snapshot into the mailbox before its reply, so "replayed" lands after all of them.
      for (const prefix of WATCHED) {
        state.watchIds.push(await store.ask<number>((reply) => ({ type: "watch", prefix, subscriber: (ev) => ctx.self.tell({ type: "changed", ev }), reply }), 60_000));
      }
      ctx.self.tell({ type: "replayed" });
      if (restarted) deps.logger.info({ generation: deps.board.current.generation }, "zone view restarted: serving the last zones until the store is replayed");
      return state;
    },
    handle(state, msg, ctx) {
      switch (msg.type) {
        case "changed": {
          const part = foldEvent(state, msg.ev);
          if (part && msg.ev.trace && state.traces.size < MAX_TRACES_PER_REBUILD) state.traces.set(msg.ev.key, msg.ev.trace);
          if (part) {
            state.dirty.add(part);
            if (!state.scheduled) {
              state.scheduled = true;
              // A cheap rebuild (the usual case) follows at once; an expensive one (a big .mesos zone
              // while thousands of names arrive) waits until its own cost is a fifth of the time, so a
              // stream of changes costs a bounded share of the node's one thread, not one rebuild each.
              const wait = state.lastBuildAt + 4 * state.lastBuildMs - Date.now();
              if (wait > 0) setTimeout(() => ctx.self.tell({ type: "rebuild" }), Math.min(wait, 2000));
              else setImmediate(() => ctx.self.tell({ type: "rebuild" }));
            }
          }
          return state;
        }
        case "rebuild":
          if (state.ready && state.dirty.size > 0) build(state);
          return state;
        case "replayed":
          state.ready = true;
          state.dirty.add("dcos").add("mesos");
          build(state);
          return state;
        case "records": {
          const zones = [...deps.board.current.zones.values()];
          const selected = msg.zone ? zones.filter((z) => z.origin === msg.zone!.toLowerCase().replace(/\.$/, "")) : zones;
          msg.reply({ zones: zones.map((z) => z.origin).sort(), rows: selected.flatMap((z) => zoneRecords(z)) });
          return state;
        }
      }
    },
    terminate(state) {
      for (const id of state.watchIds) deps.store()?.tell({ type: "unwatch", id });
    },
  };
}
