// An admin client inside one of the lab's namespaces (the lab's NATS server is only reachable
// there), driven by bench/l4lb-sync over stdin/stdout, one JSON object a line each way. Times are
// process.hrtime (CLOCK_MONOTONIC), so the bench can compare them with its own.
//   node --import tsx bench/l4lb/admin-worker.ts <nats-url>
import { createInterface } from "node:readline";
import type { Task } from "../../actors/catalogue/index.js";
import { connectAdmin } from "../../integration/support/admin.js";
import { benchTasks, type GenOptions } from "./gen.js";

export type WorkerCmd =
  | { readonly id: number; readonly op: "add"; readonly node: string; readonly task: Task }
  | { readonly id: number; readonly op: "status"; readonly node: string }
  | ({ readonly id: number; readonly op: "bulk"; readonly node: string; readonly concurrency: number; readonly maxMs: number } & GenOptions);

export type WorkerReply = { readonly id: number; readonly ok: boolean; readonly error?: string; readonly sentAt?: number; readonly doneAt?: number; readonly body?: unknown };

const REQUEST_TIMEOUT_MS = 15_000;
const MAX_ERRORS_KEPT = 5;

export const monotonicMs = (): number => Number(process.hrtime.bigint()) / 1e6;

const url = process.argv[2];
if (!url) throw new Error("usage: admin-worker.ts <nats-url>");
const client = await connectAdmin([url], REQUEST_TIMEOUT_MS);
const say = (r: WorkerReply): void => void process.stdout.write(`${JSON.stringify(r)}\n`);
const message = (err: unknown): string => (err instanceof Error ? err.message : String(err));

async function bulk(cmd: Extract<WorkerCmd, { op: "bulk" }>): Promise<WorkerReply> {
  const t0 = monotonicMs();
  const tasks = benchTasks(cmd);
  let sent = 0;
  let failed = 0;
  const errors: string[] = [];
  // A window of requests in flight: the registrations actor writes one at a time anyway, this only
  // keeps the pipe full. Bounded by count (the generator) and by time.
  const lane = async (): Promise<void> => {
    for (let next = tasks.next(); !next.done; next = tasks.next()) {
      if (monotonicMs() - t0 > cmd.maxMs) return;
      sent++;
      try {
        await client.admin.request(cmd.node, "task-add", { task: next.value }, REQUEST_TIMEOUT_MS);
      } catch (err) {
        failed++;
        if (errors.length < MAX_ERRORS_KEPT) errors.push(message(err));
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, cmd.concurrency) }, lane));
  const doneAt = monotonicMs();
  return { id: cmd.id, ok: failed === 0 && sent === cmd.vips * cmd.backends, sentAt: t0, doneAt, body: { sent, failed, errors } };
}

async function handle(cmd: WorkerCmd): Promise<WorkerReply> {
  try {
    switch (cmd.op) {
      case "add": {
        const sentAt = monotonicMs();
        await client.admin.request(cmd.node, "task-add", { task: cmd.task }, REQUEST_TIMEOUT_MS);
        return { id: cmd.id, ok: true, sentAt, doneAt: monotonicMs() };
      }
      case "status":
        return { id: cmd.id, ok: true, body: await client.admin.request(cmd.node, "l4lb-status", {}, REQUEST_TIMEOUT_MS) };
      case "bulk":
        return await bulk(cmd);
    }
  } catch (err) {
    return { id: cmd.id, ok: false, error: message(err) };
  }
}

say({ id: 0, ok: true, body: "ready" });
const lines = createInterface({ input: process.stdin });
for await (const line of lines) {
  if (!line.trim()) continue;
  // Not awaited: the bench may have several requests in flight (each reply names its id).
  void handle(JSON.parse(line) as WorkerCmd).then(say);
}
await client.close();
