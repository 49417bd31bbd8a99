// Where catalogue facts live in the replicated store. One key per task, under its owner node, so
// two nodes registering the same id never write the same key, and a node's facts are one prefix.
export const TASKS_PREFIX = "tasks/";

export function taskKey(owner: string, id: string): string {
  return `${TASKS_PREFIX}${owner}/${encodeURIComponent(id)}`;
}

/** Owner and task id of a task key; undefined for any other key. */
export function parseTaskKey(key: string): { owner: string; id: string } | undefined {
  if (!key.startsWith(TASKS_PREFIX)) return undefined;
  const rest = key.slice(TASKS_PREFIX.length);
  const slash = rest.indexOf("/");
  if (slash <= 0) return undefined;
  try {
    return { owner: rest.slice(0, slash), id: decodeURIComponent(rest.slice(slash + 1)) };
  } catch {
    return undefined;
  }
}
