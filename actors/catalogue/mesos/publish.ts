// What the Mesos sources share: writing a task list into the store as this node's facts (only the
// difference from what was written before), and resolving agent hostnames for the converter.
import { createHash } from "node:crypto";
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

/**
 * What `written` keeps of a task: the SHA-1 of its JSON (28 characters), not the JSON itself (~300
 * for a small task, 30,000 of them at 10,000 VIPs × 3). Equal JSON gives an equal digest, and a
 * different one an equal digest only by a SHA-1 collision, which the agent's tasks do not make.
 */
export function taskDigest(task: Task): string {
  return createHash("sha1").update(JSON.stringify(task)).digest("base64");
}

/**
 * Writes new and changed tasks, deletes the ones that are gone; one store update per task.
 * `written`: task id → taskDigest of what was written last ("" when not known, after a restart).
 */
export async function publishTasks(written: Map<string, string>, tasks: readonly Task[], write: WriteFn, nodeId: string, source: TaskSource): Promise<void> {
  const seen = new Set<string>();
  const updates: Array<[string, UpdateOp[]]> = [];
  const after = new Map<string, string | undefined>();
  for (const task of tasks) {
    seen.add(task.id);
    const digest = taskDigest(task);
    if (written.get(task.id) === digest) continue;
    updates.push([taskKey(nodeId, task.id, source), taskUpdateOps({ task })]);
    after.set(task.id, digest);
  }
  for (const id of written.keys()) {
    if (seen.has(id)) continue;
    updates.push([taskKey(nodeId, id, source), taskUpdateOps("delete")]);
    after.set(id, undefined);
  }
  await writeAll(write, updates);
  for (const [id, digest] of after) {
    if (digest === undefined) written.delete(id);
    else written.set(id, digest);
  }
}

/** Agent hostnames that are names (not IP literals), sorted: what the converter needs resolved. */
export function agentHostnames(mesos: MesosState): string[] {
  const names = new Set<string>();
  for (const a of mesos.agents) {
    const host = (a as { agent_info?: { hostname?: unknown } }).agent_info?.hostname;
    if (typeof host === "string" && isIP(host) === 0) names.add(host);
  }
  return [...names].sort();
}

/** Each name's IPv4 address; a name that does not resolve is left out. */
export async function resolveHosts(names: readonly string[]): Promise<Map<string, string>> {
  const resolved = new Map<string, string>();
  await Promise.all(
    names.map(async (n) => {
      const r = await lookup(n, { family: 4 }).catch(() => undefined);
      if (r) resolved.set(n, r.address);
    }),
  );
  return resolved;
}

/** Agent hostnames that are names, resolved once per poll (the converter is synchronous). */
export async function hostResolver(mesos: MesosState): Promise<(host: string) => string | undefined> {
  const resolved = await resolveHosts(agentHostnames(mesos));
  return (host) => resolved.get(host);
}

/**
 * What a poll's tasks are a function of: the agent's answers, byte for byte, and the addresses its
 * hostnames resolved to. Equal digests → equal tasks, so a poller that published a digest's tasks
 * need not parse an answer with the same digest again (at 30,000 tasks the parse and conversion of
 * the 17 MB answer are ~100 MB of garbage a poll, and most of the node's RSS).
 */
export function answerDigest(answers: readonly Uint8Array[], resolved: ReadonlyMap<string, string>): string {
  const h = createHash("sha1");
  for (const a of answers) h.update(String(a.length)).update(":").update(a);
  h.update(JSON.stringify([...resolved].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))));
  return h.digest("base64");
}

