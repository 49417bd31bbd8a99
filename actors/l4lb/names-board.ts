// The named VIPs this node's kernel routes now, with their addresses: written by the applier after
// each transaction nft accepted, read by DNS through the L4LB's zone part. DNS therefore never
// answers a name before this node's kernel has its VIP (dcos-net DCOS_OSS-4939, PR #130/#132: a
// client that resolved too early reached whatever listened locally on the VIP's port).
//
// Why a board and not a store key: the fact is this node's alone and differs per node for a moment
// after each change; replicating it would cost every node O(nodes × VIPs). The board lives in the
// node's deps, outside both actors, so DNS keeps answering while the L4LB restarts (its rules stay in
// the kernel meanwhile), and a restarted zone actor gets the current names again on subscribe.

/** A named VIP's addresses, per family present among its backends. */
export interface PublishedName {
  readonly v4?: string;
  readonly v6?: string;
}

/** DNS name without the zone (`mygroupmyapp.marathon`) → addresses. Immutable once published. */
export type PublishedNames = ReadonlyMap<string, PublishedName>;

export class NamesBoard {
  #current: PublishedNames = new Map();
  readonly #subscribers = new Set<(names: PublishedNames) => void>();

  get current(): PublishedNames {
    return this.#current;
  }

  /** Replaces the names; subscribers hear only when something changed. */
  publish(next: PublishedNames): void {
    if (samePublished(this.#current, next)) return;
    this.#current = next;
    for (const s of this.#subscribers) s(next);
  }

  /** The current names at once, then every change. Returns the unsubscribe. */
  subscribe(push: (names: PublishedNames) => void): () => void {
    this.#subscribers.add(push);
    push(this.#current);
    return () => this.#subscribers.delete(push);
  }
}

export function samePublished(a: PublishedNames, b: PublishedNames): boolean {
  if (a === b) return true;
  if (a.size !== b.size) return false;
  for (const [name, x] of a) {
    const y = b.get(name);
    if (!y || x.v4 !== y.v4 || x.v6 !== y.v6) return false;
  }
  return true;
}
