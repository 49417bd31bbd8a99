// Messages of the store actor (/node/gossip/store). Other actors talk to the store only through these.
import type { ReplyTo } from "../../../supervisors/index.js";
import type { TraceCarrier } from "../../../transport/trace-headers.js";
import type { KeyView, Value } from "../crdt/types.js";

export type { TraceCarrier };

export type UpdateOp =
  | { readonly op: "set"; readonly field: string; readonly value: Value }
  | { readonly op: "add"; readonly field: string; readonly elem: Value }
  | { readonly op: "remove"; readonly field: string; readonly elem: Value }
  | { readonly op: "delete-field"; readonly field: string }
  | { readonly op: "delete-key" };

/** A change seen by a watcher: the key's new value (undefined = deleted). In order per key. */
export interface WatchEvent {
  readonly key: string;
  readonly value: KeyView | undefined;
  /** True for the initial snapshot events sent when the watch starts. */
  readonly initial: boolean;
  /**
   * Trace context of the write that made this change, so work it triggers (a zone rebuild) can join that
   * trace: set on the writer's node and on peers receiving its delta. Undefined for untraced writes, initial
   * snapshots, anti-entropy repairs, the initial sync and the catch-up after a store restart. When several
   * writes of one key are coalesced into one delta, peers see the most recent write's carrier.
   */
  readonly trace?: TraceCarrier;
}

/** What an update's writer is told: published (and flushed past back-pressure), or refused and why. */
export type UpdateResult = { readonly ok: true } | { readonly ok: false; readonly error: string };

export interface StoreCounters {
  readonly keys: number;
  readonly deltasOut: number;
  readonly deltasIn: number;
  readonly bytesOut: number;
  readonly bytesIn: number;
  readonly keysRepaired: number;
  readonly digestsIn: number;
  readonly rejected: number;
  readonly synced: boolean;
}

export type StoreMsg =
  | {
      readonly type: "update";
      readonly key: string;
      readonly ops: readonly UpdateOp[];
      /**
       * The writer's trace context, captured before the ask (injectCarrier(context.active())): the store
       * never guesses it from the context its handler happens to run in. Travels with the delta to the
       * watchers of every node. A malformed or oversized carrier is dropped; the write still happens.
       */
      readonly trace?: TraceCarrier;
      readonly reply?: ReplyTo<UpdateResult>;
    }
  | { readonly type: "get"; readonly key: string; readonly reply: ReplyTo<KeyView | undefined> }
  | { readonly type: "keys"; readonly prefix: string; readonly reply: ReplyTo<readonly string[]> }
  | { readonly type: "watch"; readonly prefix: string; readonly subscriber: (ev: WatchEvent) => void; readonly reply: ReplyTo<number> }
  | { readonly type: "unwatch"; readonly id: number }
  | { readonly type: "counters"; readonly reply: ReplyTo<StoreCounters> };
