// Admin operations that read or write the replicated store and membership, by asking their actors.
import type { Tree } from "../../supervisors/index.js";
import type { StoreMsg, StoreCounters, UpdateOp } from "../gossip/index.js";
import type { MembershipMsg, Member } from "../gossip/index.js";
import type { KeyView } from "../gossip/index.js";
import { ADMIN_ERRORS } from "./protocol.js";
import { AdminOpError } from "./errors.js";

import { STORE_PATH } from "../gossip/index.js";
export const MEMBERSHIP_PATH = "/node/gossip/membership";
/** Writes may wait for the store's initial sync (gossip.syncTimeoutMs) and back-pressure. */
const ASK_TIMEOUT_MS = 10_000;

function actor<M>(tree: Tree | undefined, path: string) {
  const ref = tree?.lookup<M>(path);
  const running = tree?.stats().some((s) => s.path === path && s.status !== "stopped");
  if (!ref || !running) throw new AdminOpError(ADMIN_ERRORS.unavailable, `${path} is not running on this node`, 503);
  return ref;
}

export async function members(tree: Tree | undefined): Promise<readonly Member[]> {
  return actor<MembershipMsg>(tree, MEMBERSHIP_PATH).ask<readonly Member[]>((reply) => ({ type: "members", reply }), ASK_TIMEOUT_MS);
}

export async function stateKeys(tree: Tree | undefined, prefix: string): Promise<readonly string[]> {
  return actor<StoreMsg>(tree, STORE_PATH).ask<readonly string[]>((reply) => ({ type: "keys", prefix, reply }), ASK_TIMEOUT_MS);
}

export async function stateGet(tree: Tree | undefined, key: string): Promise<KeyView | undefined> {
  return actor<StoreMsg>(tree, STORE_PATH).ask<KeyView | undefined>((reply) => ({ type: "get", key, reply }), ASK_TIMEOUT_MS);
}

/** Applies updates in order; every one is acknowledged by the store (published) before this returns. */
export async function stateUpdate(tree: Tree | undefined, updates: ReadonlyArray<{ key: string; ops: readonly UpdateOp[] }>): Promise<number> {
  const store = actor<StoreMsg>(tree, STORE_PATH);
  const results = await Promise.all(
    updates.map((u) => store.ask<{ ok: true } | { ok: false; error: string }>((reply) => ({ type: "update", key: u.key, ops: u.ops, reply }), ASK_TIMEOUT_MS)),
  );
  const failed = results.find((r): r is { ok: false; error: string } => !r.ok);
  if (failed) throw new AdminOpError(ADMIN_ERRORS.badRequest, failed.error, 400);
  return results.length;
}

export async function gossipCounters(tree: Tree | undefined): Promise<StoreCounters | undefined> {
  const ref = tree?.lookup<StoreMsg>(STORE_PATH);
  if (!ref) return undefined;
  return ref.ask<StoreCounters>((reply) => ({ type: "counters", reply }), 2000).catch(() => undefined);
}
