import { describe, expect, it } from "@jest/globals";
import { AskTimeoutError, ActorStoppedError, HandlerDeadlineError, startTree, supervisor, worker, type Tree } from "./index.js";
import { journal, recording, sleep, waitFor, type Journal, type Msg } from "../testkit/supervisors.js";
import type { ActorContext, ActorStats, Behaviour } from "./types.js";

async function one(behaviour: Behaviour<number, Msg>, j: Journal, handlerDeadlineMs?: number): Promise<Tree> {
  return startTree(supervisor("root", "one_for_one", [worker("w", behaviour)], { intensity: 10 }), {
    onEvent: j.onEvent,
    ...(handlerDeadlineMs === undefined ? {} : { handlerDeadlineMs }),
  });
}

const statsOf = (tree: Tree, path = "/root/w"): ActorStats | undefined => tree.stats().find((s) => s.path === path);
const ping = (tree: Tree, path = "/root/w"): Promise<number> =>
  tree.lookup<Msg>(path)?.ask<number>((reply) => ({ type: "ping", reply }), 1000) ?? Promise.reject(new Error("no ref"));

async function crashedWith(tree: Tree, j: Journal, send: Msg): Promise<Error> {
  const before = j.events.length;
  tree.lookup<Msg>("/root/w")?.tell(send);
  await waitFor(() => j.events.slice(before).some((e) => e.type === "restarted"), "restart");
  const crash = j.events.slice(before).find((e) => e.type === "crashed");
  if (crash?.type !== "crashed") throw new Error("no crash event");
  return crash.error;
}

describe("worker - what counts as a crash", () => {
  it("a thrown error", async () => {
    const j = journal();
    const tree = await one(recording("w", j), j);
    expect((await crashedWith(tree, j, { type: "boom" })).message).toBe("boom in w");
    expect(statsOf(tree)).toMatchObject({ restarts: 1, status: "running", lastError: { message: "boom in w" } });
    await tree.shutdown();
  });

  it("a rejected promise", async () => {
    const j = journal();
    const tree = await one({ ...recording("w", j), handle: async (n) => Promise.reject(new Error("async no")).then(() => n) }, j);
    expect((await crashedWith(tree, j, { type: "inc" })).message).toBe("async no");
    await tree.shutdown();
  });

  it("a handler that exceeds its deadline, after which the new incarnation serves messages", async () => {
    const j = journal();
    let hang = true;
    const behaviour: Behaviour<number, Msg> = {
      ...recording("w", j),
      handle: (n, msg) => {
        if (msg.type === "ping") msg.reply(n);
        if (msg.type === "inc" && hang) return new Promise<number>(() => undefined);
        return n;
      },
      handlerDeadlineMs: 40,
    };
    const tree = await one(behaviour, j, 60_000);
    const t0 = Date.now();
    const err = await crashedWith(tree, j, { type: "inc" });
    expect(err).toBeInstanceOf(HandlerDeadlineError);
    expect(err).toMatchObject({ code: "DCNET_E_HANDLER_DEADLINE", name: "HandlerDeadlineError" });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(40);
    hang = false;
    await expect(ping(tree)).resolves.toBe(0);
    await tree.shutdown();
  });

  it("the tree-wide default deadline applies when the behaviour sets none", async () => {
    const j = journal();
    const tree = await one({ ...recording("w", j), handle: () => new Promise<number>(() => undefined) }, j, 30);
    expect(await crashedWith(tree, j, { type: "inc" })).toBeInstanceOf(HandlerDeadlineError);
    await tree.shutdown();
  });

  it("ctx.fail from a timer; a timer of an old incarnation cannot crash the new one", async () => {
    const j = journal();
    const contexts: ActorContext<Msg>[] = [];
    const tree = await one({ ...recording("w", j), init: (ctx) => (contexts.push(ctx), 0) }, j);
    setTimeout(() => contexts[0]?.fail(new Error("timer says no")), 5);
    await waitFor(() => contexts.length === 2, "restart");
    expect(statsOf(tree)?.lastError?.message).toBe("timer says no");
    contexts[0]?.fail(new Error("stale"));
    await sleep(30);
    expect(statsOf(tree)).toMatchObject({ restarts: 1, status: "running", lastError: { message: "timer says no" } });
    await tree.shutdown();
  });

  it("tree.crash injects a crash into a running worker", async () => {
    const j = journal();
    const tree = await one(recording("w", j), j);
    const before = j.events.length;
    expect(tree.crash("/root/w", "chaos")).toBe(true);
    await waitFor(() => j.events.slice(before).some((e) => e.type === "restarted"), "restart");
    expect(statsOf(tree)?.lastError?.message).toBe("/root/w: chaos");
    await tree.shutdown();
  });
});

