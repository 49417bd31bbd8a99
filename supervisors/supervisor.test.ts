import { describe, expect, it } from "@jest/globals";
import { startTree, supervisor, worker, type Tree } from "./index.js";
import { journal, recording, sleep, waitFor, type Journal, type Msg } from "../testkit/supervisors.js";
import type { Behaviour, RestartType, Strategy } from "./types.js";

function flat(strategy: Strategy, names: string[], j: Journal) {
  return supervisor("root", strategy, names.map((n) => worker(n, recording(n, j))));
}

async function crashAndSettle(tree: Tree, path: string, j: Journal, expectedLines: number): Promise<string[]> {
  const mark = j.lines.length;
  tree.lookup<Msg>(path)?.tell({ type: "boom" });
  await waitFor(() => j.lines.length >= mark + expectedLines, `${expectedLines} lines after crashing ${path}`);
  await sleep(20); // nothing more may happen
  return j.since(mark);
}

describe("supervisor - strategies restart the right children in the right order", () => {
  it("starts children in spec order, each init finishing before the next starts", async () => {
    const j = journal();
    const slow = (name: string): Behaviour<number, Msg> => ({
      ...recording(name, j),
      init: async () => {
        j.lines.push(`init-begin:${name}`);
        await sleep(20);
        j.lines.push(`init-end:${name}`);
        return 0;
      },
    });
    const tree = await startTree(supervisor("root", "one_for_one", [worker("a", slow("a")), worker("b", slow("b"))]));
    expect(j.lines).toEqual(["init-begin:a", "init-end:a", "init-begin:b", "init-end:b"]);
    await tree.shutdown();
  });

  it("one_for_one restarts only the crashed child", async () => {
    const j = journal();
    const tree = await startTree(flat("one_for_one", ["a", "b", "c"], j));
    expect(await crashAndSettle(tree, "/root/b", j, 2)).toEqual(["terminate:b:crash", "init:b"]);
    await tree.shutdown();
  });

  it("one_for_all stops the others in reverse start order, then starts all in order", async () => {
    const j = journal();
    const tree = await startTree(flat("one_for_all", ["a", "b", "c"], j));
    expect(await crashAndSettle(tree, "/root/b", j, 6)).toEqual([
      "terminate:b:crash",
      "terminate:c:shutdown",
      "terminate:a:shutdown",
      "init:a",
      "init:b",
      "init:c",
    ]);
    await tree.shutdown();
  });

  it("rest_for_one restarts the crashed child and the ones started after it", async () => {
    const j = journal();
    const tree = await startTree(flat("rest_for_one", ["a", "b", "c", "d"], j));
    expect(await crashAndSettle(tree, "/root/b", j, 6)).toEqual([
      "terminate:b:crash",
      "terminate:d:shutdown",
      "terminate:c:shutdown",
      "init:b",
      "init:c",
      "init:d",
    ]);
    await tree.shutdown();
  });

  it("a restarted child supervisor restarts its whole subtree with fresh children", async () => {
    const j = journal();
    const tree = await startTree(
      supervisor("root", "rest_for_one", [
        worker("a", recording("a", j)),
        supervisor("sub", "one_for_one", [worker("x", recording("x", j)), worker("y", recording("y", j))]),
      ]),
    );
    expect(await crashAndSettle(tree, "/root/a", j, 6)).toEqual([
      "terminate:a:crash",
      "terminate:y:shutdown",
      "terminate:x:shutdown",
      "init:a",
      "init:x",
      "init:y",
    ]);
    expect(tree.stats().find((s) => s.path === "/root/sub")?.restarts).toBe(1);
    await tree.shutdown();
  });
});

describe("supervisor - restart types", () => {
  async function single(restart: RestartType, j: Journal, extra: Partial<Behaviour<number, Msg>> = {}): Promise<Tree> {
    return startTree(supervisor("root", "one_for_one", [worker("w", recording("w", j, extra), { restart }), worker("other", recording("other", j))]));
  }

  it("a temporary child that crashes is not restarted, and later messages are dropped", async () => {
    const j = journal();
    const tree = await single("temporary", j);
    expect(await crashAndSettle(tree, "/root/w", j, 1)).toEqual(["terminate:w:crash"]);
    const w = () => tree.stats().find((s) => s.path === "/root/w");
    expect(w()).toMatchObject({ status: "stopped", restarts: 0, lastError: { message: "boom in w" } });
    tree.lookup<Msg>("/root/w")?.tell({ type: "inc" });
    expect(w()?.dropped).toBe(1);
    await tree.shutdown();
  });

  it("a transient child that stops normally is not restarted", async () => {
    const j = journal();
    const stopper: Partial<Behaviour<number, Msg>> = {
      handle: (n, _msg, ctx) => {
        ctx.stopNormal();
        return n;
      },
    };
    const tree = await single("transient", j, stopper);
    const mark = j.lines.length;
    tree.lookup<Msg>("/root/w")?.tell({ type: "inc" });
    await waitFor(() => j.lines.length > mark, "terminate");
    await sleep(30);
    expect(j.since(mark)).toEqual(["terminate:w:normal"]);
    expect(tree.stats().find((s) => s.path === "/root/w")).toMatchObject({ status: "stopped", restarts: 0 });
    await tree.shutdown();
  });

  it("a transient child may end normally from init (its job was already done)", async () => {
    const j = journal();
    const tree = await startTree(supervisor("root", "one_for_one", [worker("once", { ...recording("once", j), init: (ctx) => (ctx.stopNormal(), 0) }, { restart: "transient" })]), {
      onEvent: j.onEvent,
    });
    await waitFor(() => j.lines.includes("terminate:once:normal"), "normal exit");
    await sleep(20);
    expect(j.events).toContainEqual({ type: "stopped", path: "/root/once", reason: "normal" });
    expect(tree.stats().find((s) => s.path === "/root/once")).toMatchObject({ status: "stopped", restarts: 0 });
    await tree.shutdown();
  });

  it("a transient child that crashes is restarted", async () => {
    const j = journal();
    const tree = await single("transient", j);
    expect(await crashAndSettle(tree, "/root/w", j, 2)).toEqual(["terminate:w:crash", "init:w"]);
    expect(tree.stats().find((s) => s.path === "/root/w")).toMatchObject({ status: "running", restarts: 1 });
    await tree.shutdown();
  });

  it("a permanent child that stops normally is restarted", async () => {
    const j = journal();
    const tree = await single("permanent", j, { handle: (n, _m, ctx) => (ctx.stopNormal(), n) });
    const mark = j.lines.length;
    tree.lookup<Msg>("/root/w")?.tell({ type: "inc" });
    await waitFor(() => j.lines.length >= mark + 2, "restart");
    expect(j.since(mark)).toEqual(["terminate:w:normal", "init:w"]);
    await tree.shutdown();
  });
});

