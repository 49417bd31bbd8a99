import { describe, it, expect } from "@jest/globals";
import type { ActorRef, ReplyTo } from "../../supervisors/index.js";
import type { CliInput, OpContext } from "../admin/ops.js";
import type { StoreMsg } from "./index.js";
import { formatMembers, jsonArg, members, stateBatch, stateGet, stateKeys, stateUpdate, storeCounters } from "./ops.js";
import { STORE_PATH } from "./index.js";

function fakeRef<M>(path: string, answer: (m: M) => void): ActorRef<M> {
  return { path, tell: answer, ask: <R>(build: (reply: ReplyTo<R>) => M) => new Promise<R>((resolve) => answer(build(resolve))) };
}

/** A handler's context whose tree holds only the given actors (by path). */
function context(refs: Record<string, ActorRef<never>>): OpContext {
  return {
    config: { id: "n1" } as OpContext["config"],
    actor: <M>(path: string) => {
      const ref = refs[path];
      if (!ref) throw Object.assign(new Error(`${path} is not running on this node`), { code: "DCNET_E_ADMIN_UNAVAILABLE" });
      return ref as unknown as ActorRef<M>;
    },
  } as OpContext;
}

const store = (answer: (m: StoreMsg) => void) => ({ [STORE_PATH]: fakeRef<StoreMsg>(STORE_PATH, answer) as unknown as ActorRef<never> });

function input(args: string[]): CliInput {
  return { arg: (i) => args[i] ?? "", optionalArg: (i) => args[i], option: () => undefined, readText: async () => "" };
}

describe("gossip admin ops", () => {
  it("members marks self and shows states", () => {
    const text = formatMembers([
      { node: "a", incarnation: 1, state: "alive", lastHeardAt: 0, since: Date.now(), self: true },
      { node: "b", incarnation: 2, state: "dead", lastHeardAt: Date.now() - 3000, since: Date.now() - 1000, self: false },
    ]);
    expect(text).toMatch(/a \(self\)\s+alive\s+1\s+-/);
    expect(text).toMatch(/b\s+dead\s+2\s+3s ago\s+1s/);
    expect(members.summary({ node: "a", members: [{ node: "a", incarnation: 1, state: "alive", lastHeardAt: 0, since: 0, self: true }] })).toBe("a:alive");
  });

  it("state get copies the store's view into the reply; null when the key has no value", async () => {
    const view = { v: { type: "lww" as const, value: { a: [1] }, ts: { t: 1, c: 0, r: "n1@1" } }, s: { type: "set" as const, values: ["x"] } };
    const ctx = context(store((m) => (m.type === "get" ? m.reply(m.key === "k" ? view : undefined) : undefined)));
    expect(await stateGet.handle({ key: "k" }, ctx)).toEqual({ node: "n1", key: "k", value: view });
    expect(await stateGet.handle({ key: "none" }, ctx)).toEqual({ node: "n1", key: "none", value: null });
    expect(stateGet.human({ node: "n1", key: "k", value: null }, 0)).toBe("null");
  });

  it("state keys lists, or says there are none", async () => {
    const ctx = context(store((m) => (m.type === "keys" ? m.reply(m.prefix === "a/" ? ["a/1", "a/2"] : []) : undefined)));
    const reply = await stateKeys.handle({ prefix: "a/" }, ctx);
    expect(stateKeys.human(reply, 0)).toBe("a/1\na/2");
    expect(stateKeys.human(await stateKeys.handle({ prefix: "b/" }, ctx), 0)).toBe("(no keys on n1)");
  });

  it("writes are acknowledged by the store; a refused one is a bad request", async () => {
    const seen: string[] = [];
    const ctx = context(store((m) => (m.type === "update" ? (seen.push(m.key), m.reply?.(m.key === "bad" ? { ok: false, error: "no" } : { ok: true })) : undefined)));
    expect(await stateUpdate.handle({ key: "k", ops: [{ op: "set", field: "f", value: 1 }] }, ctx)).toEqual({ node: "n1", message: "updated k" });
    expect(await stateBatch.handle({ updates: [{ key: "a", ops: [{ op: "delete-key" }] }, { key: "b", ops: [{ op: "delete-key" }] }] }, ctx)).toEqual({ node: "n1", message: "applied 2 updates" });
    await expect(stateUpdate.handle({ key: "bad", ops: [{ op: "delete-key" }] }, ctx)).rejects.toMatchObject({ code: "DCNET_E_ADMIN_BAD_REQUEST", status: 400, message: "no" });
    expect(seen).toEqual(["k", "a", "b", "bad"]);
  });

  it("status gets no gossip counters (rather than an error) when the store is not running", async () => {
    expect(await storeCounters(context({}))).toBeUndefined();
  });

  it("state set|add|remove|delete build one update; a bare word is a string", async () => {
    const [set, add, remove, del] = stateUpdate.cli;
    expect(await set?.request(input(["k", "f", "42"]))).toEqual({ key: "k", ops: [{ op: "set", field: "f", value: 42 }] });
    expect(await set?.request(input(["k", "f", "hello"]))).toEqual({ key: "k", ops: [{ op: "set", field: "f", value: "hello" }] });
    expect(await add?.request(input(["k", "f", '{"a":1}']))).toEqual({ key: "k", ops: [{ op: "add", field: "f", elem: { a: 1 } }] });
    expect(await remove?.request(input(["k", "f", "true"]))).toEqual({ key: "k", ops: [{ op: "remove", field: "f", elem: true }] });
    expect(await del?.request(input(["k", "f"]))).toEqual({ key: "k", ops: [{ op: "delete-field", field: "f" }] });
    expect(await del?.request(input(["k"]))).toEqual({ key: "k", ops: [{ op: "delete-key" }] });
    expect(stateUpdate.cli.map((c) => `${c.group?.word} ${c.command}`)).toEqual(["state set <key> <field> <json>", "state add <key> <field> <json>", "state remove <key> <field> <json>", "state delete <key> [field]"]);
    expect(stateBatch.cli).toEqual([]);
    expect(jsonArg("[1,2]")).toEqual([1, 2]);
  });
});
