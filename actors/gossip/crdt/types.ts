// Contract of the pure CRDT layer (no NATS, no nact, no node: I/O). The store actor and the wire
// codec speak only these types. See actors/gossip/README.md for the model.

/** A writer: `<nodeId>@<incarnation>`. A restarted node is a new replica, so dots never collide. */
export type ReplicaId = string;

/** One event of one replica on one key: the n-th update of replica r to this key (n ≥ 1). */
export interface Dot {
  readonly r: ReplicaId;
  readonly n: number;
}

/** Hybrid logical clock stamp; total order by (t, c, r). Orders concurrent LWW writes. */
export interface Hlc {
  readonly t: number;
  readonly c: number;
  readonly r: ReplicaId;
}

/** Values stored in fields: plain data that msgpack and JSON both carry. */
export type Value = null | boolean | number | string | Value[] | { readonly [k: string]: Value };

/** What one dot holds: a register write of field f, or one element of set field f. */
export type Entry =
  | { readonly f: string; readonly k: "lww"; readonly v: Value; readonly ts: Hlc }
  | { readonly f: string; readonly k: "set"; readonly e: Value };

/**
 * Causal context: every dot this state has seen. `vv[r] = n` means dots (r,1)…(r,n) were seen;
 * `cloud` holds seen dots beyond a gap (compacted into vv as soon as the gap closes).
 */
export interface CausalContext {
  readonly vv: Readonly<Record<ReplicaId, number>>;
  readonly cloud: readonly Dot[];
}

/**
 * The state of one key — an observed-remove map whose fields are LWW registers or add-wins sets —
 * and equally a delta (a delta is a small KeyState). A field is present iff some entry has it; a
 * removal leaves no tombstone entry, only dots in the causal context (bounded by writers per key).
 */
export interface KeyState {
  /** Live entries by dot. */
  readonly entries: ReadonlyArray<readonly [Dot, Entry]>;
  readonly cc: CausalContext;
}

/** Read view of one field. */
export type FieldView = { readonly type: "lww"; readonly value: Value; readonly ts: Hlc } | { readonly type: "set"; readonly values: readonly Value[] };

/** Read view of a key; undefined when the key has no live entries. */
export type KeyView = Readonly<Record<string, FieldView>>;