describe("worker - mailbox, stats and refs", () => {
  it("a restarted worker keeps its queued messages, except the one that crashed", async () => {
    const j = journal();
    const seen: string[] = [];
    const tree = await one(
      {
        ...recording("w", j),
        handle: (n, msg) => {
          seen.push(msg.type);
          if (msg.type === "boom") throw new Error("boom");
          if (msg.type === "ping") msg.reply(n);
          return msg.type === "inc" ? n + 1 : n;
        },
      },
      j,
    );
    const ref = tree.lookup<Msg>("/root/w");
    ref?.tell({ type: "inc" });
    ref?.tell({ type: "boom" });
    ref?.tell({ type: "inc" });
    ref?.tell({ type: "inc" });
    // Fresh state after the restart, then the two queued incs: 2, not 3 and not 0.
    await expect(ping(tree)).resolves.toBe(2);
    expect(seen).toEqual(["inc", "boom", "inc", "inc", "ping"]);
    await tree.shutdown();
  });

  it("stats report restarts, last error, uptime and a mailbox counted by us", async () => {
    const j = journal();
    let release!: () => void;
    const blocked = new Promise<void>((r) => (release = r));
    const tree = await one(
      {
        ...recording("w", j),
        handle: async (n, msg) => {
          if (msg.type === "boom") throw new Error("boom in w");
          if (msg.type === "inc") await blocked;
          return n + 1;
        },
      },
      j,
    );
    const ref = tree.lookup<Msg>("/root/w");
    for (let i = 0; i < 5; i++) ref?.tell({ type: "inc" });
    await waitFor(() => statsOf(tree)?.mailbox === 4, "one message in the handler, four queued");
    release();
    await waitFor(() => statsOf(tree)?.mailbox === 0, "mailbox drained");
    await sleep(15);
    const s = statsOf(tree);
    expect(s).toMatchObject({ kind: "worker", status: "running", restarts: 0, mailbox: 0, dropped: 0 });
    expect(s?.uptimeMs).toBeGreaterThanOrEqual(10);
    await crashedWith(tree, j, { type: "boom" });
    const after = statsOf(tree);
    expect(after).toMatchObject({ restarts: 1, lastError: { message: "boom in w" } });
    expect(after?.lastError?.at).toBeGreaterThan(Date.now() - 1000);
    expect(after?.uptimeMs).toBeLessThan(s?.uptimeMs ?? 0);
    expect(tree.stats().map((x) => x.path)).toEqual(["/root", "/root/w"]);
    await tree.shutdown();
  });

  it("lookup returns the same ref across restarts, and it reaches the new incarnation", async () => {
    const j = journal();
    const tree = await one(recording("w", j), j);
    const ref = tree.lookup<Msg>("/root/w");
    ref?.tell({ type: "inc" });
    await expect(ping(tree)).resolves.toBe(1);
    await crashedWith(tree, j, { type: "boom" });
    expect(tree.lookup<Msg>("/root/w")).toBe(ref);
    ref?.tell({ type: "inc" });
    await expect(ref?.ask<number>((reply) => ({ type: "ping", reply }), 1000)).resolves.toBe(1);
    expect(tree.lookup("/root")).toBeUndefined();
    expect(tree.lookup("/root/nope")).toBeUndefined();
    await tree.shutdown();
  });

  it("ask rejects with a typed timeout error when no reply comes", async () => {
    const j = journal();
    const tree = await one({ ...recording("w", j), handle: (n) => n }, j);
    const ref = tree.lookup<Msg>("/root/w");
    const t0 = Date.now();
    const err = await ref?.ask<number>((reply) => ({ type: "ping", reply }), 50).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AskTimeoutError);
    expect(err).toMatchObject({ code: "DCNET_E_ASK_TIMEOUT", path: "/root/w", timeoutMs: 50 });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(45);
    await tree.shutdown();
  });

  it("messages to a stopped actor are counted as dropped; ask fails at once", async () => {
    const j = journal();
    const tree = await one(recording("w", j), j);
    const ref = tree.lookup<Msg>("/root/w");
    await tree.shutdown();
    ref?.tell({ type: "inc" });
    ref?.tell({ type: "inc" });
    expect(statsOf(tree)).toMatchObject({ status: "stopped", dropped: 2, mailbox: 0 });
    await expect(ref?.ask((reply) => ({ type: "ping", reply }), 1000)).rejects.toBeInstanceOf(ActorStoppedError);
  });
});
