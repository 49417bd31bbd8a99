// How the catalogue's sources write into the replicated store: one update per key, acknowledged by
// the store once published (so a slow store slows the source, nothing is dropped). Each update
// carries the writer's trace context, so what the change triggers on every node (a zone rebuild)
// joins the trace of whatever made it.
import { context } from "@opentelemetry/api";
import type { ActorRef } from "../../supervisors/index.js";
import type { StoreMsg, TraceCarrier, UpdateOp, UpdateResult, Value } from "../gossip/index.js";
import { injectCarrier } from "../../transport/index.js";
import { StoreUnavailableError, UpdateRefusedError } from "../gossip/index.js";
import { TASK_RECORD_VERSION, type Task } from "./model.js";

/** `trace` defaults to the context active when the write is called (the store's mailbox loses it). */
export type WriteFn = (key: string, ops: UpdateOp[], trace?: TraceCarrier) => Promise<void>;

const STORE_TIMEOUT_MS = 15_000;

export function storeWriter(store: () => ActorRef<StoreMsg> | undefined): WriteFn {
  // The default is evaluated when the call starts, inside the caller's context; with tracing off it
  // finds no span and costs one lookup.
  return async (key, ops, trace = injectCarrier(context.active())) => {
    const ref = store();
    if (!ref) throw new StoreUnavailableError();
    const r = await ref.ask<UpdateResult>((reply) => ({ type: "update", key, ops, trace, reply }), STORE_TIMEOUT_MS);
    if (!r.ok) throw new UpdateRefusedError(key, r.error);
  };
}

/**
 * The store update for a task: the whole record as one register (a task changes as a unit), or the
 * key's removal. Stored as plain JSON (absent optional fields dropped), fields unknown to this
 * version kept, and stamped with the record version from version 2 on (absent = 1, model.ts).
 */
export function taskUpdateOps(change: { task: Task } | "delete"): UpdateOp[] {
  if (change === "delete") return [{ op: "delete-key" }];
  const record = TASK_RECORD_VERSION > 1 ? { ...change.task, v: TASK_RECORD_VERSION } : change.task;
  return [{ op: "set", field: "task", value: JSON.parse(JSON.stringify(record)) as Value }];
}

/**
 * Many writes with at most `concurrency` in flight: the store takes them in order through its
 * mailbox, but awaiting each acknowledgement before sending the next would cap a source at one
 * round trip per key (a 4,000-name zone took seconds that way).
 */
export async function writeAll(write: WriteFn, updates: Iterable<readonly [string, UpdateOp[]]>, concurrency = 128): Promise<void> {
  const inflight = new Set<Promise<void>>();
  for (const [key, ops] of updates) {
    const p: Promise<void> = write(key, ops).finally(() => inflight.delete(p));
    inflight.add(p);
    if (inflight.size >= concurrency) await Promise.race(inflight);
  }
  await Promise.all(inflight);
}
