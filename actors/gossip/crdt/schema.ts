// Border schema for a KeyState received from the network (delta batches, bucket replies). Caps keep
// a hostile or buggy peer from making us hold or walk huge structures; counts are checked before
// members are parsed. A valid state comes out canonical (kernel.ts), ready for a fast merge.
import { z } from "zod";
import { compactWith, compareDots, covers } from "./dots.js";
import { canonical } from "./kernel.js";
import type { Dot, KeyState, Value } from "./types.js";

/** Limits of one received KeyState (also what a writer must stay under for its keys to travel). */
export const KEY_STATE_LIMITS = Object.freeze({
  entries: 10_000,
  vvReplicas: 10_000,
  cloud: 10_000,
  replicaChars: 200,
  fieldChars: 128,
  valueDepth: 16,
  valueNodes: 100_000,
  stringChars: 65_536,
});

const L = KEY_STATE_LIMITS;

// "__proto__" is refused: a record parser cannot even represent it as a key.
const replica = z
  .string()
  .min(1)
  .max(L.replicaChars)
  .refine((r) => r !== "__proto__", "reserved replica id");
const counter = z.number().int().min(1);
const dot = z.object({ r: replica, n: counter });
const hlc = z.object({ t: z.number(), c: z.number().int().min(0), r: replica });
const field = z.string().min(1).max(L.fieldChars);

interface ValueIssue {
  readonly path: (string | number)[];
  readonly message: string;
}

/** First problem of a would-be Value: a JSON-able tree of bounded depth, size and string length. */
function checkValue(v: unknown, depth: number, path: (string | number)[], budget: { nodes: number }): ValueIssue | undefined {
  if (--budget.nodes < 0) return { path, message: `value has more than ${L.valueNodes} nodes` };
  if (v === null || typeof v === "boolean") return undefined;
  if (typeof v === "number") return Number.isFinite(v) ? undefined : { path, message: "number must be finite" };
  if (typeof v === "string") return v.length <= L.stringChars ? undefined : { path, message: `string longer than ${L.stringChars}` };
  if (typeof v !== "object") return { path, message: `${typeof v} is not a JSON value` };
  if (depth >= L.valueDepth) return { path, message: `value nested deeper than ${L.valueDepth}` };
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const issue = checkValue(v[i], depth + 1, [...path, i], budget);
      if (issue !== undefined) return issue;
    }
    return undefined;
  }
  const proto: unknown = Object.getPrototypeOf(v);
  if (proto !== Object.prototype && proto !== null) return { path, message: "only plain objects are values" };
  for (const [k, x] of Object.entries(v)) {
    if (k.length > L.stringChars) return { path, message: `object key longer than ${L.stringChars}` };
    const issue = checkValue(x, depth + 1, [...path, k], budget);
    if (issue !== undefined) return issue;
  }
  return undefined;
}

const value = z.custom<Value>().superRefine((v, ctx) => {
  const issue = checkValue(v, 0, [], { nodes: L.valueNodes });
  if (issue !== undefined) ctx.addIssue({ code: "custom", message: issue.message, path: issue.path });
});

const entry = z.discriminatedUnion("k", [
  z.object({ f: field, k: z.literal("lww"), v: value, ts: hlc }),
  z.object({ f: field, k: z.literal("set"), e: value }),
]);

// z.record has no size limit and drops a "__proto__" key silently; both are checked first.
const vv = z
  .unknown()
  .superRefine((v, ctx) => {
    if (typeof v !== "object" || v === null) return;
    if (Object.hasOwn(v, "__proto__")) ctx.addIssue({ code: "custom", message: "reserved replica id", path: ["__proto__"] });
    if (Object.keys(v).length > L.vvReplicas) ctx.addIssue({ code: "custom", message: `more than ${L.vvReplicas} replicas` });
  })
  .pipe(z.record(replica, counter));

const cc = z.object({ vv, cloud: z.array(dot).max(L.cloud) });

const rawState = z.object({ entries: z.array(z.tuple([dot, entry])).max(L.entries), cc });

/** Every entry's dot must be unique and inside the state's own causal context. */
function checkKernel(s: KeyState, ctx: z.RefinementCtx): void {
  const known = compactWith(s.cc, []);
  s.entries.forEach(([d], i) => {
    if (!covers(known, d)) ctx.addIssue({ code: "custom", message: "entry dot is not in the causal context", path: ["entries", i, 0] });
  });
  const order = s.entries.map((_, i) => i).sort((i, j) => compareDots(dotAt(s, i), dotAt(s, j)) || i - j);
  for (let k = 1; k < order.length; k++) {
    const i = order[k] as number;
    if (compareDots(dotAt(s, order[k - 1] as number), dotAt(s, i)) === 0) ctx.addIssue({ code: "custom", message: "duplicate entry dot", path: ["entries", i, 0] });
  }
}

function dotAt(s: KeyState, i: number): Dot {
  return (s.entries[i] as readonly [Dot, unknown])[0];
}

/** Validates a KeyState from the network; the parsed state is canonical. */
export const keyStateSchema: z.ZodType<KeyState> = rawState.superRefine(checkKernel).transform((s) => canonical(s));
