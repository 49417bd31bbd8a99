// The catalogue's VIP table: per VIP, its backends (owner node, IP, port, weight). A view derived
// on every node from the replicated tasks (tasks/<owner>/<id>), not a second copy in the store:
// every node computes the same table from the same tasks, and it can never disagree with them.
// DNS and the L4LB read it here (a snapshot, or a watch that gets the table after each change, with
// the keys that changed: the L4LB's work per change is then the changed VIPs, not all of them).
import type { Logger } from "pino";
import type { Registry } from "prom-client";
import type { ActorRef, Behaviour, ReplyTo } from "../../supervisors/index.js";
import type { StoreMsg, WatchEvent } from "../gossip/index.js";
import type { Backend, Task } from "./model.js";
import { readTask, TASK_RECORD_VERSION } from "./model.js";
import { TASKS_PREFIX, parseTaskKey } from "./keys.js";
import { backendsOf, VipTableBuilder } from "./convert/vips.js";
import { StoreUnavailableError } from "../gossip/index.js";
import { counter } from "../../observability/metrics.js";

export type VipTable = ReadonlyMap<string, readonly Backend[]>;

/**
 * Gets the table at once, then after each change. `changed`: the VIP keys whose backend list differs
 * from the table this subscriber got last (added, removed or modified); undefined = treat every key
 * as changed (the first delivery). Each table is a new Map, never mutated after delivery, and the
 * keys not in `changed` keep their backend arrays (same objects), so a subscriber may keep it.
 */
export type VipsSubscriber = (table: VipTable, changed?: ReadonlySet<string>) => void;

export type VipsMsg =
  | { readonly type: "table"; readonly reply: ReplyTo<VipTable> }
  | { readonly type: "tasks"; readonly reply: ReplyTo<ReadonlyArray<{ readonly owner: string; readonly task: Task }>> }
  | { readonly type: "watch"; readonly subscriber: VipsSubscriber; readonly reply: ReplyTo<number> }
  | { readonly type: "unwatch"; readonly id: number }
  | { readonly type: "changed"; readonly ev: WatchEvent }
  | { readonly type: "rebuild" };

interface VipsState {
  /**
   * Every task of the catalogue by store key (its owner is in the key), the operator table included:
   * the store's own records (readTask does not copy), so the catalogue holds no second copy.
   */
  readonly tasks: Map<string, Task>;
  /** The table, kept up to date task by task: a change rebuilds only the VIP keys it touches. */
  readonly builder: VipTableBuilder;
  table: VipTable;
  /** Changes not yet folded into `table`: a burst (the initial snapshot, a failover) is one rebuild. */
  dirty: boolean;
  readonly watchers: Map<number, VipsSubscriber>;
  nextId: number;
  readonly watchId: number;
}

interface VipsDeps {
  readonly logger: Logger;
  readonly metrics: Registry;
  readonly store: () => ActorRef<StoreMsg> | undefined;
}

export function vipsBehaviour(deps: VipsDeps): Behaviour<VipsState, VipsMsg> {
  let warned = 0;
  let newerSeen = false;
  const records = counter(deps.metrics, "dcnet_catalogue_task_records_read_total", "Task records read from the store, by outcome (current, newer: written by a newer version, its unknown fields kept; invalid: skipped)", ["outcome"]);
  const rebuild = (state: VipsState): void => {
    if (!state.dirty) return;
    state.dirty = false;
    const { table, changed } = state.builder.build();
    // Changes that cancel out (a task rewritten with the same backends) are not a new table.
    if (changed.size === 0) return;
    state.table = table;
    for (const w of state.watchers.values()) {
      try {
        w(table, changed);
      } catch (err) {
        deps.logger.error({ err: (err as Error).message }, "VIP table watcher threw");
      }
    }
  };
  return {
    async init(ctx) {
      const store = deps.store();
      if (!store) throw new StoreUnavailableError();
      // The watch delivers every current task first (initial events), then each change in order.
      const watchId = await store.ask<number>((reply) => ({ type: "watch", prefix: TASKS_PREFIX, subscriber: (ev) => ctx.self.tell({ type: "changed", ev }), reply }), 60_000);
      return { tasks: new Map(), builder: new VipTableBuilder(), table: new Map(), dirty: false, watchers: new Map(), nextId: 1, watchId };
    },
    handle(state, msg, ctx) {
      switch (msg.type) {
        case "table":
          rebuild(state);
          msg.reply(state.table);
          return state;
        case "tasks":
          msg.reply([...state.tasks.keys()].sort().map((k) => ({ owner: parseTaskKey(k)?.owner ?? "", task: state.tasks.get(k) as Task })));
          return state;
        case "watch": {
          rebuild(state);
          const id = state.nextId++;
          state.watchers.set(id, msg.subscriber);
          msg.reply(id);
          msg.subscriber(state.table);
          return state;
        }
        case "unwatch":
          state.watchers.delete(msg.id);
          return state;
        case "rebuild":
          rebuild(state);
          return state;
        case "changed": {
          const parsed = parseTaskKey(msg.ev.key);
          if (!parsed) return state;
          const field = msg.ev.value?.task;
          const read = field?.type === "lww" ? readTask(field.value) : undefined;
          if (read?.ok) {
            records.inc({ outcome: read.newer ? "newer" : "current" });
            if (read.newer && !newerSeen) {
              newerSeen = true;
              deps.logger.info({ key: msg.ev.key, v: read.task.v, known: TASK_RECORD_VERSION }, "task records from a newer version: read by their known fields, the others kept");
            }
            // The master stream's table feeds DNS; VIP backends come from each node's own sources
            // (agent poller, registrations), as the L4LB did in dcos-net, so no backend counts twice.
            state.tasks.set(msg.ev.key, read.task);
            state.builder.set(msg.ev.key, parsed.source === "operator" ? [] : backendsOf(read.task, parsed.owner));
          } else {
            if (msg.ev.value) {
              records.inc({ outcome: "invalid" });
              const reason = read?.reason ?? "no task field";
              if (warned++ < 10) deps.logger.warn({ key: msg.ev.key, reason }, "catalogue key holds no valid task; ignored");
            }
            state.tasks.delete(msg.ev.key);
            state.builder.delete(msg.ev.key);
          }
          if (!state.dirty) setImmediate(() => ctx.self.tell({ type: "rebuild" }));
          state.dirty = true;
          return state;
        }
      }
    },
    terminate(state) {
      deps.store()?.tell({ type: "unwatch", id: state.watchId });
    },
  };
}
