import { describe, it, expect } from "@jest/globals";
import fc from "fast-check";
import { taskSchema } from "./model.js";

const good = {
  id: "web-1",
  name: "web",
  framework: "demo",
  runtime: "native",
  agentIp: "10.0.0.5",
  taskIps: ["10.0.0.5", "fd00::5"],
  state: "running",
  healthy: true,
  ports: [{ name: "http", protocol: "tcp", port: 8080, hostPort: 31000, vips: ["/web:80"] }],
};

describe("task model schema", () => {
  it("accepts a complete task", () => {
    expect(taskSchema.parse(good)).toEqual(good);
  });

  it.each([
    [{ ...good, agentIp: "10.0.0.300" }, "agentIp"],
    [{ ...good, state: "sleeping" }, "state"],
    [{ ...good, ports: [{ ...good.ports[0], protocol: "sctp" }] }, "ports.0.protocol"],
    [{ ...good, ports: [{ ...good.ports[0], port: 70000 }] }, "ports.0.port"],
    [{ ...good, extra: 1 }, ""],
    [{ ...good, id: "" }, "id"],
  ])("rejects a malformed task, naming the field (%#)", (task, path) => {
    const r = taskSchema.safeParse(task);
    expect(r.success).toBe(false);
    expect(r.error?.issues.map((i) => i.path.join("."))).toContain(path);
  });

  it("random edits of a valid task never throw; each result is either a valid task or a named error", () => {
    const edit = fc.record({
      path: fc.constantFrom("id", "name", "framework", "runtime", "agentIp", "taskIps", "state", "healthy", "ports"),
      value: fc.oneof(fc.anything(), fc.string(), fc.integer(), fc.constant(null), fc.array(fc.anything())),
    });
    fc.assert(
      fc.property(fc.array(edit, { maxLength: 4 }), (edits) => {
        const task: Record<string, unknown> = structuredClone(good);
        for (const e of edits) task[e.path] = e.value;
        const r = taskSchema.safeParse(task);
        return r.success || r.error.issues.every((i) => i.message.length > 0);
      }),
      { numRuns: 2000 },
    );
  });
});
