import { describe, it, expect } from "@jest/globals";
import type { Logger } from "pino";
import { OP_PATTERN } from "../../transport/index.js";
import type { ActorStats, Tree } from "../../supervisors/index.js";
import type { LogLevel } from "../../config/index.js";
import type { CliInput, OpContext } from "../admin/ops.js";
import { validateConfig } from "./config.js";
import { ALL_OPS, crash, formatStatus, ping, setLogLevel, shutdown } from "./ops.js";

/** A handler's view of a node, without a node: what the admin actor would pass. */
function context(over: { allowCrash?: boolean; stats?: ActorStats[] } = {}) {
  const after: Array<() => void> = [];
  const crashed: string[] = [];
  const stopped: string[] = [];
  let level: LogLevel = "info";
  const warn = () => undefined;
  const tree: Pick<Tree, "stats" | "crash"> = { stats: () => over.stats ?? [], crash: (path) => crashed.push(path) > 0 };
  const ctx: OpContext = {
    config: validateConfig({ id: "n1", admin: { allowCrash: over.allowCrash ?? false } }),
    version: "1.2.3",
    startedAt: Date.now() - 5000,
    logger: { warn } as unknown as Logger,
    logs: { root: { warn } as unknown as Logger, child: () => ({ warn }) as unknown as Logger, level: () => level, setLevel: (l) => void (level = l) },
    transport: undefined as never,
    tree: tree as Tree,
    actor: () => {
      throw new Error("no actors here");
    },
    traceCarrier: () => undefined,
    afterReply: (f) => void after.push(f),
    shutdown: (reason) => void stopped.push(reason),
  };
  return { ctx, after, crashed, stopped, level: () => level };
}

function input(args: string[], options: Record<string, string> = {}): CliInput {
  return {
    arg: (i) => args[i] ?? "",
    optionalArg: (i) => args[i],
    option: (n) => options[n],
    readText: async () => "",
  };
}

const worker = (path: string): ActorStats => ({ path, kind: "worker", status: "running", restarts: 0, uptimeMs: 1, mailbox: 0, dropped: 0 });

