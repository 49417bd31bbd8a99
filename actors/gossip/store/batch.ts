// Outbound delta batching. Updates to the same key within one tick are coalesced by merging their
// deltas (a merged delta is still a delta: peers merge it the same way), so a hot key costs one
// entry per batch, not one per write. The actor flushes on a short tick or as soon as the estimated
// size reaches the cap; `waiters` are the writers to acknowledge once the batch is handed to NATS.
// A coalesced delta keeps the trace context of its latest traced write: peers see one change event
// for it, and the latest write is the one that event reflects.
import { merge } from "../crdt/index.js";
import type { KeyState } from "../crdt/types.js";
import type { TraceCarrier } from "./types.js";
import { ENVELOPE_OVERHEAD_BYTES, keyedBytes, type KeyedDelta } from "./wire.js";

interface Pending {
  readonly state: KeyState;
  readonly bytes: number;
  readonly trace: TraceCarrier | undefined;
}

export class DeltaBatch<W> {
  readonly #deltas = new Map<string, Pending>();
  #waiters: W[] = [];
  #bytes = ENVELOPE_OVERHEAD_BYTES;
  #updates = 0;

  get isEmpty(): boolean {
    return this.#deltas.size === 0 && this.#waiters.length === 0;
  }

  /** Estimated encoded size of the batch as it stands. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Keys in the batch (each is one delta on the wire). */
  get size(): number {
    return this.#deltas.size;
  }

  /** Local updates folded into the batch (≥ size: several updates of a key make one delta). */
  get updates(): number {
    return this.#updates;
  }

  /**
   * Adds a delta; `bytes` is its keyedBytes estimate (trace included), which the caller computed to
   * decide whether to flush first (a coalesced delta is re-estimated: merging can only shrink the
   * sum of the states, and one carrier replaces the other).
   */
  add(key: string, delta: KeyState, bytes: number, waiter?: W, trace?: TraceCarrier): void {
    const prev = this.#deltas.get(key);
    if (prev === undefined) {
      this.#deltas.set(key, { state: delta, bytes, trace });
      this.#bytes += bytes;
    } else {
      const state = merge(prev.state, delta);
      const latest = trace ?? prev.trace;
      const merged = keyedBytes(key, state, latest);
      this.#deltas.set(key, { state, bytes: merged, trace: latest });
      this.#bytes += merged - prev.bytes;
    }
    this.#updates++;
    if (waiter !== undefined) this.#waiters.push(waiter);
  }

  /** Empties the batch, returning its deltas in insertion order and its waiters. */
  take(): { readonly deltas: KeyedDelta[]; readonly waiters: W[]; readonly updates: number } {
    // No `trace` field at all when untraced: nothing extra on the wire.
    const deltas = [...this.#deltas].map(([key, p]): KeyedDelta => (p.trace === undefined ? { key, state: p.state } : { key, state: p.state, trace: p.trace }));
    const out = { deltas, waiters: this.#waiters, updates: this.#updates };
    this.#deltas.clear();
    this.#waiters = [];
    this.#bytes = ENVELOPE_OVERHEAD_BYTES;
    this.#updates = 0;
    return out;
  }
}
