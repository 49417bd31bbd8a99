// The catalogue's admin ops: native registrations (this node owns what it accepts) and the tasks of
// the whole catalogue. `vip ls` is the L4LB's (actors/l4lb/ops.ts): it shows what this node programs.
// Declarations only at import time (zod, the task model, types): `dcnet ctl` loads this.
import { z } from "zod";
import { AdminOpError, AdminRequestError, ADMIN_ERRORS, cliGroup, cliParse, defineOp, OK_REPLY, table, type OpContext } from "../admin/ops.js";
import { taskRegistrationSchema, taskSchema, type Task } from "./model.js";
import type { RegistrationMsg, RegistrationResult } from "./registrations.actor.js";
import type { VipsMsg } from "./vips.actor.js";

const ASK_TIMEOUT_MS = 20_000;
const TASK = cliGroup("task", "native task registrations (this node owns what it accepts)");

// Where catalogue.sup.ts mounts the actors these ops ask. Loaded when a handler runs, not imported:
// the sup brings the sources' code, which `dcnet ctl` never needs.
async function mounts(): Promise<{ readonly registrations: string; readonly vips: string }> {
  const { CATALOGUE } = await import("./catalogue.sup.js");
  return { registrations: `/node/${CATALOGUE}/registrations`, vips: `/node/${CATALOGUE}/vips` };
}

async function register(ctx: OpContext, msg: (reply: (r: RegistrationResult) => void) => RegistrationMsg): Promise<void> {
  const ref = ctx.actor<RegistrationMsg>((await mounts()).registrations);
  const r = await ref.ask<RegistrationResult>(msg, ASK_TIMEOUT_MS);
  if (!r.ok) throw new AdminOpError(ADMIN_ERRORS.badRequest, r.error, 400);
}

async function vips(ctx: OpContext) {
  return ctx.actor<VipsMsg>((await mounts()).vips);
}

// task add / rm run inside the admin request's SERVER span; a mailbox keeps the sender's context only
// when the tree itself traces (supervisors/tracing.ts), so the request's context travels in the
// message: the store write, and the zone update it causes on every node, join its trace.
export const taskAdd = defineOp({
  name: "task-add",
  role: "operator",
  // Strict, as the registrations actor checks it: an unknown field in a hand-written task is a typo (model.ts).
  request: z.strictObject({ task: taskRegistrationSchema, ttlMs: z.number().int().min(1000).max(86_400_000).optional() }),
  ...OK_REPLY,
  async handle({ task, ttlMs }, ctx) {
    const trace = ctx.traceCarrier();
    await register(ctx, (reply) => ({ type: "add", task, ...(ttlMs ? { ttlMs } : {}), trace, reply }));
    return { node: ctx.config.id, message: `registered ${task.id}${ttlMs ? ` (ttl ${ttlMs} ms)` : ""}` };
  },
  cli: [
    {
      group: TASK,
      command: "add <json-file>",
      description: "register a task (the task model as JSON; '-' reads stdin); --ttl makes it expire unless re-added",
      options: [{ flags: "--ttl <ms>", description: "expire the registration unless renewed within this many ms" }],
      needsTarget: true,
      async request(a) {
        const source = a.arg(0);
        const ttl = a.option("ttl");
        const task = cliParse(taskRegistrationSchema, readJson(source, await a.readText(source)), `${source === "-" ? "stdin" : source} is not a task`);
        return { task, ...(ttl ? { ttlMs: Number(ttl) } : {}) };
      },
    },
  ],
});

function readJson(source: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new AdminRequestError(ADMIN_ERRORS.badRequest, `${source === "-" ? "stdin" : source} is not valid JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
}

export const taskRm = defineOp({
  name: "task-rm",
  role: "operator",
  request: z.strictObject({ id: z.string().min(1).max(512) }),
  ...OK_REPLY,
  async handle({ id }, ctx) {
    const trace = ctx.traceCarrier();
    await register(ctx, (reply) => ({ type: "remove", id, trace, reply }));
    return { node: ctx.config.id, message: `deregistered ${id}` };
  },
  cli: [{ group: TASK, command: "rm <id>", description: "deregister a task", needsTarget: true, request: (a) => ({ id: a.arg(0) }) }],
});

export const taskLs = defineOp({
  name: "task-ls",
  role: "viewer",
  request: z.strictObject({}),
  // Tolerant: a task a newer node wrote keeps the fields this version does not know.
  reply: z.strictObject({ node: z.string(), tasks: z.array(z.strictObject({ owner: z.string(), task: taskSchema })) }),
  async handle(_req, ctx) {
    const tasks = await (await vips(ctx)).ask<ReadonlyArray<{ owner: string; task: Task }>>((reply) => ({ type: "tasks", reply }), ASK_TIMEOUT_MS);
    return { node: ctx.config.id, tasks: tasks.map((t) => ({ owner: t.owner, task: t.task })) };
  },
  cli: [{ group: TASK, command: "ls", description: "every task in the catalogue, with its owner node", request: () => ({}) }],
  human: (t) => formatTasks(t.node, t.tasks),
  summary: (t) => `${t.tasks.length} tasks`,
});

export function formatTasks(node: string, tasks: ReadonlyArray<{ owner: string; task: Task }>): string {
  if (tasks.length === 0) return `(no tasks in the catalogue of ${node})`;
  return table(
    ["ID", "NAME", "FRAMEWORK", "OWNER", "STATE", "HEALTHY", "IPS", "PORTS"],
    tasks.map(({ owner, task }) => [
      task.id,
      task.name,
      task.framework,
      owner,
      task.state,
      task.healthy === undefined ? "-" : String(task.healthy),
      task.taskIps.join(","),
      task.ports.map((p) => `${p.name}:${p.port ?? "-"}/${p.hostPort ?? "-"}/${p.protocol}${p.vips.length ? ` vip=${p.vips.join("+")}` : ""}`).join(" "),
    ]),
  );
}

/** The catalogue's ops, in `dcnet ctl --help` order. */
export const CATALOGUE_OPS = [taskAdd, taskRm, taskLs] as const;
