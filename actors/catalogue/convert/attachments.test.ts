import { describe, expect, it } from "@jest/globals";
import type { Task } from "../model.js";
import { containerRegistrationProblem, withAttachment } from "./attachments.js";

const task: Task = { id: "web-1", name: "web", framework: "marathon", runtime: "native", agentIp: "10.0.0.1", taskIps: [], state: "running", ports: [] };

describe("withAttachment", () => {
  it("a task naming its container takes the container's addresses, and none while it has no attachment", () => {
    const attached = new Map([["c1", ["9.0.0.5", "fd01:b::5"]]]);
    expect(withAttachment({ ...task, containerId: "c1" }, attached).taskIps).toEqual(["9.0.0.5", "fd01:b::5"]);
    expect(withAttachment({ ...task, containerId: "c2" }, attached).taskIps).toEqual([]);
  });

  it("a task without a container id is left as registered", () => {
    const t = { ...task, taskIps: ["10.0.0.9"] };
    expect(withAttachment(t, new Map([["c1", ["9.0.0.5"]]]))).toBe(t);
  });
});

describe("containerRegistrationProblem", () => {
  it("needs the overlay on the node and leaves the addresses to it", () => {
    expect(containerRegistrationProblem({ ...task, containerId: "c1" }, true)).toBeUndefined();
    expect(containerRegistrationProblem({ ...task, containerId: "c1" }, false)).toMatch(/needs the overlay/);
    expect(containerRegistrationProblem({ ...task, containerId: "c1", taskIps: ["9.0.0.5"] }, true)).toMatch(/taskIps must be empty/);
    expect(containerRegistrationProblem(task, false)).toBeUndefined();
  });
});
