// The zones the listeners answer from. The zone actor is the only writer; it replaces the whole
// immutable ZoneSet, and listeners read `current` synchronously for every query.
//
// Why not a message per query: a mailbox hop costs more than the whole answer (the target is a
// reference server's ~80k queries/s on one core). The board lives in the DNS subtree's deps, not in
// the zone actor's state, so when the zone actor crashes the listeners keep answering from the last
// good zones until the restarted actor publishes again.
import type { ZoneSet } from "./zones/types.js";
import { ZoneGenerationError } from "./errors.js";

export class ZoneBoard {
  private zoneSet: ZoneSet = { generation: 0, zones: new Map() };
  private readonly listeners = new Set<(zs: ZoneSet) => void>();
  /** Wall-clock time of the last publish (ms); 0 before the first. */
  publishedAt = 0;
  /**
   * The highest SOA serial published: a restarted zone actor never goes below it, even when the
   * newest write it replays was since deleted (the serial is derived from the replicated state).
   */
  serial = 0;

  get current(): ZoneSet {
    return this.zoneSet;
  }

  publish(next: ZoneSet): void {
    if (next.generation <= this.zoneSet.generation) throw new ZoneGenerationError(`zone generation must increase (${next.generation} after ${this.zoneSet.generation})`);
    this.zoneSet = next;
    this.publishedAt = Date.now();
    for (const l of this.listeners) l(next);
  }

  /** Next generation number: a restarted zone actor continues from here, so caches keyed on it stay valid. */
  nextGeneration(): number {
    return this.zoneSet.generation + 1;
  }

  onPublish(listener: (zs: ZoneSet) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
