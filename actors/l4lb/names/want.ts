// Which allocation names this node wants, and since when each one it wanted no longer is. A name is
// released only after it has been unwanted for the whole grace period: dcos-net frees a named VIP's
// address the moment its last backend goes, so a VIP whose tasks restart together comes back on a
// new address and every client that resolved the old one breaks. Only names this node itself saw
// wanted and then unwanted are ever due: a name it never wanted (another node's, or one it has not
// seen since it started) is none of its business.

export class WantBook {
  #wanted = new Set<string>();
  /** Names seen wanted, now not, with the time (ms, monotonic) they stopped being wanted. */
  readonly #since = new Map<string, number>();

  /** Replaces the wanted set. `added`: newly wanted (again); `dropped`: wanted before, not now. */
  want(names: Iterable<string>, now: number): { readonly added: string[]; readonly dropped: string[] } {
    const next = new Set(names);
    const added: string[] = [];
    const dropped: string[] = [];
    for (const n of next) {
      if (!this.#wanted.has(n)) added.push(n);
      this.#since.delete(n);
    }
    for (const n of this.#wanted) {
      if (next.has(n)) continue;
      dropped.push(n);
      this.#since.set(n, now);
    }
    this.#wanted = next;
    return { added, dropped };
  }

  isWanted(name: string): boolean {
    return this.#wanted.has(name);
  }

  wanted(): ReadonlySet<string> {
    return this.#wanted;
  }

  /** Names unwanted for at least `graceMs` at `now`, oldest first. */
  due(now: number, graceMs: number): string[] {
    const out: string[] = [];
    // Insertion order is the order names stopped being wanted (want() deletes a name that comes back).
    for (const [n, since] of this.#since) {
      if (now - since < graceMs) break;
      out.push(n);
    }
    return out;
  }

  /** When the next name falls due, or undefined when none is in its grace period. */
  nextDue(graceMs: number): number | undefined {
    for (const since of this.#since.values()) return since + graceMs;
    return undefined;
  }

  /** The name was released (or found free): it is no longer waiting for anything. */
  forget(name: string): void {
    this.#since.delete(name);
  }

  /** Names in their grace period. */
  inGrace(): number {
    return this.#since.size;
  }
}
