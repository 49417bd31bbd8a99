// Public door of the pure CRDT layer (README.md). Nothing else in crdt/ may be imported from outside.
export { emptyKey, merge, isEmpty, dropReplicas } from "./kernel.js";
export { setField, addToSet, removeFromSet, removeField, removeKey, read } from "./map.js";
export { hashKey } from "./hash.js";
export { hlcNow, hlcObserveBounded, latestStamp, tooFarAhead } from "./hlc.js";
export type { Observed } from "./hlc.js";
export { keyStateSchema, KEY_STATE_LIMITS } from "./schema.js";
export { replicaOf, parseReplica } from "./replica.js";
export type { ReplicaId, Dot, Hlc, Value, Entry, CausalContext, KeyState, FieldView, KeyView } from "./types.js";
