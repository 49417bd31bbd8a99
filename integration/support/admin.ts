// An admin client in the test process, as another program would use it (transport + AdminClient).
import { pino } from "pino";
import { Transport } from "../../transport/index.js";
import { AdminClient } from "../../actors/admin/index.js";
import { createRegistry } from "../../observability/metrics.js";

export interface TestAdmin {
  readonly transport: Transport;
  readonly admin: AdminClient;
  close(): Promise<void>;
}

export async function connectAdmin(servers: readonly string[], timeoutMs = 2000): Promise<TestAdmin> {
  const id = `test-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  const transport = await Transport.connect({
    servers,
    cluster: "dcnet",
    nodeId: id,
    logger: pino({ level: "silent" }),
    metrics: createRegistry({ node: id, cluster: "dcnet" }),
    reconnectWaitMs: 100,
    connectTimeoutMs: 10_000,
  });
  return { transport, admin: new AdminClient(transport, timeoutMs), close: () => transport.close() };
}

/** Retries `f` until it resolves or `deadlineMs` passes; returns the value and the time it took. */
export async function within<T>(deadlineMs: number, f: () => Promise<T>, pauseMs = 100): Promise<{ value: T; ms: number }> {
  const start = Date.now();
  let last: unknown;
  while (Date.now() - start < deadlineMs) {
    try {
      return { value: await f(), ms: Date.now() - start };
    } catch (err) {
      last = err;
      await new Promise((r) => setTimeout(r, pauseMs));
    }
  }
  throw new Error(`not within ${deadlineMs} ms: ${(last as Error | undefined)?.message ?? "no attempt finished"}`);
}
