// A helper inside one host of the overlay lab (its NATS server is only reachable there), driven by
// bench/overlay over stdin/stdout, one JSON object a line each way: `state-update` requests to a
// node, timed with process.hrtime (CLOCK_MONOTONIC, the bench's own clock too).
//   node --import tsx bench/overlay/state-worker.ts <nats-url>
import { createInterface } from "node:readline";
import { connectAdmin } from "../../integration/support/admin.js";

export type Json = string | number | boolean | null | Json[] | { [k: string]: Json };

export interface StateCmd {
  readonly id: number;
  readonly node: string;
  readonly key: string;
  /** The gossip `state-update` ops (actors/gossip/ops.ts). */
  readonly ops: Array<{ op: "set"; field: string; value: Json } | { op: "delete-key" }>;
}

/** Milliseconds of CLOCK_MONOTONIC. The ready line has id 0. */
export interface StateReply {
  readonly id: number;
  readonly ok: boolean;
  readonly error?: string;
  readonly sentAt?: number;
  readonly doneAt?: number;
}

const TIMEOUT_MS = 15_000;
const monotonicMs = (): number => Number(process.hrtime.bigint()) / 1e6;
const say = (r: StateReply): void => void process.stdout.write(`${JSON.stringify(r)}\n`);

const url = process.argv[2];
if (!url) throw new Error("usage: state-worker.ts <nats-url>");
const client = await connectAdmin([url], TIMEOUT_MS);
say({ id: 0, ok: true });
const lines = createInterface({ input: process.stdin });
lines.on("line", (line) => {
  const cmd = JSON.parse(line) as StateCmd;
  const sentAt = monotonicMs();
  client.admin.request(cmd.node, "state-update", { key: cmd.key, ops: cmd.ops }, TIMEOUT_MS).then(
    () => say({ id: cmd.id, ok: true, sentAt, doneAt: monotonicMs() }),
    (err: unknown) => say({ id: cmd.id, ok: false, error: err instanceof Error ? err.message : String(err), sentAt }),
  );
});
lines.on("close", () => void client.close().then(() => process.exit(0)));
