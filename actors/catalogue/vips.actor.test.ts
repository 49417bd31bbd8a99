// The VIP view against a stand-in store: what it makes of task records written by this version, by a
// newer one (unknown fields kept, counted), and of records that are not valid tasks (skipped, counted).
import { afterEach, describe, expect, it } from "@jest/globals";
import { pino } from "pino";
import { Registry } from "prom-client";
import { startTree, supervisor, worker, type ActorRef, type Tree } from "../../supervisors/index.js";
import type { KeyView, StoreMsg, Value, WatchEvent } from "../gossip/index.js";
import { TASK_RECORD_VERSION, type Task } from "./model.js";
import { vipsBehaviour, type VipsMsg, type VipTable } from "./vips.actor.js";

const web: Task = { id: "web-1", name: "web", framework: "demo", runtime: "native", agentIp: "10.0.0.5", taskIps: ["10.0.0.5"], state: "running", ports: [{ name: "http", protocol: "tcp", port: 8080, vips: ["/web:80"] }] };
const view = (task: object): KeyView => ({ task: { type: "lww", value: task as Value, ts: { t: 1, c: 0, r: "node-b@1" } } }) as KeyView;

/** A store that answers the view's watch with `initial` and lets the test send later events. */
function fakeStore(initial: WatchEvent[]): { ref: ActorRef<StoreMsg>; emit: (ev: WatchEvent) => void } {
  let subscriber: ((ev: WatchEvent) => void) | undefined;
  const ref: ActorRef<StoreMsg> = {
    path: "/node/gossip/store",
    tell: () => undefined,
    ask: async <R>(build: (reply: (r: R) => void) => StoreMsg): Promise<R> => {
      let out: R | undefined;
      const msg = build((r) => (out = r));
      if (msg.type === "watch") {
        subscriber = msg.subscriber;
        for (const ev of initial) msg.subscriber(ev);
        msg.reply(1 as never);
      }
      return out as R;
    },
  };
  return { ref, emit: (ev) => subscriber?.(ev) };
}

let tree: Tree | undefined;
afterEach(async () => {
  await tree?.shutdown();
  tree = undefined;
});

async function start(initial: WatchEvent[]) {
  const metrics = new Registry();
  const store = fakeStore(initial);
  tree = await startTree(supervisor("node", "one_for_one", [worker("vips", vipsBehaviour({ logger: pino({ level: "silent" }), metrics, store: () => store.ref }))]));
  const vips = tree.lookup<VipsMsg>("/node/vips") as ActorRef<VipsMsg>;
  const tasks = () => vips.ask<ReadonlyArray<{ owner: string; task: Task }>>((reply) => ({ type: "tasks", reply }), 1000);
  const table = () => vips.ask<VipTable>((reply) => ({ type: "table", reply }), 1000);
  const read = async (outcome: string) => (await metrics.getSingleMetric("dcnet_catalogue_task_records_read_total")?.get())?.values.find((v) => v.labels.outcome === outcome)?.value ?? 0;
  const watch = async () => {
    const got: Array<{ table: VipTable; changed: ReadonlySet<string> | undefined }> = [];
    await vips.ask<number>((reply) => ({ type: "watch", subscriber: (t, changed) => void got.push({ table: t, changed }), reply }), 1000);
    return got;
  };
  return { ...store, tasks, table, read, watch };
}

