// Messages and events of the membership actor (/node/gossip/membership).
import type { ReplyTo } from "../../../supervisors/index.js";

export type MemberState = "alive" | "suspect" | "dead" | "unknown";

export interface Member {
  readonly node: string;
  readonly incarnation: number;
  readonly state: MemberState;
  /** Wall-clock ms of the last heartbeat heard (0 for self). */
  readonly lastHeardAt: number;
  /** Wall-clock ms of the last state change. */
  readonly since: number;
  readonly self: boolean;
}

export type MemberEvent =
  | { readonly type: "join"; readonly node: string; readonly incarnation: number }
  | { readonly type: "suspect"; readonly node: string; readonly incarnation: number }
  | { readonly type: "alive"; readonly node: string; readonly incarnation: number }
  | { readonly type: "dead"; readonly node: string; readonly incarnation: number }
  | { readonly type: "rejoin"; readonly node: string; readonly incarnation: number; readonly previous: number }
  | { readonly type: "unknown"; readonly node: string; readonly incarnation: number };

export type MembershipMsg =
  | { readonly type: "members"; readonly reply: ReplyTo<readonly Member[]> }
  | { readonly type: "watch"; readonly subscriber: (ev: MemberEvent) => void; readonly reply: ReplyTo<{ readonly id: number; readonly members: readonly Member[] }> }
  | { readonly type: "unwatch"; readonly id: number };
