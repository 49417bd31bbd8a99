// The first module of every worker thread started by thread.ts. On Node 20 a worker thread does not
// inherit the tsx hooks the main thread registered (bin/dcnet.js), and under jest it has no hooks at
// all: register them here, then load the TypeScript entry.
import { workerData } from "node:worker_threads";
import { register } from "tsx/esm/api";

register();
await import(workerData.entry);
