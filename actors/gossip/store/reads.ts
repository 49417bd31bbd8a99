// Reads and watches. Reads answer at once from the current state; a watch waits for the initial
// sync, so its snapshot is the cluster's state rather than whatever a starting store has so far
// (consumers would otherwise briefly act on a partial view, then correct it).
//
// Watches belong to the watching actors, not to one incarnation of the store: the registry
// outlives a crash. After the restarted store has re-synced, every watch gets a change event for
// each key whose state differs from what the crashed incarnation held, deletions included.
import { read } from "../crdt/index.js";
import type { WatchMsg } from "./messages.js";
import type { StoreMsg } from "./types.js";
import { safeReply, type StoreState } from "./state.js";
import { compareKeys } from "./keyspace.js";

export type QueryMsg = Exclude<StoreMsg, { type: "update" }>;

export function query(s: StoreState, m: QueryMsg): void {
  switch (m.type) {
    case "get": {
      const state = s.keys.get(m.key);
      return safeReply(s, m.reply, state === undefined ? undefined : read(state));
    }
    case "keys":
      return safeReply(s, m.reply, s.keys.liveKeys(m.prefix));
    case "watch":
      if (s.sync.kind === "synced") return startWatch(s, m);
      s.held.push(m);
      return undefined;
    case "unwatch":
      s.watchers.remove(m.id);
      return undefined;
    case "counters":
      return safeReply(s, m.reply, { keys: s.keys.liveCount, ...s.counters, synced: s.sync.kind === "synced" });
  }
}

/** Registers the watch, sends the snapshot (every live key under the prefix, in key order), replies the id. */
export function startWatch(s: StoreState, m: WatchMsg): void {
  const id = s.watchers.add(m.prefix, m.subscriber);
  for (const key of s.keys.liveKeys(m.prefix)) {
    const state = s.keys.get(key);
    if (state !== undefined) s.watchers.notifyOne(id, { key, value: read(state), initial: true });
  }
  safeReply(s, m.reply, id);
}

/** After a restart's sync: tells watches what changed since the crashed incarnation's last state. */
export function replayAfterRestart(s: StoreState): void {
  const before = s.previous;
  s.previous = undefined;
  if (before === undefined || s.watchers.size === 0) return;
  const now = s.keys.liveHashes();
  const keys = new Set([...before.keys(), ...now.keys()]);
  let events = 0;
  for (const key of [...keys].sort(compareKeys)) {
    if (before.get(key) === now.get(key) || !s.watchers.covers(key)) continue;
    const state = s.keys.get(key);
    s.watchers.notify({ key, value: state === undefined ? undefined : read(state), initial: false });
    events++;
  }
  s.rt.log.info({ keys: events, watches: s.watchers.size }, "watches brought up to date after the store restart");
}
