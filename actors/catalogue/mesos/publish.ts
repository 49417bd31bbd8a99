// What the Mesos sources share: writing a task list into the store as this node's facts (only the
// difference from what was written before), and resolving agent hostnames for the converter.
import { lookup } from "node:dns/promises";
import { isIP } from "node:net";
import type { Logger } from "pino";
import type { Registry } from "prom-client";
import type { ActorRef } from "../../../supervisors/index.js";
import type { Config } from "../../../config/index.js";
import type { StoreMsg, UpdateOp } from "../../gossip/index.js";
import type { Task } from "../model.js";
import { taskKey, type TaskSource } from "../keys.js";
import { taskUpdateOps, writeAll, type WriteFn } from "../store-writer.js";
import type { MesosState } from "../convert/mesos-state.js";

/** What a Mesos source actor is given at spawn. */
export interface MesosSourceDeps {
  readonly nodeId: string;
  readonly config: Config["mesos"];
  readonly logger: Logger;
  readonly metrics: Registry;
  readonly store: () => ActorRef<StoreMsg> | undefined;
}

/** Writes new and changed tasks, deletes the ones that are gone; one store update per task. */
export async function publishTasks(written: Map<string, string>, tasks: readonly Task[], write: WriteFn, nodeId: string, source: TaskSource): Promise<void> {
  const seen = new Set<string>();
  const updates: Array<[string, UpdateOp[]]> = [];
  const after = new Map<string, string | undefined>();
  for (const task of tasks) {
    seen.add(task.id);
    const json = JSON.stringify(task);
    if (written.get(task.id) === json) continue;
    updates.push([taskKey(nodeId, task.id, source), taskUpdateOps({ task })]);
    after.set(task.id, json);
  }
  for (const id of written.keys()) {
    if (seen.has(id)) continue;
    updates.push([taskKey(nodeId, id, source), taskUpdateOps("delete")]);
    after.set(id, undefined);
  }
  await writeAll(write, updates);
  for (const [id, json] of after) {
    if (json === undefined) written.delete(id);
    else written.set(id, json);
  }
}

/** Agent hostnames that are names, resolved once per poll (the converter is synchronous). */
export async function hostResolver(mesos: MesosState): Promise<(host: string) => string | undefined> {
  const names = new Set<string>();
  for (const a of mesos.agents) {
    const host = (a as { agent_info?: { hostname?: unknown } }).agent_info?.hostname;
    if (typeof host === "string" && isIP(host) === 0) names.add(host);
  }
  const resolved = new Map<string, string>();
  await Promise.all(
    [...names].map(async (n) => {
      const r = await lookup(n, { family: 4 }).catch(() => undefined);
      if (r) resolved.set(n, r.address);
    }),
  );
  return (host) => resolved.get(host);
}

