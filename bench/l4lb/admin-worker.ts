// A helper process inside one of the lab's namespaces (the lab's NATS server and nodes are only
// reachable there), driven by bench/l4lb-sync over stdin/stdout, one JSON object a line each way:
//   - an admin client: task-add timed with process.hrtime (CLOCK_MONOTONIC, so the bench can compare
//     it with its own clock), l4lb-status;
//   - with --agent, a Mesos agent stand-in on 127.0.0.1 for the node's agent poller (mesos.agent):
//     an empty agent until "agent-load", then the generated task set for exactly one GET_STATE, then
//     503 — the poller keeps the last good tasks (its documented behaviour), so the node holds them
//     without re-reading a 30,000-task answer every poll, which no real agent would send.
//   node --import tsx bench/l4lb/admin-worker.ts <nats-url> [--agent]
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { createInterface } from "node:readline";
import type { Task } from "../../actors/catalogue/index.js";
import { connectAdmin } from "../../integration/support/admin.js";
import { BENCH_AGENT_ID, benchAgentState, type GenOptions } from "./gen.js";

export type WorkerCmd =
  | { readonly id: number; readonly op: "add"; readonly node: string; readonly task: Task }
  | { readonly id: number; readonly op: "status"; readonly node: string }
  | ({ readonly id: number; readonly op: "agent-load"; readonly timeoutMs: number } & GenOptions);

/** Times are milliseconds of CLOCK_MONOTONIC. The ready line (id 0) carries `{ agent?: url }`. */
export type WorkerReply = { readonly id: number; readonly ok: boolean; readonly error?: string; readonly sentAt?: number; readonly doneAt?: number; readonly body?: unknown };

const REQUEST_TIMEOUT_MS = 15_000;
/** The agent's address: not the node's own, so its tasks are remote backends (no hairpin), as most are. */
const AGENT_IP = "10.78.0.200";
const EMPTY_AGENT = { getState: { get_tasks: { launched_tasks: [] }, get_frameworks: { frameworks: [] }, get_executors: {} }, getAgent: { agent_info: { id: { value: BENCH_AGENT_ID }, hostname: AGENT_IP } } };

const monotonicMs = (): number => Number(process.hrtime.bigint()) / 1e6;
const say = (r: WorkerReply): void => void process.stdout.write(`${JSON.stringify(r)}\n`);
const message = (err: unknown): string => (err instanceof Error ? err.message : String(err));

const url = process.argv[2];
if (!url) throw new Error("usage: admin-worker.ts <nats-url> [--agent]");
const client = await connectAdmin([url], REQUEST_TIMEOUT_MS);

/** What the agent stand-in answers: empty, then one load served once, then unavailable. */
let agent: { state: "empty" } | { state: "loaded"; getState: string; getAgent: string; served: (at: number) => void } | { state: "gone"; getAgent: string } = { state: "empty" };

async function startAgent(): Promise<string> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      let type: unknown;
      try {
        type = (JSON.parse(Buffer.concat(chunks).toString("utf8")) as { type?: unknown }).type;
      } catch {
        type = undefined;
      }
      const json = (body: string): void => void res.writeHead(200, { "Content-Type": "application/json" }).end(body);
      const a = agent;
      if (type === "GET_AGENT") return json(a.state === "empty" ? JSON.stringify({ type, get_agent: EMPTY_AGENT.getAgent }) : a.getAgent);
      if (type !== "GET_STATE") return void res.writeHead(400).end("bench agent: GET_STATE and GET_AGENT only");
      if (a.state === "empty") return json(JSON.stringify({ type, get_state: EMPTY_AGENT.getState }));
      if (a.state === "gone") return void res.writeHead(503).end("bench agent: gone after serving its tasks once");
      agent = { state: "gone", getAgent: a.getAgent };
      res.writeHead(200, { "Content-Type": "application/json" }).end(a.getState, () => a.served(monotonicMs()));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  server.unref();
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
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
      case "agent-load": {
        const { getState, getAgent } = benchAgentState(cmd, AGENT_IP);
        const body = JSON.stringify({ type: "GET_STATE", get_state: getState });
        const servedAt = await new Promise<number>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error(`the node did not poll the agent within ${cmd.timeoutMs} ms`)), cmd.timeoutMs);
          agent = { state: "loaded", getState: body, getAgent: JSON.stringify({ type: "GET_AGENT", get_agent: getAgent }), served: (at) => (clearTimeout(timer), resolve(at)) };
        });
        return { id: cmd.id, ok: true, doneAt: servedAt, body: { bytes: body.length } };
      }
    }
  } catch (err) {
    return { id: cmd.id, ok: false, error: message(err) };
  }
}

say({ id: 0, ok: true, body: process.argv.includes("--agent") ? { agent: await startAgent() } : {} });
for await (const line of createInterface({ input: process.stdin })) {
  if (!line.trim()) continue;
  // Not awaited: the bench may have several requests in flight (each reply names its id).
  void handle(JSON.parse(line) as WorkerCmd).then(say);
}
await client.close();
