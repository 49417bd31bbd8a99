import { describe, expect, it } from "@jest/globals";
import { startTree, supervisor, worker } from "./index.js";
import { journal, recording, sleep, type Msg } from "../testkit/supervisors.js";
import type { Behaviour } from "./types.js";

describe("shutdown - ordered and bounded", () => {
  it("stops children in reverse start order, depth first, then resolves done", async () => {
    const j = journal();
    const tree = await startTree(
      supervisor("root", "one_for_one", [
        worker("a", recording("a", j)),
        supervisor("sub", "one_for_all", [worker("x", recording("x", j)), worker("y", recording("y", j))]),
        worker("b", recording("b", j)),
      ]),
      { onEvent: j.onEvent },
    );
    const mark = j.lines.length;
    await tree.shutdown();
    expect(j.since(mark)).toEqual(["terminate:b:shutdown", "terminate:y:shutdown", "terminate:x:shutdown", "terminate:a:shutdown"]);
    expect(await tree.done).toEqual({ reason: "shutdown" });
    const stopped = j.events.filter((e) => e.type === "stopped").map((e) => e.path);
    expect(stopped).toEqual(["/root/b", "/root/sub/y", "/root/sub/x", "/root/sub", "/root/a", "/root"]);
    expect(tree.stats().every((s) => s.status === "stopped" && s.uptimeMs === 0)).toBe(true);
  });

  it("a terminate that hangs is abandoned after shutdownMs and the next sibling still stops", async () => {
    const j = journal();
    const hung: Behaviour<number, Msg> = {
      ...recording("hung", j),
      terminate: () => {
        j.lines.push("terminate:hung:begin");
        return new Promise<void>(() => undefined);
      },
    };
    const tree = await startTree(
      supervisor("root", "one_for_one", [worker("a", recording("a", j)), worker("hung", hung, { shutdownMs: 100 }), worker("c", recording("c", j))]),
      { onEvent: j.onEvent },
    );
    const mark = j.lines.length;
    const t0 = Date.now();
    await tree.shutdown();
    const elapsed = Date.now() - t0;
    expect(j.since(mark)).toEqual(["terminate:c:shutdown", "terminate:hung:begin", "terminate:a:shutdown"]);
    expect(elapsed).toBeGreaterThanOrEqual(95);
    expect(elapsed).toBeLessThan(1500);
    expect(j.events).toContainEqual({ type: "terminate-timeout", path: "/root/hung", shutdownMs: 100 });
  });

  it("waits for the handler in flight, then terminates with the state it returned", async () => {
    const j = journal();
    const slow: Behaviour<number, Msg> = {
      ...recording("slow", j),
      handle: async (n) => {
        await sleep(60);
        return n + 41;
      },
      terminate: (n, reason) => void j.lines.push(`terminate:slow:${reason.kind}:${n}`),
    };
    const tree = await startTree(supervisor("root", "one_for_one", [worker("slow", slow)]));
    tree.lookup<Msg>("/root/slow")?.tell({ type: "inc" });
    tree.lookup<Msg>("/root/slow")?.tell({ type: "inc" });
    await sleep(10);
    await tree.shutdown();
    // The second message was still queued: it is dropped, not handled.
    expect(j.lines).toEqual(["init:slow", "terminate:slow:shutdown:41"]);
    expect(tree.stats().find((s) => s.path === "/root/slow")?.dropped).toBe(1);
  });

  it("a supervisor's shutdownMs bounds its whole subtree", async () => {
    const j = journal();
    const hung: Behaviour<number, Msg> = { ...recording("hung", j), terminate: () => new Promise<void>(() => undefined) };
    const tree = await startTree(
      supervisor("root", "one_for_one", [
        worker("a", recording("a", j)),
        supervisor("sub", "one_for_one", [worker("hung", hung, { shutdownMs: 10_000 })], { shutdownMs: 80 }),
      ]),
      { onEvent: j.onEvent },
    );
    const t0 = Date.now();
    await tree.shutdown();
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(j.lines.at(-1)).toBe("terminate:a:shutdown");
    expect(j.events).toContainEqual({ type: "terminate-timeout", path: "/root/sub", shutdownMs: 80 });
    expect(tree.stats().every((s) => s.status === "stopped")).toBe(true);
  });

  it("shutdown is idempotent", async () => {
    const j = journal();
    const tree = await startTree(supervisor("root", "one_for_one", [worker("a", recording("a", j))]));
    await Promise.all([tree.shutdown(), tree.shutdown()]);
    await tree.shutdown();
    expect(j.lines).toEqual(["init:a", "terminate:a:shutdown"]);
  });
});
