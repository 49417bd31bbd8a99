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
  /** `dns.ttl`, `dns.negativeTtl` and a fresh serial (Unix seconds): pass them to `ZoneBuilder.dcos(origin, ctx.defaults)`. */
  readonly defaults: { readonly ttl: number; readonly negativeTtl: number; readonly serial: number };
  readonly nodeId: string;
  /** This node's private IP (`dns.thisnode.ip`, else the address it found), when known. */
  readonly nodeIp: string | undefined;
}

/**
 * One contributor of zones. `S` is the part's own state, made by `init` for each incarnation of the
 * zone actor (after a restart the store replays every watched key into a fresh state).
 */
export interface ZonePart<S = unknown> {
  /** Short, unique among parts ("dcos", "l4lb"): logs and error messages name the part by it. */
  readonly name: string;
  /** Every origin the part may build; two parts claiming one origin stop the node at start. Zones of other origins are dropped. */
  readonly origins: readonly string[];
  /** Store key prefixes whose changes the part folds (`tasks/`, `hello/`); empty for a zone fixed by config. */
  readonly watch: readonly string[];
  init(): S;
  /** Folds one change of a watched key into `state` (mutating it); true when the zones must be rebuilt. */
  fold(state: S, ev: WatchEvent): boolean;
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
  /** The part's zones; a zone outside its declared origins is left out and reported to `onStray`. */
  build(ctx: ZoneBuildContext, onStray: (origin: string) => void): readonly Zone[];
}

/** Gives `part` its state; the state stays behind these closures, typed by the part that made it. */
export function runZonePart<S>(part: ZonePart<S>): RunningZonePart {
  const state = part.init();
  const origins = new Set(part.origins.map(normalizeName));
  return {
    name: part.name,
    origins,
    watch: part.watch,
    watches: (key) => part.watch.some((prefix) => key.startsWith(prefix)),
    fold: (ev) => part.fold(state, ev),
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
