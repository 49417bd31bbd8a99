// Gossip's admin ops: membership as this node sees it, and reads and writes of the replicated store,
// by asking their actors. Declarations only at import time (zod and types): `dcnet ctl` loads this.
import { z } from "zod";
import { AdminOpError, ADMIN_ERRORS, cliGroup, defineOp, duration, OK_REPLY, table, type CliCommand, type CliInput, type OpContext } from "../admin/ops.js";
import type { StoreMsg, StoreCounters, UpdateOp } from "./store/index.js";
import type { MembershipMsg, Member } from "./membership/index.js";
import type { KeyView } from "./crdt/index.js";

/** Writes may wait for the store's initial sync (gossip.syncTimeoutMs) and back-pressure. */
const ASK_TIMEOUT_MS = 10_000;
const STATE = cliGroup("state", "the replicated store (CRDT keys)");

// Where gossip.sup.ts mounts the actors these ops ask. Loaded when a handler runs, not imported: the
// sup brings the actors' code, which `dcnet ctl` never needs.
async function mounts(): Promise<{ readonly store: string; readonly membership: string }> {
  const { GOSSIP, STORE_PATH } = await import("./gossip.sup.js");
  return { store: STORE_PATH, membership: `/node/${GOSSIP}/membership` };
}

const hlc = z.strictObject({ t: z.number(), c: z.number(), r: z.string() });
const fieldView = z.discriminatedUnion("type", [
  z.strictObject({ type: z.literal("lww"), value: z.json(), ts: hlc }),
  z.strictObject({ type: z.literal("set"), values: z.array(z.json()) }),
]);
const keyView = z.record(z.string(), fieldView);
const member = z.strictObject({
  node: z.string(),
  incarnation: z.number(),
  state: z.enum(["alive", "suspect", "dead", "unknown"]),
  lastHeardAt: z.number(),
  since: z.number(),
  self: z.boolean(),
});
const stateKey = z.string().min(1).max(512);
const fieldName = z.string().min(1).max(128);
const jsonValue = z.json();
const updateOp = z.discriminatedUnion("op", [
  z.strictObject({ op: z.literal("set"), field: fieldName, value: jsonValue }),
  z.strictObject({ op: z.literal("add"), field: fieldName, elem: jsonValue }),
  z.strictObject({ op: z.literal("remove"), field: fieldName, elem: jsonValue }),
  z.strictObject({ op: z.literal("delete-field"), field: fieldName }),
  z.strictObject({ op: z.literal("delete-key") }),
]);
const update = z.strictObject({ key: stateKey, ops: z.array(updateOp).min(1).max(100) });

/** The store's counters, as `status` reports them (actors/node/ops.ts). */
export const storeCountersSchema = z.strictObject({
  keys: z.number(),
  deltasOut: z.number(),
  deltasIn: z.number(),
  bytesOut: z.number(),
  bytesIn: z.number(),
  keysRepaired: z.number(),
  digestsIn: z.number(),
  rejected: z.number(),
  synced: z.boolean(),
});

/** The store's counters, or undefined when the store is not running or slow: `status` must answer anyway. */
export async function storeCounters(ctx: OpContext): Promise<StoreCounters | undefined> {
  try {
    const ref = ctx.actor<StoreMsg>((await mounts()).store);
    return { ...(await ref.ask<StoreCounters>((reply) => ({ type: "counters", reply }), 2000)) };
  } catch {
    return undefined;
  }
}

export const members = defineOp({
  name: "members",
  role: "viewer",
  request: z.strictObject({}),
  reply: z.strictObject({ node: z.string(), members: z.array(member) }),
  async handle(_req, ctx) {
    const ref = ctx.actor<MembershipMsg>((await mounts()).membership);
    const list = await ref.ask<readonly Member[]>((reply) => ({ type: "members", reply }), ASK_TIMEOUT_MS);
    return { node: ctx.config.id, members: list.map((m) => ({ ...m })) };
  },
  cli: [{ command: "members", description: "cluster membership as this node sees it", request: () => ({}) }],
  human: (m) => formatMembers(m.members),
  summary: (m) => m.members.map((x) => `${x.node}:${x.state}`).join(" "),
});

export function formatMembers(list: readonly Member[], now = Date.now()): string {
  return table(
    ["NODE", "STATE", "INCARNATION", "LAST HEARD", "SINCE"],
    list.map((x) => [x.self ? `${x.node} (self)` : x.node, x.state, String(x.incarnation), x.self ? "-" : `${duration(now - x.lastHeardAt)} ago`, duration(now - x.since)]),
  );
}

