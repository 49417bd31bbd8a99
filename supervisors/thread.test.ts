// Worker threads owned by actors: answers come back to the right request, a failed request is an
// error without killing the thread, and a dead thread is reported once and fails what was pending.
import { afterEach, describe, expect, it } from "@jest/globals";
import { startThread, type Thread } from "./thread.js";
import type { TestRequest } from "../testkit/thread-worker.js";

const ENTRY = new URL("../testkit/thread-worker.ts", import.meta.url);
const started: Array<Thread<TestRequest, string>> = [];
afterEach(async () => {
  for (const t of started.splice(0)) await t.terminate();
});

function start(onDeath: (err: Error) => void = () => undefined): Thread<TestRequest, string> {
  const t = startThread<TestRequest, string>(ENTRY, onDeath);
  started.push(t);
  return t;
}

describe("startThread", () => {
  it("answers concurrent requests each with its own reply (a TypeScript entry, loaded through tsx)", async () => {
    const t = start();
    const replies = await Promise.all(["a", "b", "c"].map((value) => t.request({ op: "echo", value }, 10_000)));
    expect(replies).toEqual(["echo:a", "echo:b", "echo:c"]);
  });

  it("a failed request rejects with the thread's message and the thread keeps serving", async () => {
    const t = start();
    await expect(t.request({ op: "fail" }, 10_000)).rejects.toThrow("asked to fail");
    expect(await t.request({ op: "echo", value: "still" }, 10_000)).toBe("echo:still");
  });

  it("a request that takes too long rejects after its timeout", async () => {
    const t = start();
    await expect(t.request({ op: "hang" }, 300)).rejects.toThrow(/did not answer within 300 ms/);
  });

  it("a thread that dies is reported once, fails the pending request, and refuses new ones", async () => {
    const deaths: Error[] = [];
    const t = start((err) => deaths.push(err));
    await expect(t.request({ op: "die" }, 10_000)).rejects.toThrow(/exited with code 3/);
    expect(deaths.map((e) => e.message)).toEqual([expect.stringMatching(/thread-worker\.ts exited with code 3/)]);
    await expect(t.request({ op: "echo", value: "x" }, 1000)).rejects.toThrow(/exited with code 3/);
  });

  it("terminate is not a death: no report, pending requests fail", async () => {
    const deaths: Error[] = [];
    const t = startThread<TestRequest, string>(ENTRY, (err) => deaths.push(err));
    const pending = expect(t.request({ op: "hang" }, 10_000)).rejects.toThrow(/terminated/);
    await t.request({ op: "echo", value: "up" }, 10_000);
    await t.terminate();
    await pending;
    expect(deaths).toEqual([]);
  });
});
