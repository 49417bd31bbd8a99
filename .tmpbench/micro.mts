import { emptyKey, keyStateSchema } from "../actors/gossip/crdt/index.js";
import { applyOps, refusal } from "../actors/gossip/store/ops.js";
import { Keyspace } from "../actors/gossip/store/keyspace.js";
import { estimateBytes } from "../actors/gossip/store/wire.js";
const N = 10000;
const R = "a@1700000000000";
for (let round = 0; round < 3; round++) {
  let t = performance.now();
  const applied = [];
  for (let i = 0; i < N; i++) applied.push(applyOps(emptyKey(), [{ op: "set", field: "v", value: i }, { op: "set", field: "w", value: `value-${i}` }], R, undefined, Date.now()));
  const tA = performance.now() - t; t = performance.now();
  for (let i = 0; i < N; i++) refusal(`burst/${i}`, applied[i]!);
  const tR = performance.now() - t; t = performance.now();
  for (let i = 0; i < N; i++) keyStateSchema.safeParse(applied[i]!.delta);
  const tS = performance.now() - t; t = performance.now();
  for (let i = 0; i < N; i++) estimateBytes(applied[i]!.next);
  const tE = performance.now() - t; t = performance.now();
  const ks = new Keyspace();
  for (let i = 0; i < N; i++) ks.put(`burst/${i}`, applied[i]!.next, 0);
  const tP = performance.now() - t;
  console.log(`apply ${tA.toFixed(0)} refusal ${tR.toFixed(0)} (schema ${tS.toFixed(0)}, estimate ${tE.toFixed(0)}) put ${tP.toFixed(0)}`);
}
