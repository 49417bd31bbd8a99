// A local update: the store's UpdateOps turned into CRDT mutations. Each op mutates the state left
// by the previous one (so "set f, then delete-field f" in one update removes the fresh write), and
// the update's delta is the merge of the op deltas: one delta per update, whatever its op count.
import { addToSet, emptyKey, hlcNow, KEY_STATE_LIMITS, keyStateSchema, merge, removeFromSet, removeField, removeKey, setField } from "../crdt/index.js";
import type { Hlc, KeyState, ReplicaId } from "../crdt/types.js";
import type { UpdateOp } from "./types.js";
import { ENVELOPE_OVERHEAD_BYTES, keyedBytes, keySchema, MAX_PAYLOAD_BYTES } from "./wire.js";

export interface AppliedUpdate {
  readonly next: KeyState;
  readonly delta: KeyState;
  /** The writer's clock after the update (each LWW write takes a fresh stamp). */
  readonly hlc: Hlc | undefined;
}

export function applyOps(current: KeyState, ops: readonly UpdateOp[], replica: ReplicaId, hlc: Hlc | undefined, wallMs: number): AppliedUpdate {
  let next = current;
  let delta = emptyKey();
  let clock = hlc;
  for (const op of ops) {
    let d: KeyState;
    switch (op.op) {
      case "set":
        clock = hlcNow(clock, replica, wallMs);
        d = setField(next, replica, op.field, op.value, clock);
        break;
      case "add":
        d = addToSet(next, replica, op.field, op.elem);
        break;
      case "remove":
        d = removeFromSet(next, op.field, op.elem);
        break;
      case "delete-field":
        d = removeField(next, op.field);
        break;
      case "delete-key":
        d = removeKey(next);
        break;
    }
    next = merge(next, d);
    delta = merge(delta, d);
  }
  return { next, delta, hlc: clock };
}

/** True when a delta carries nothing (no entry, no removal): there is nothing to publish. */
export function isNoop(delta: KeyState): boolean {
  return delta.entries.length === 0 && delta.cc.cloud.length === 0 && Object.keys(delta.cc.vv).length === 0;
}

/**
 * Why a local update must be refused, or undefined. What peers would reject at their border
 * (keyStateSchema) is refused here instead: one bad delta would otherwise take its whole batch down,
 * and a key state too large for a bucket page could never be repaired.
 */
export function refusal(key: string, applied: AppliedUpdate): string | undefined {
  const k = keySchema.safeParse(key);
  if (!k.success) return `bad key: ${k.error.issues[0]?.message ?? "invalid"}`;
  const d = keyStateSchema.safeParse(applied.delta);
  if (!d.success) {
    const issue = d.error.issues[0];
    return `bad update of ${key}: ${issue?.path.join(".") ?? ""} ${issue?.message ?? "invalid"}`.trim();
  }
  const s = applied.next;
  const L = KEY_STATE_LIMITS;
  if (s.entries.length > L.entries || Object.keys(s.cc.vv).length > L.vvReplicas || s.cc.cloud.length > L.cloud) {
    return `key ${key} would exceed the per-key limits (${L.entries} entries)`;
  }
  const bytes = keyedBytes(key, s) + ENVELOPE_OVERHEAD_BYTES;
  if (bytes > MAX_PAYLOAD_BYTES) return `key ${key} would be ${bytes} bytes; the limit is ${MAX_PAYLOAD_BYTES}`;
  return undefined;
}
