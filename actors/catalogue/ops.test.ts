import { describe, it, expect } from "@jest/globals";
import type { ActorRef, ReplyTo } from "../../supervisors/index.js";
import type { CliInput, OpContext } from "../admin/ops.js";
import type { RegistrationMsg } from "./index.js";
import type { VipsMsg } from "./vips.actor.js";
import type { Task } from "./model.js";
import { formatTasks, taskAdd, taskLs, taskRm } from "./ops.js";

const web: Task = { id: "web-1", name: "web", framework: "fleet", runtime: "native", agentIp: "10.0.0.1", taskIps: ["10.0.0.1"], state: "running", ports: [{ name: "http", protocol: "tcp", port: 80, vips: ["/web:80"] }] };

function fakeRef<M>(path: string, answer: (m: M) => void): ActorRef<never> {
  const ref: ActorRef<M> = { path, tell: answer, ask: <R>(build: (reply: ReplyTo<R>) => M) => new Promise<R>((resolve) => answer(build(resolve))) };
  return ref as unknown as ActorRef<never>;
}

function context(refs: ReadonlyArray<ActorRef<never>>, trace?: Record<string, string>): OpContext {
  return {
    config: { id: "n1" } as OpContext["config"],
    actor: <M>(path: string) => {
      const ref = refs.find((r) => r.path === path);
      if (!ref) throw new Error(`${path} is not running on this node`);
      return ref as unknown as ActorRef<M>;
    },
    traceCarrier: () => trace,
  } as OpContext;
}

function input(args: string[], options: Record<string, string> = {}, text = ""): CliInput {
  return { arg: (i) => args[i] ?? "", optionalArg: (i) => args[i], option: (n) => options[n], readText: async () => text };
}

describe("catalogue admin ops", () => {
  it("task add registers with this node's registrations actor, carrying the request's trace", async () => {
    const seen: RegistrationMsg[] = [];
    const ctx = context([fakeRef<RegistrationMsg>("/node/catalogue/registrations", (m) => (seen.push(m), (m.type === "add" || m.type === "remove") && m.reply(m.type === "add" ? { ok: true } : { ok: false, error: "no such registration" })))], { traceparent: "00-x" });
    expect(await taskAdd.handle({ task: web, ttlMs: 30_000 }, ctx)).toEqual({ node: "n1", message: "registered web-1 (ttl 30000 ms)" });
    expect(seen[0]).toMatchObject({ type: "add", task: web, ttlMs: 30_000, trace: { traceparent: "00-x" } });
    await expect(taskRm.handle({ id: "nope" }, ctx)).rejects.toMatchObject({ code: "DCNET_E_ADMIN_BAD_REQUEST", message: "no such registration" });
  });

  it("task add reads the task from a file or stdin; bad JSON or a bad task is a usage error", async () => {
    const [add] = taskAdd.cli;
    expect(add?.needsTarget).toBe(true);
    expect(await add?.request(input(["web.json"], { ttl: "5000" }, JSON.stringify(web)))).toEqual({ task: web, ttlMs: 5000 });
    expect(await add?.request(input(["-"], {}, JSON.stringify(web)))).toEqual({ task: web });
    await expect(Promise.resolve(add?.request(input(["web.json"], {}, "{nope")))).rejects.toThrow(/^web\.json is not valid JSON: /);
    await expect(Promise.resolve(add?.request(input(["-"], {}, '{"id":1}')))).rejects.toThrow(/^stdin is not a task: /);
    expect(await taskRm.cli[0]?.request(input(["web-1"]))).toEqual({ id: "web-1" });
  });

  it("task ls reads this node's VIP table actor and prints a table", async () => {
    const vips = fakeRef<VipsMsg>("/node/catalogue/vips", (m) => {
      if (m.type === "tasks") m.reply([{ owner: "n2", task: web }]);
    });
    const ls = await taskLs.handle({}, context([vips]));
    expect(taskLs.human(ls, 0)).toMatch(/web-1\s+web\s+fleet\s+n2\s+running\s+-\s+10\.0\.0\.1\s+http:80\/-\/tcp vip=\/web:80/);
    expect(taskLs.summary(ls)).toBe("1 tasks");
    expect(formatTasks("n1", [])).toBe("(no tasks in the catalogue of n1)");
  });
});
