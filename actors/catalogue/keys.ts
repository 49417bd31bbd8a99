// Where catalogue facts live in the replicated store: one key per task, under its owner node and
// its source — tasks/<owner>/<source>/<id> — so two nodes or two sources never write the same key,
// and a node's (or a source's) facts are one prefix.
export const TASKS_PREFIX = "tasks/";

/** Which node holds the leading Mesos master's stream (fields `node`, `master`): written by the listener, read by DNS. */
export const LEADER_KEY = "mesos/leader";

/** native: NATS registrations; mesos: this node's agent; operator: the Mesos master stream (leader); marathon: Marathon's apps and events. */
const TASK_SOURCES = ["native", "mesos", "operator", "marathon"] as const;
export type TaskSource = (typeof TASK_SOURCES)[number];

export function taskKey(owner: string, id: string, source: TaskSource = "native"): string {
  return `${TASKS_PREFIX}${owner}/${source}/${encodeURIComponent(id)}`;
}

export function sourcePrefix(owner: string, source: TaskSource): string {
  return `${TASKS_PREFIX}${owner}/${source}/`;
}

/** Owner, source and task id of a task key; undefined for any other key. */
export function parseTaskKey(key: string): { owner: string; source: TaskSource; id: string } | undefined {
  if (!key.startsWith(TASKS_PREFIX)) return undefined;
  const parts = key.slice(TASKS_PREFIX.length).split("/");
  if (parts.length !== 3) return undefined;
  const [owner, source, encoded] = parts as [string, string, string];
  if (!owner || !encoded || !(TASK_SOURCES as readonly string[]).includes(source)) return undefined;
  try {
    return { owner, source: source as TaskSource, id: decodeURIComponent(encoded) };
  } catch {
    return undefined;
  }
}