describe("vips actor: task records across versions", () => {
  it("a newer writer's record is read by its known fields, keeps the others, gives its VIP backends, and is counted as newer", async () => {
    const newer = { ...web, v: TASK_RECORD_VERSION + 1, labels2: { tier: "web" }, ports: [{ ...web.ports[0], weight: 7 }] };
    const v = await start([{ key: "tasks/node-b/native/web-1", value: view(newer), initial: true }]);
    expect(await v.tasks()).toEqual([{ owner: "node-b", task: newer }]);
    expect([...(await v.table())]).toEqual([["tcp:/web:80@demo", [{ owner: "node-b", taskId: "web-1", agentIp: "10.0.0.5", ip: "10.0.0.5", port: 8080, weight: 1 }]]]);
    expect(await v.read("newer")).toBe(1);
    expect(await v.read("current")).toBe(0);
  });

  it("a wrong type of a known field skips the record and counts it; a later valid write takes its place", async () => {
    const v = await start([
      { key: "tasks/node-a/native/web-1", value: view(web), initial: true },
      { key: "tasks/node-b/native/bad", value: view({ ...web, id: "bad", state: 42 }), initial: true },
    ]);
    expect((await v.tasks()).map((t) => t.task.id)).toEqual(["web-1"]);
    expect([await v.read("current"), await v.read("invalid")]).toEqual([1, 1]);
    v.emit({ key: "tasks/node-b/native/bad", value: view({ ...web, id: "bad" }), initial: false });
    expect((await v.tasks()).map((t) => t.task.id)).toEqual(["web-1", "bad"]);
    v.emit({ key: "tasks/node-b/native/bad", value: undefined, initial: false });
    expect((await v.tasks()).map((t) => t.task.id)).toEqual(["web-1"]);
    expect([await v.read("current"), await v.read("invalid")]).toEqual([2, 1]);
  });
});

describe("vips actor: watchers get the table and the keys that changed", () => {
  const api: Task = { ...web, id: "api-1", name: "api", taskIps: ["10.0.0.6"], ports: [{ name: "http", protocol: "tcp", port: 9090, vips: ["/api:80"] }] };

  it("first the whole table (changed undefined), then per change only its VIP keys, the other keys' backend arrays kept, older tables untouched", async () => {
    const v = await start([
      { key: "tasks/node-a/native/web-1", value: view(web), initial: true },
      { key: "tasks/node-a/native/api-1", value: view(api), initial: true },
    ]);
    const got = await v.watch();
    expect(got).toHaveLength(1);
    expect(got[0]?.changed).toBeUndefined();
    const first = got[0]?.table as VipTable;
    expect([...first.keys()]).toEqual(["tcp:/api:80@demo", "tcp:/web:80@demo"]);

    v.emit({ key: "tasks/node-a/native/web-1", value: view({ ...web, state: "killing" }), initial: false });
    await v.table();
    expect(got).toHaveLength(2);
    expect([...(got[1]?.changed ?? [])]).toEqual(["tcp:/web:80@demo"]);
    const second = got[1]?.table as VipTable;
    expect(second.get("tcp:/web:80@demo")?.map((b) => b.weight)).toEqual([0]);
    expect(second.get("tcp:/api:80@demo")).toBe(first.get("tcp:/api:80@demo"));
    expect(first.get("tcp:/web:80@demo")?.map((b) => b.weight)).toEqual([1]);

    v.emit({ key: "tasks/node-a/native/api-1", value: undefined, initial: false });
    v.emit({ key: "tasks/node-b/native/db-1", value: view({ ...web, id: "db-1", ports: [{ name: "pg", protocol: "tcp", port: 5432, vips: ["/db:5432"] }] }), initial: false });
    await v.table();
    expect(got).toHaveLength(3);
    expect([...(got[2]?.changed ?? [])].sort()).toEqual(["tcp:/api:80@demo", "tcp:/db:5432@demo"]);
    expect([...(got[2]?.table.keys() ?? [])]).toEqual(["tcp:/db:5432@demo", "tcp:/web:80@demo"]);
  });

  it("a task rewritten with the same backends (another task name, a new port without a VIP) is not a new table", async () => {
    const v = await start([{ key: "tasks/node-a/native/web-1", value: view(web), initial: true }]);
    const got = await v.watch();
    v.emit({ key: "tasks/node-a/native/web-1", value: view({ ...web, name: "web2", ports: [...web.ports, { name: "admin", protocol: "tcp", port: 8081, vips: [] }] }), initial: false });
    await v.table();
    expect(got).toHaveLength(1);
  });
});
