import { describe, it, expect } from "@jest/globals";
import { parseTaskKey, taskKey } from "./keys.js";

describe("catalogue keys", () => {
  it.each(["web-1", "marathon/app.4f2c", "a b/ü%", "x".repeat(300)])("task key round-trips %s", (id) => {
    const key = taskKey("node-1", id);
    expect(key.startsWith("tasks/node-1/")).toBe(true);
    expect(key.slice("tasks/node-1/".length)).not.toContain("/");
    expect(parseTaskKey(key)).toEqual({ owner: "node-1", id });
  });

  it.each(["nodes/a", "tasks/", "tasks/a", "tasks//x", "tasks/a/%E0%A4%A"])("rejects %s", (key) => {
    expect(parseTaskKey(key)).toBeUndefined();
  });
});
