import { describe, it, expect } from "@jest/globals";
import type { UpdateOp } from "../../gossip/index.js";
import type { Task } from "../model.js";
import { answerDigest, publishTasks, taskDigest } from "./publish.js";

const task = (id: string, port = 8080): Task => ({
  id,
  name: "web",
  framework: "marathon",
  runtime: "mesos",
  agentIp: "10.0.0.5",
  taskIps: ["9.0.0.5"],
  state: "running",
  ports: [{ name: "http", protocol: "tcp", port, vips: ["/web:80"] }],
});

function recorder(): { writes: Array<[string, UpdateOp[]]>; write: (key: string, ops: UpdateOp[]) => Promise<void> } {
  const writes: Array<[string, UpdateOp[]]> = [];
  return { writes, write: async (key, ops) => void writes.push([key, ops]) };
}

describe("publishTasks (what a Mesos source writes into the store per poll)", () => {
  it("writes new and changed tasks, skips unchanged ones, deletes the ones that are gone", async () => {
    const written = new Map<string, string>();
    const first = recorder();
    await publishTasks(written, [task("f/a"), task("f/b")], first.write, "n1", "mesos");
    expect(first.writes.map(([k]) => k).sort()).toEqual(["tasks/n1/mesos/f%2Fa", "tasks/n1/mesos/f%2Fb"]);

    const second = recorder();
    await publishTasks(written, [task("f/a"), task("f/b", 9090)], second.write, "n1", "mesos");
    expect(second.writes.map(([k]) => k)).toEqual(["tasks/n1/mesos/f%2Fb"]);

    const third = recorder();
    await publishTasks(written, [task("f/b", 9090)], third.write, "n1", "mesos");
    expect(third.writes).toEqual([["tasks/n1/mesos/f%2Fa", [{ op: "delete-key" }]]]);
    expect([...written.keys()]).toEqual(["f/b"]);
  });

  it("remembers a digest of each task, not its JSON, and rewrites a task it only knows by id (after a restart)", async () => {
    const written = new Map([["f/a", ""]]);
    const r = recorder();
    await publishTasks(written, [task("f/a")], r.write, "n1", "mesos");
    expect(r.writes).toHaveLength(1);
    const digest = written.get("f/a") ?? "";
    expect(digest).toBe(taskDigest(task("f/a")));
    expect(digest.length).toBe(28);
    expect(digest.length).toBeLessThan(JSON.stringify(task("f/a")).length / 5);
    expect(taskDigest(task("f/a", 8081))).not.toBe(digest);
  });
});

describe("answerDigest (an agent poll with an equal digest is not parsed again)", () => {
  const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);
  const hosts = new Map([["agent-a.example", "10.0.0.1"]]);

  it("is equal for equal answers and equal host addresses, whatever the order the addresses were found in", () => {
    const a = answerDigest([bytes('{"get_state":{}}'), bytes('{"get_agent":{}}')], hosts);
    expect(answerDigest([bytes('{"get_state":{}}'), bytes('{"get_agent":{}}')], new Map(hosts))).toBe(a);
    const two = new Map([["b", "10.0.0.2"], ["a", "10.0.0.1"]]);
    expect(answerDigest([bytes("{}")], two)).toBe(answerDigest([bytes("{}")], new Map([...two].reverse())));
  });

  it("changes with one byte of an answer, with where one answer ends and the next begins, and with a host's address", () => {
    const a = answerDigest([bytes('{"get_state":{}}'), bytes('{"get_agent":{}}')], hosts);
    expect(answerDigest([bytes('{"get_state":{ }}'), bytes('{"get_agent":{}}')], hosts)).not.toBe(a);
    expect(answerDigest([bytes('{"get_state":{}}{"get_agent":'), bytes("{}}")], hosts)).not.toBe(a);
    expect(answerDigest([bytes('{"get_state":{}}')], hosts)).not.toBe(a);
    expect(answerDigest([bytes('{"get_state":{}}'), bytes('{"get_agent":{}}')], new Map([["agent-a.example", "10.0.0.9"]]))).not.toBe(a);
    expect(answerDigest([bytes('{"get_state":{}}'), bytes('{"get_agent":{}}')], new Map())).not.toBe(a);
  });
});