describe("the standard admin ops", () => {
  it("keeps every op name and envelope kind on the wire", () => {
    expect(ALL_OPS.map((o) => [o.name, o.request.kind, o.reply.kind])).toEqual([
      ["ping", "admin.ping", "admin.pong"],
      ["status", "admin.status", "admin.status.reply"],
      ["crash", "admin.crash", "admin.ok"],
      ["log-level", "admin.log-level", "admin.ok"],
      ["shutdown", "admin.shutdown", "admin.ok"],
      ["members", "admin.members", "admin.members.reply"],
      ["state-keys", "admin.state-keys", "admin.state-keys.reply"],
      ["state-get", "admin.state-get", "admin.state-get.reply"],
      ["state-update", "admin.state-update", "admin.ok"],
      ["state-batch", "admin.state-batch", "admin.ok"],
      ["task-add", "admin.task-add", "admin.ok"],
      ["task-rm", "admin.task-rm", "admin.ok"],
      ["task-ls", "admin.task-ls", "admin.task-ls.reply"],
      ["dns-records", "admin.dns-records", "admin.dns-records.reply"],
      ["dns-lookup", "admin.dns-lookup", "admin.dns-lookup.reply"],
      ["dns-host", "admin.dns-host", "admin.dns-host.reply"],
      ["vip-ls", "admin.vip-ls", "admin.vip-ls.reply"],
      ["l4lb-status", "admin.l4lb-status", "admin.l4lb-status.reply"],
      ["l4lb-cleanup", "admin.l4lb-cleanup", "admin.ok"],
      ["l4lb-resume", "admin.l4lb-resume", "admin.ok"],
      ["overlay-status", "admin.overlay-status", "admin.overlay-status.reply"],
      ["overlay-leases", "admin.overlay-leases", "admin.overlay-leases.reply"],
      ["edge-status", "admin.edge-status", "admin.edge-status.reply"],
      ["edge-config", "admin.edge-config", "admin.edge-config.reply"],
      ["edge-pool", "admin.edge-pool", "admin.edge-pool.reply"],
    ]);
    for (const op of ALL_OPS) expect(op.name).toMatch(OP_PATTERN);
  });

  it("ping answers with node, version and uptime; prints the round trip", async () => {
    const reply = await ping.handle({}, context().ctx);
    expect(reply).toMatchObject({ node: "n1", version: "1.2.3" });
    expect(reply.uptimeMs).toBeGreaterThanOrEqual(5000);
    expect(ping.human({ node: "n1", version: "1.2.3", uptimeMs: 61_000 }, 0.613)).toBe("pong from n1 (dcnet 1.2.3, up 1m1s) in 0.61 ms");
  });

  it("status shows each actor's restarts and last error, and gossip counters", () => {
    const text = formatStatus({
      node: "a",
      cluster: "c",
      version: "0.1.0",
      pid: 1,
      uptimeMs: 5000,
      logLevel: "info",
      nats: { state: "connected", server: "nats://127.0.0.1:4222", since: 0 },
      actors: [{ path: "/node/x", kind: "worker", status: "running", restarts: 2, lastError: { message: "boom", at: 0 }, uptimeMs: 10, mailbox: 3, dropped: 0 }],
      rejected: [{ kind: "admin.ping", reason: "invalid-body", count: 4 }],
      gossip: { keys: 7, deltasOut: 1, deltasIn: 2, bytesOut: 3, bytesIn: 4, keysRepaired: 5, digestsIn: 6, rejected: 0, synced: true },
    });
    expect(text).toMatch(/\/node\/x\s+worker\s+running\s+2\s+10ms\s+3\s+0\s+boom/);
    expect(text).toContain("gossip: 7 keys, synced");
    expect(text).toMatch(/admin\.ping\s+invalid-body\s+4/);
  });

  it("crash is refused without admin.allowCrash, and for a path that is not a worker", async () => {
    await expect(Promise.resolve().then(() => crash.handle({ path: "/node/x" }, context().ctx))).rejects.toMatchObject({ code: "DCNET_E_ADMIN_CRASH_DISABLED", status: 403 });
    await expect(Promise.resolve().then(() => crash.handle({ path: "/node/x" }, context({ allowCrash: true }).ctx))).rejects.toMatchObject({ code: "DCNET_E_ADMIN_NO_SUCH_ACTOR", status: 404 });
  });

  it("crash replies first and crashes the worker after the reply", async () => {
    const c = context({ allowCrash: true, stats: [worker("/node/x")] });
    expect(await crash.handle({ path: "/node/x", reason: "chaos" }, c.ctx)).toEqual({ node: "n1", message: "crashed /node/x" });
    expect(c.crashed).toEqual([]);
    c.after.forEach((f) => f());
    expect(c.crashed).toEqual(["/node/x"]);
  });

  it("log-level switches the node's loggers; shutdown runs after the reply", async () => {
    const c = context();
    expect(await setLogLevel.handle({ level: "debug" }, c.ctx)).toEqual({ node: "n1", message: "log level info -> debug" });
    expect(c.level()).toBe("debug");
    expect(await shutdown.handle({}, c.ctx)).toEqual({ node: "n1", message: "shutting down" });
    expect(c.stopped).toEqual([]);
    c.after.forEach((f) => f());
    expect(c.stopped).toEqual(["admin request"]);
  });

  it("their commands build the requests the old CLI sent", async () => {
    const [crashCli] = crash.cli;
    expect(await crashCli?.request(input(["/node/connection"], { reason: "chaos test" }))).toEqual({ path: "/node/connection", reason: "chaos test" });
    expect(await crashCli?.request(input(["/node/connection"]))).toEqual({ path: "/node/connection" });
    expect(crashCli?.needsTarget).toBe(true);
    expect(shutdown.cli[0]?.needsTarget).toBe(true);
    expect(await setLogLevel.cli[0]?.request(input(["warn"]))).toEqual({ level: "warn" });
    expect(() => setLogLevel.cli[0]?.request(input(["loud"]))).toThrow(/^log level: /);
  });
});
