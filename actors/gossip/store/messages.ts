// The store actor's own messages (subscriptions, timers and pulls talking to the actor) and the
// narrow view of membership it needs. StoreMsg in types.ts stays the contract for other actors.
import type { ActorRef } from "../../../supervisors/index.js";
import type { Member, MemberEvent, MembershipMsg } from "../membership/types.js";
import type { StoreMsg } from "./types.js";
import { MembershipUnavailableError } from "../errors.js";
import type { BucketReplyBody, DeltasBody, DigestBody, KeyedState } from "./wire.js";

/** Where the store hears about members. The node passes the membership actor (membershipSource). */
export interface MembershipSource {
  watch(subscriber: (ev: MemberEvent) => void): Promise<{ readonly id: number; readonly members: readonly Member[] }>;
  unwatch(id: number): void;
}

/** The membership actor as a MembershipSource. */
export function membershipSource(ref: () => ActorRef<MembershipMsg> | undefined, timeoutMs = 5_000): MembershipSource {
  return {
    watch: async (subscriber) => {
      const actor = ref();
      if (actor === undefined) throw new MembershipUnavailableError();
      return actor.ask((reply) => ({ type: "watch", subscriber, reply }), timeoutMs);
    },
    unwatch: (id) => ref()?.tell({ type: "unwatch", id }),
  };
}

/**
 * `epoch` identifies one incarnation of the actor: timers and pulls of a crashed incarnation may
 * still deliver into the (kept) mailbox, and the new one must not take their bookkeeping for its own.
 */
export type StoreInternalMsg =
  /** `at`: when the batch came off the socket (ms), the start of its changes' arrival spans. */
  | { readonly type: "remote-deltas"; readonly from: string; readonly body: DeltasBody; readonly bytes: number; readonly at: number }
  | { readonly type: "remote-digest"; readonly from: string; readonly body: DigestBody }
  | { readonly type: "digest-request"; readonly from: string; readonly replica: string }
  | { readonly type: "serve-buckets"; readonly buckets: readonly number[]; readonly after: string | undefined; readonly respond: (page: BucketReplyBody) => void }
  | { readonly type: "pull-page"; readonly epoch: number; readonly job: number; readonly keys: readonly KeyedState[]; readonly more: boolean }
  | { readonly type: "pull-failed"; readonly epoch: number; readonly job: number; readonly error: string }
  | { readonly type: "flush"; readonly epoch: number }
  | { readonly type: "anti-entropy"; readonly epoch: number }
  | { readonly type: "sync-timeout"; readonly epoch: number }
  /** No synced peer exists (our digest request had no responders): the initial sync ends now. */
  | { readonly type: "alone"; readonly epoch: number }
  | { readonly type: "cleanup"; readonly epoch: number }
  | { readonly type: "member"; readonly event: MemberEvent };

export type StoreActorMsg = StoreMsg | StoreInternalMsg;
export type UpdateMsg = Extract<StoreMsg, { type: "update" }>;
export type WatchMsg = Extract<StoreMsg, { type: "watch" }>;
