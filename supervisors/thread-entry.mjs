// The first module of every worker thread started by thread.ts. A TypeScript entry (under jest, or the
// sources run with tsx) needs tsx's hooks: on Node 20 a worker thread does not inherit the hooks of the
// main thread, and under jest it has none, so register them here. The compiled build (dist/) needs none.
import { workerData } from "node:worker_threads";

if (workerData.entry.endsWith(".ts")) {
  const { register } = await import("tsx/esm/api");
  register();
}
await import(workerData.entry);
