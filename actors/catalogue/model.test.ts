import { describe, it, expect } from "@jest/globals";
import fc from "fast-check";
import { readTask, TASK_RECORD_VERSION, taskRegistrationSchema, taskSchema } from "./model.js";

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
    [{ ...good, id: "" }, "id"],
    [{ ...good, v: "2" }, "v"],
    [{ ...good, ports: [{ ...good.ports[0], vips: "/web:80" }] }, "ports.0.vips"],
  ])("rejects a malformed task, naming the field (%#)", (task, path) => {
    // A wrong type of a known field is an error for readers and for registrations alike.
    for (const schema of [taskSchema, taskRegistrationSchema]) {
      const r = schema.safeParse(task);
      expect(r.success).toBe(false);
      expect(r.error?.issues.map((i) => i.path.join("."))).toContain(path);
    }
  });

  it("a registration with a field this node does not know is rejected, naming the field", () => {
    // From a client an unknown field is a typo in a hand-written file, worth a clear message.
    const r = taskRegistrationSchema.safeParse({ ...good, extra: 1 });
    expect(r.success).toBe(false);
    expect(r.error?.issues.map((i) => i.path.join("."))).toContain("");
    expect(r.error?.issues[0]?.message).toContain("extra");
    const port = taskRegistrationSchema.safeParse({ ...good, ports: [{ ...good.ports[0], weight: 3 }] });
    expect(port.error?.issues.map((i) => i.path.join("."))).toContain("ports.0");
    expect(taskRegistrationSchema.safeParse({ ...good, v: TASK_RECORD_VERSION + 1 }).error?.issues[0]?.path).toEqual(["v"]);
    expect(taskRegistrationSchema.parse({ ...good, v: TASK_RECORD_VERSION })).toEqual({ ...good, v: TASK_RECORD_VERSION });
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

describe("task records across versions (README.md: add optional fields freely, never change a meaning)", () => {
  // A record as a newer writer would store it: its version, a new field on the task and on a port.
  const newer = { ...good, v: TASK_RECORD_VERSION + 1, labels2: { tier: "web" }, future: [1, 2], ports: [{ ...good.ports[0], weight: 3 }] };

  it("a reader accepts a newer record and keeps every field it does not know, at every level", () => {
    const r = taskSchema.safeParse(newer);
    expect(r.success).toBe(true);
    expect(r.data).toEqual(newer);
    // Kept through a write back (the store keeps plain JSON) and a second read.
    expect(taskSchema.parse(JSON.parse(JSON.stringify(r.data)))).toEqual(newer);
  });

  it("readTask tells a newer record from a current one, and names the field of an invalid one", () => {
    expect(readTask(good)).toEqual({ ok: true, task: good, newer: false });
    expect(readTask({ ...good, v: TASK_RECORD_VERSION })).toMatchObject({ ok: true, newer: false });
    expect(readTask(newer)).toEqual({ ok: true, task: newer, newer: true });
    const bad = readTask({ ...newer, state: 42 });
    expect(bad.ok).toBe(false);
    expect(!bad.ok && bad.reason).toMatch(/^state: /);
    expect(readTask("not a task")).toEqual({ ok: false, reason: expect.stringMatching(/^\(task\): /) });
  });

  it("random extra fields never make a valid task invalid, and are always kept", () => {
    const key = fc.string({ minLength: 1, maxLength: 12 }).filter((k) => !(k in good) && k !== "v" && k !== "__proto__");
    fc.assert(
      fc.property(fc.dictionary(key, fc.jsonValue(), { maxKeys: 4 }), fc.dictionary(key, fc.jsonValue(), { maxKeys: 3 }), (extra, portExtra) => {
        const record = { ...good, ...extra, ports: [{ ...good.ports[0], ...portExtra }] };
        const r = taskSchema.safeParse(record);
        expect(r.success).toBe(true);
        expect(r.data).toEqual(record);
      }),
      { numRuns: 500 },
    );
  });

  it("readTask hands back the record itself (shared by every reader), equal field for field to what the schema parses", () => {
    // Sharing is only sound while the schema has no defaults or transforms: then zod's copy and the
    // record are equal, for records with random known fields dropped, random extras and any state.
    const key = fc.string({ minLength: 1, maxLength: 12 }).filter((k) => !(k in good) && k !== "v" && k !== "__proto__");
    const optional = fc.subarray(["healthy", "v", "labels", "containerId"] as const);
    fc.assert(
      fc.property(fc.dictionary(key, fc.jsonValue(), { maxKeys: 3 }), optional, fc.constantFrom("preparing", "running", "killing", "terminal"), (extra, keep, state) => {
        const full: Record<string, unknown> = { ...good, state, v: TASK_RECORD_VERSION, labels: { tier: "web" }, containerId: "c-1", ...extra };
        for (const k of ["healthy", "v", "labels", "containerId"] as const) if (!keep.includes(k)) delete full[k];
        const record = JSON.parse(JSON.stringify(full)) as unknown;
        const r = readTask(record);
        expect(r.ok && r.task).toBe(record);
        expect(taskSchema.parse(record)).toEqual(record);
      }),
      { numRuns: 300 },
    );
  });
});
