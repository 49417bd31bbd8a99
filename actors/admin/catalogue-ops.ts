// Admin operations on native registrations and the task catalogue.
import { context } from "@opentelemetry/api";
import type { Tree } from "../../supervisors/index.js";
import { injectCarrier } from "../../transport/index.js";
import type { RegistrationMsg, RegistrationResult } from "../catalogue/index.js";
import type { VipsMsg, VipTable } from "../catalogue/index.js";
import type { Backend, Task } from "../catalogue/index.js";
import { ADMIN_ERRORS } from "./protocol.js";
import { AdminOpError } from "./errors.js";

export const REGISTRATIONS_PATH = "/node/catalogue/registrations";
export const VIPS_PATH = "/node/catalogue/vips";
const ASK_TIMEOUT_MS = 20_000;

function registrations(tree: Tree | undefined) {
  const ref = tree?.lookup<RegistrationMsg>(REGISTRATIONS_PATH);
  if (!ref) throw new AdminOpError(ADMIN_ERRORS.unavailable, `${REGISTRATIONS_PATH} is not running on this node`, 503);
  return ref;
}

function check(r: RegistrationResult): void {
  if (!r.ok) throw new AdminOpError(ADMIN_ERRORS.badRequest, r.error, 400);
}

// Both run inside the admin request's SERVER span (withServerSpan). A mailbox keeps the sender's
// context only when the tree itself traces (supervisors/tracing.ts), so the request's context travels
// in the message: the store write, and the zone update it causes on every node, join its trace.
export async function taskAdd(tree: Tree | undefined, task: Task, ttlMs: number | undefined): Promise<void> {
  const trace = injectCarrier(context.active());
  check(await registrations(tree).ask<RegistrationResult>((reply) => ({ type: "add", task, ...(ttlMs ? { ttlMs } : {}), trace, reply }), ASK_TIMEOUT_MS));
}

export async function taskRm(tree: Tree | undefined, id: string): Promise<void> {
  const trace = injectCarrier(context.active());
  check(await registrations(tree).ask<RegistrationResult>((reply) => ({ type: "remove", id, trace, reply }), ASK_TIMEOUT_MS));
}

/** Every task in this node's replica of the catalogue, with the node that owns it. */
export async function taskLs(tree: Tree | undefined): Promise<Array<{ owner: string; task: Task }>> {
  const tasks = await vips(tree).ask<ReadonlyArray<{ owner: string; task: Task }>>((reply) => ({ type: "tasks", reply }), ASK_TIMEOUT_MS);
  return tasks.map((t) => ({ ...t }));
}

function vips(tree: Tree | undefined) {
  const ref = tree?.lookup<VipsMsg>(VIPS_PATH);
  if (!ref) throw new AdminOpError(ADMIN_ERRORS.unavailable, `${VIPS_PATH} is not running on this node`, 503);
  return ref;
}

/** The VIP table as this node derives it from the replicated tasks. */
export async function vipLs(tree: Tree | undefined): Promise<Array<{ vip: string; backends: Backend[] }>> {
  const table = await vips(tree).ask<VipTable>((reply) => ({ type: "table", reply }), ASK_TIMEOUT_MS);
  return [...table].map(([vip, backends]) => ({ vip, backends: backends.map((b) => ({ ...b })) }));
}
