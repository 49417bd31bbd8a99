// The contract by which a subsystem contributes zones to this node's DNS (README.md "Adding a zone
// part"). A zone part watches store prefixes, folds each change into a state of its own, and builds
// its zones from that state when it changed. The zone actor runs every registered part: it watches
// the union of their prefixes, hands each event to the parts that watch it, rebuilds only the parts
// whose fold said "changed" and publishes all zones together. Parts are plain functions: no I/O, no
// timers, no actors; everything they know arrives through `fold` and the build context.
import type { WatchEvent } from "../../gossip/index.js";
import { ZonePartConflictError } from "../errors.js";
import { normalizeName } from "./names.js";
import type { Zone } from "./types.js";

/** What every build gets: the node's zone defaults (from dns config) and who this node is. */
export interface ZoneBuildContext {
  /** `dns.ttl`, `dns.negativeTtl` and the serial (the newest replicated write folded in, Unix seconds): pass them to `ZoneBuilder.dcos(origin, ctx.defaults)`. */
  readonly defaults: { readonly ttl: number; readonly negativeTtl: number; readonly serial: number };
  readonly nodeId: string;
  /** This node's private IP (`dns.thisnode.ip`, else the address it found), when known. */
  readonly nodeIp: string | undefined;
}

/**
 * One contributor of zones. `S` is the part's own state, made by `init` for each incarnation of the
 * zone actor (after a restart the store replays every watched key into a fresh state).
 */
/**
 * A source of a part's input that is not the replicated store: facts of this node only, which the
 * store must not carry (the L4LB's "this VIP is in my kernel now": every node's differ, and DNS
 * must not publish a name before its own kernel routes it, dcos-net PR #130).
 */
export interface ZoneFeed<S, E> {
  /**
   * Starts delivering events: the current state at once (synchronously, before returning), then
   * each change. Returns the unsubscribe. Called by each incarnation of the zone actor.
   */
  subscribe(push: (ev: E) => void): () => void;
  /** Folds one event into `state` (mutating it); true when the zones must be rebuilt. */
  fold(state: S, ev: E): boolean;
}

export interface ZonePart<S = unknown, E = unknown> {
  /** Short, unique among parts ("dcos", "l4lb"): logs and error messages name the part by it. */
  readonly name: string;
  /** Every origin the part may build; two parts claiming one origin stop the node at start. Zones of other origins are dropped. */
  readonly origins: readonly string[];
  /** Store key prefixes whose changes the part folds (`tasks/`, `hello/`); empty for a zone fixed by config. */
  readonly watch: readonly string[];
  init(): S;
  /** Folds one change of a watched key into `state` (mutating it); true when the zones must be rebuilt. */
  fold(state: S, ev: WatchEvent): boolean;
  /** Input from this node rather than the store, folded like store changes (optional). */
  readonly feed?: ZoneFeed<S, E>;
  /** The part's zones from its current state; must not throw on any state `fold` can produce. */
  build(state: S, ctx: ZoneBuildContext): readonly Zone[];
}

/** A part with its state: what the zone actor holds, one per registered part and incarnation. */
export interface RunningZonePart {
  readonly name: string;
  readonly origins: ReadonlySet<string>;
  readonly watch: readonly string[];
  watches(key: string): boolean;
  fold(ev: WatchEvent): boolean;
  /** Subscribes to the part's feed (if any); events come back through `foldFed` in the zone actor's turn. */
  subscribe?(push: (ev: unknown) => void): () => void;
  foldFed(ev: unknown): boolean;
  /** The part's zones; a zone outside its declared origins is left out and reported to `onStray`. */
  build(ctx: ZoneBuildContext, onStray: (origin: string) => void): readonly Zone[];
}

/** Gives `part` its state; the state stays behind these closures, typed by the part that made it. */
export function runZonePart<S, E>(part: ZonePart<S, E>): RunningZonePart {
  const state = part.init();
  const origins = new Set(part.origins.map(normalizeName));
  const feed = part.feed;
  return {
    name: part.name,
    origins,
    watch: part.watch,
    watches: (key) => part.watch.some((prefix) => key.startsWith(prefix)),
    fold: (ev) => part.fold(state, ev),
    ...(feed ? { subscribe: (push: (ev: unknown) => void) => feed.subscribe(push) } : {}),
    // The event came from this part's own feed (the zone actor routes it by part), so it is an E.
    foldFed: (ev) => (feed ? feed.fold(state, ev as E) : false),
    build(ctx, onStray) {
      const zones = part.build(state, ctx);
      if (zones.every((z) => origins.has(z.origin))) return zones;
      for (const z of zones) if (!origins.has(z.origin)) onStray(z.origin);
      return zones.filter((z) => origins.has(z.origin));
    },
  };
}

/** Throws ZonePartConflictError when two parts share a name or claim one origin (compared normalised). */
export function checkZoneParts(parts: readonly ZonePart[]): void {
  const names = new Set<string>();
  const owners = new Map<string, string>();
  for (const part of parts) {
    if (names.has(part.name)) throw new ZonePartConflictError(`two DNS zone parts are named ${JSON.stringify(part.name)}`);
    names.add(part.name);
    for (const origin of new Set(part.origins.map(normalizeName))) {
      const owner = owners.get(origin);
      if (owner !== undefined) throw new ZonePartConflictError(`DNS zone ${origin} is claimed by two zone parts: ${JSON.stringify(owner)} and ${JSON.stringify(part.name)}`);
      owners.set(origin, part.name);
    }
  }
}

/**
 * The fewest prefixes that cover every part's watch: a prefix inside another one is left out, so
 * each key is delivered once even when two parts watch overlapping prefixes.
 */
export function watchCover(parts: readonly Pick<ZonePart, "watch">[]): string[] {
  const all = [...new Set(parts.flatMap((p) => p.watch))].sort();
  return all.filter((p) => !all.some((q) => q !== p && p.startsWith(q)));
}
