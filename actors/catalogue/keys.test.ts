import { describe, it, expect } from "@jest/globals";
import { parseTaskKey, taskKey } from "./keys.js";

describe("catalogue keys", () => {
  it.each(["web-1", "marathon/app.4f2c", "a b/ü%", "x".repeat(300)])("task key round-trips %s", (id) => {
    for (const source of ["native", "mesos"] as const) {
      const key = taskKey("node-1", id, source);
      expect(key.startsWith(`tasks/node-1/${source}/`)).toBe(true);
      expect(key.slice(`tasks/node-1/${source}/`.length)).not.toContain("/");
      expect(parseTaskKey(key)).toEqual({ owner: "node-1", source, id });
    }
  });

  it.each(["nodes/a", "tasks/", "tasks/a", "tasks/a/native", "tasks//native/x", "tasks/a/other/x", "tasks/a/native/%E0%A4%A", "tasks/a/native/x/y"])("rejects %s", (key) => {
    expect(parseTaskKey(key)).toBeUndefined();
  });
});
