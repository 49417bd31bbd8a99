import { describe, expect, it } from "@jest/globals";
import type { ActorRef } from "../../supervisors/index.js";
import { StoreUnavailableError, UpdateRefusedError, type StoreMsg, type UpdateResult } from "../gossip/index.js";
import { TASK_RECORD_VERSION, type Task } from "./model.js";
import { storeWriter, taskUpdateOps } from "./store-writer.js";

const task: Task = { id: "web-1", name: "web", framework: "demo", runtime: "native", agentIp: "10.0.0.5", taskIps: ["10.0.0.5"], state: "running", ports: [] };

/** A store that answers every update with `result` and records what it was asked. */
function fakeStore(result: UpdateResult): { ref: ActorRef<StoreMsg>; asked: StoreMsg[] } {
  const asked: StoreMsg[] = [];
  const ref: ActorRef<StoreMsg> = {
    path: "/node/gossip/store",
    tell: (m) => void asked.push(m),
    ask: async <R>(build: (reply: (r: R) => void) => StoreMsg): Promise<R> => {
      let out: R | undefined;
      const msg = build((r) => (out = r));
      asked.push(msg);
      if (msg.type === "update") msg.reply?.(result);
      return out as R;
    },
  };
  return { ref, asked };
}

describe("taskUpdateOps", () => {
  it("stores the whole task as one register, plain JSON: absent optional fields dropped, unknown fields kept", () => {
    const relayed = { ...task, healthy: undefined, future: { tier: "web" } } as Task;
    const ops = taskUpdateOps({ task: relayed });
    expect(ops).toEqual([{ op: "set", field: "task", value: { ...task, future: { tier: "web" }, v: TASK_RECORD_VERSION } }]);
    expect(Object.keys((ops[0] as { value: object }).value)).not.toContain("healthy");
  });

  it("records are stamped with the version this node writes (absent = 1, the records of before versions)", () => {
    expect(TASK_RECORD_VERSION).toBe(3);
    expect((taskUpdateOps({ task })[0] as { value: object }).value).toHaveProperty("v", 3);
  });

  it("a removal deletes the key", () => {
    expect(taskUpdateOps("delete")).toEqual([{ op: "delete-key" }]);
  });
});

describe("storeWriter", () => {
  it("sends one update with the ops and the trace, and resolves once the store accepted it", async () => {
    const { ref, asked } = fakeStore({ ok: true });
    await storeWriter(() => ref)("tasks/a/native/web-1", taskUpdateOps({ task }), { traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01" });
    expect(asked).toHaveLength(1);
    expect(asked[0]).toMatchObject({ type: "update", key: "tasks/a/native/web-1", ops: taskUpdateOps({ task }), trace: { traceparent: expect.any(String) } });
  });

  it("a refusal is an UpdateRefusedError carrying the key and the store's reason", async () => {
    const { ref } = fakeStore({ ok: false, error: "key tasks/x would exceed the per-key limits" });
    const err = await storeWriter(() => ref)("tasks/x", [{ op: "delete-key" }]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UpdateRefusedError);
    expect(err).toMatchObject({ code: "DCNET_E_STORE_UPDATE_REFUSED", key: "tasks/x", reason: "key tasks/x would exceed the per-key limits" });
  });

  it("no store running is a StoreUnavailableError", async () => {
    await expect(storeWriter(() => undefined)("k", [{ op: "delete-key" }])).rejects.toBeInstanceOf(StoreUnavailableError);
  });
});