describe("supervisor - restart intensity and escalation", () => {
  /** A worker that crashes 5 ms after every start: a crash loop without any sender. */
  const looping = (j: Journal): Behaviour<number, Msg> => ({
    ...recording("loop", j),
    init: (ctx) => {
      j.lines.push("init:loop");
      setTimeout(() => ctx.fail(new Error("loop crashed")), 5);
      return 0;
    },
  });

  it("escalates through every supervisor to the root; onGiveUp names the crash-looping worker once", async () => {
    const j = journal();
    const giveUps: { path: string; error: Error }[] = [];
    const tree = await startTree(
      supervisor(
        "root",
        "one_for_one",
        [
          worker("steady", recording("steady", j)),
          supervisor("mid", "one_for_one", [worker("sibling", recording("sibling", j)), worker("loop", looping(j))], { intensity: 2, periodMs: 10_000 }),
        ],
        { intensity: 1, periodMs: 10_000 },
      ),
      { onEvent: j.onEvent, onGiveUp: (info) => void giveUps.push(info) },
    );
    const end = await tree.done;
    expect(end).toEqual({ reason: "gave-up", path: "/root/mid/loop" });
    expect(giveUps).toHaveLength(1);
    expect(giveUps[0]?.path).toBe("/root/mid/loop");
    expect(giveUps[0]?.error.message).toBe("loop crashed");
    // mid gave up twice (3 crashes each), root once; each give-up names the looping worker.
    const gaveUp = j.events.filter((e) => e.type === "gave-up");
    expect(gaveUp.map((e) => e.path)).toEqual(["/root/mid", "/root/mid", "/root"]);
    expect(gaveUp.every((e) => e.type === "gave-up" && e.origin === "/root/mid/loop")).toBe(true);
    expect(j.lines.filter((l) => l === "init:loop")).toHaveLength(6);
    // When mid gives up it stops its other child; at the end the root stopped everything, in reverse order.
    expect(j.lines.slice(-3)).toEqual(["terminate:loop:crash", "terminate:sibling:shutdown", "terminate:steady:shutdown"]);
    expect(tree.stats().every((s) => s.status === "stopped")).toBe(true);
    await tree.shutdown(); // a no-op after giving up
  });

  it("an init that always throws is retried within intensity, then escalates instead of looping", async () => {
    const j = journal();
    let inits = 0;
    const broken: Behaviour<number, Msg> = {
      ...recording("broken", j),
      init: () => {
        inits++;
        throw new Error("cannot start");
      },
    };
    const giveUps: string[] = [];
    const tree = await startTree(supervisor("root", "one_for_one", [worker("ok", recording("ok", j)), worker("broken", broken)], { intensity: 3 }), {
      onGiveUp: ({ path }) => void giveUps.push(path),
    });
    expect(await tree.done).toEqual({ reason: "gave-up", path: "/root/broken" });
    expect(inits).toBe(4); // the first start + 3 restarts
    expect(giveUps).toEqual(["/root/broken"]);
    expect(j.lines).toEqual(["init:ok", "terminate:ok:shutdown"]);
    expect(tree.stats().find((s) => s.path === "/root/broken")).toMatchObject({ restarts: 3, lastError: { message: "cannot start" } });
  });

  it("crashes spread over more than the period never give up", async () => {
    const j = journal();
    const tree = await startTree(supervisor("root", "one_for_one", [worker("w", recording("w", j))], { intensity: 1, periodMs: 40 }), {
      onGiveUp: () => j.lines.push("gave up"),
    });
    for (let i = 0; i < 4; i++) {
      await crashAndSettle(tree, "/root/w", j, 2);
      await sleep(50);
    }
    expect(j.lines).not.toContain("gave up");
    expect(tree.stats().find((s) => s.path === "/root/w")?.restarts).toBe(4);
    await tree.shutdown();
  });

  it("tree.crash on a supervisor crashes its subtree and counts against its parent", async () => {
    const j = journal();
    const tree = await startTree(
      supervisor("root", "one_for_one", [supervisor("sub", "one_for_one", [worker("x", recording("x", j)), worker("y", recording("y", j))])], { intensity: 0 }),
      { onEvent: j.onEvent },
    );
    expect(tree.crash("/root/sub", "test")).toBe(true);
    expect(await tree.done).toEqual({ reason: "gave-up", path: "/root/sub" });
    expect(j.lines.slice(-2)).toEqual(["terminate:y:shutdown", "terminate:x:shutdown"]);
    expect(tree.crash("/root/nope")).toBe(false);
  });
});