export const stateKeys = defineOp({
  name: "state-keys",
  role: "viewer",
  request: z.strictObject({ prefix: z.string().max(512) }),
  reply: z.strictObject({ node: z.string(), keys: z.array(z.string()) }),
  async handle({ prefix }, ctx) {
    const ref = ctx.actor<StoreMsg>((await mounts()).store);
    const keys = await ref.ask<readonly string[]>((reply) => ({ type: "keys", prefix, reply }), ASK_TIMEOUT_MS);
    return { node: ctx.config.id, keys: [...keys] };
  },
  cli: [{ group: STATE, command: "keys [prefix]", description: "keys with live values, optionally under a prefix", request: (a) => ({ prefix: a.optionalArg(0) ?? "" }) }],
  human: (k) => (k.keys.length ? k.keys.join("\n") : `(no keys on ${k.node})`),
  summary: (k) => `${k.keys.length} keys`,
});

export const stateGet = defineOp({
  name: "state-get",
  role: "viewer",
  request: z.strictObject({ key: stateKey }),
  reply: z.strictObject({ node: z.string(), key: z.string(), value: keyView.nullable() }),
  async handle({ key }, ctx) {
    const ref = ctx.actor<StoreMsg>((await mounts()).store);
    const view = await ref.ask<KeyView | undefined>((reply) => ({ type: "get", key, reply }), ASK_TIMEOUT_MS);
    return { node: ctx.config.id, key, value: view ? copyView(view) : null };
  },
  cli: [{ group: STATE, command: "get <key>", description: "a key's value as JSON", request: (a) => ({ key: a.arg(0) }) }],
  human: (g) => JSON.stringify(g.value, null, 2),
  summary: (g) => JSON.stringify(g.value),
});

/** The store's read view has read-only arrays; the reply owns its copy. */
function copyView(view: KeyView): z.output<typeof keyView> {
  return Object.fromEntries(Object.entries(view).map(([f, v]) => [f, v.type === "lww" ? { type: "lww", value: v.value, ts: { ...v.ts } } : { type: "set", values: [...v.values] }]));
}

/** Applies updates in order; every one is acknowledged by the store (published) before this returns. */
async function applyUpdates(ctx: OpContext, updates: ReadonlyArray<{ key: string; ops: readonly UpdateOp[] }>): Promise<number> {
  const store = ctx.actor<StoreMsg>((await mounts()).store);
  const results = await Promise.all(
    updates.map((u) => store.ask<{ ok: true } | { ok: false; error: string }>((reply) => ({ type: "update", key: u.key, ops: u.ops, reply }), ASK_TIMEOUT_MS)),
  );
  const failed = results.find((r): r is { ok: false; error: string } => !r.ok);
  if (failed) throw new AdminOpError(ADMIN_ERRORS.badRequest, failed.error, 400);
  return results.length;
}

/** `42`, `true`, `{"a":1}` are JSON; anything that does not parse is a string, so `state set k f hello` works. */
export function jsonArg(v: string): z.output<typeof jsonValue> {
  try {
    return jsonValue.parse(JSON.parse(v));
  } catch {
    return v;
  }
}

/** `state set|add|remove|delete <key> …`: one update of one key. */
function write(command: string, description: string, op: (a: CliInput) => z.output<typeof updateOp>): CliCommand<z.output<typeof update>> {
  return { group: STATE, command, description, request: (a) => ({ key: a.arg(0), ops: [op(a)] }) };
}

export const stateUpdate = defineOp({
  name: "state-update",
  role: "operator",
  request: update,
  ...OK_REPLY,
  async handle(u, ctx) {
    await applyUpdates(ctx, [u]);
    return { node: ctx.config.id, message: `updated ${u.key}` };
  },
  cli: [
    write("set <key> <field> <json>", "set a register field (the value is JSON; a bare word is taken as a string)", (a) => ({ op: "set", field: a.arg(1), value: jsonArg(a.arg(2)) })),
    write("add <key> <field> <json>", "add an element to a set field", (a) => ({ op: "add", field: a.arg(1), elem: jsonArg(a.arg(2)) })),
    write("remove <key> <field> <json>", "remove an element from a set field", (a) => ({ op: "remove", field: a.arg(1), elem: jsonArg(a.arg(2)) })),
    write("delete <key> [field]", "delete a field, or the whole key", (a) => {
      const field = a.optionalArg(1);
      return field ? { op: "delete-field", field } : { op: "delete-key" };
    }),
  ],
});

export const stateBatch = defineOp({
  name: "state-batch",
  role: "operator",
  request: z.strictObject({ updates: z.array(update).min(1).max(2000) }),
  ...OK_REPLY,
  async handle({ updates }, ctx) {
    return { node: ctx.config.id, message: `applied ${await applyUpdates(ctx, updates)} updates` };
  },
});

/** Gossip's ops, in `dcnet ctl --help` order. */
export const GOSSIP_OPS = [members, stateKeys, stateGet, stateUpdate, stateBatch] as const;
