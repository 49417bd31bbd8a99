// `dcnet ctl`: admin requests over NATS. Tables by default, --json for programs.
// Without --node or --all a request goes to the scatter-gather subject and the first node to
// answer replies, so on a one-node `dcnet up` plain `dcnet ctl ping` just works.
import { readFile } from "node:fs/promises";
import { Option, type Command } from "commander";
import { pino } from "pino";
import { Transport } from "../transport/index.js";
import { startTracing } from "../observability/tracing.js";
import { createRegistry } from "../observability/metrics.js";
import { splitList, LOG_LEVELS } from "../config/index.js";
import { AdminClient, AdminRequestError, type OpName } from "../actors/admin/index.js";
import { formatAll, formatOk, formatPong, formatStatus, formatMembers, formatKeys, formatGet, formatTasks, formatVips, formatDnsRecords, formatDnsLookup } from "./format.js";
import type { StatusBody, PongBody, OkBody, MembersBody, StateKeysBody, StateGetBody, TaskLsBody, VipLsBody, DnsRecordsBody, DnsLookupBody } from "../actors/admin/index.js";

interface CtlFlags {
  nats: string;
  cluster: string;
  node?: string;
  all?: boolean;
  json?: boolean;
  timeout: string;
}

export function registerCtl(program: Command): void {
  const ctl = program
    .command("ctl")
    .description("send admin requests to nodes over NATS")
    .option("--nats <urls>", "NATS server URL(s), comma separated", process.env.DCNET_NATS ?? "nats://127.0.0.1:4222")
    .option("--cluster <name>", "cluster name", process.env.DCNET_CLUSTER ?? "dcnet")
    .addOption(new Option("--node <id>", "the node to ask").conflicts("all"))
    .option("--all", "ask every node (scatter-gather until the timeout)")
    .option("--json", "print JSON instead of tables")
    .option("--timeout <ms>", "request timeout in milliseconds", "2000");

  const run = (op: OpName, body: (args: string[]) => Record<string, unknown>, needsTarget = false) =>
    async function (this: Command, ...args: unknown[]) {
      const flags = ctl.opts<CtlFlags>();
      if (needsTarget && !flags.node && !flags.all) {
        console.error(`dcnet: ${op} needs --node <id> or --all`);
        process.exitCode = 2;
        return;
      }
      process.exitCode = await request(flags, op, body(args.filter((a): a is string => typeof a === "string")));
    };

  ctl.command("ping").description("round trip to a node").action(run("ping", () => ({})));
  ctl.command("status").description("node id, version, uptime, NATS server, actor tree").action(run("status", () => ({})));
  ctl
    .command("crash <actor-path>")
    .description("fault injection: crash the actor at <actor-path> (node config admin.allowCrash)")
    .option("--reason <text>", "error message recorded as the crash reason")
    .action(async function (this: Command, path: string) {
      const reason = this.opts<{ reason?: string }>().reason;
      await run("crash", () => ({ path, ...(reason ? { reason } : {}) }), true).call(this);
    });
  ctl
    .command("log-level <level>")
    .description(`change the log level at runtime (${LOG_LEVELS.join(", ")})`)
    .action(run("log-level", ([level]) => ({ level })));
  ctl.command("shutdown").description("ordered shutdown of a node").action(run("shutdown", () => ({}), true));
  ctl.command("members").description("cluster membership as this node sees it").action(run("members", () => ({})));

  const state = ctl.command("state").description("the replicated store (CRDT keys)");
  state.command("keys [prefix]").description("keys with live values, optionally under a prefix").action(run("state-keys", ([prefix]) => ({ prefix: prefix ?? "" })));
  state.command("get <key>").description("a key's value as JSON").action(run("state-get", ([key]) => ({ key })));
  const update = (make: (a: string[]) => Record<string, unknown>) => run("state-update", (a) => ({ key: a[0], ops: [make(a)] }));
  state
    .command("set <key> <field> <json>")
    .description("set a register field (the value is JSON; a bare word is taken as a string)")
    .action(update(([, field, v]) => ({ op: "set", field, value: jsonArg(v ?? "") })));
  state.command("add <key> <field> <json>").description("add an element to a set field").action(update(([, field, v]) => ({ op: "add", field, elem: jsonArg(v ?? "") })));
  state.command("remove <key> <field> <json>").description("remove an element from a set field").action(update(([, field, v]) => ({ op: "remove", field, elem: jsonArg(v ?? "") })));
  const task = ctl.command("task").description("native task registrations (this node owns what it accepts)");
  task
    .command("add <json-file>")
    .description("register a task (the task model as JSON; '-' reads stdin); --ttl makes it expire unless re-added")
    .option("--ttl <ms>", "expire the registration unless renewed within this many ms")
    .action(async function (this: Command, file: string) {
      const ttl = this.opts<{ ttl?: string }>().ttl;
      let body: Record<string, unknown>;
      try {
        body = { task: await readTaskJson(file), ...(ttl ? { ttlMs: Number(ttl) } : {}) };
      } catch (err) {
        console.error(`dcnet: ${(err as Error).message}`);
        process.exitCode = 2;
        return;
      }
      await run("task-add", () => body, true).call(this);
    });
  task.command("rm <id>").description("deregister a task").action(run("task-rm", ([id]) => ({ id }), true));
  task.command("ls").description("every task in the catalogue, with its owner node").action(run("task-ls", () => ({})));
  ctl.command("vip").description("the VIP table").command("ls").description("every VIP with its backends (owner, IP, port, weight)").action(run("vip-ls", () => ({})));
  const dns = ctl.command("dns").description("DNS on a node: its zones, and lookups through its own listener");
  dns.command("records [zone]").description("every record of a zone (default: all zones) in zone-file form").action(run("dns-records", ([zone]) => (zone ? { zone } : {})));
  dns
    .command("lookup <name> [type]")
    .description("ask the node's DNS listener (zones, forwarding, cache), like dig; type defaults to A")
    .action(run("dns-lookup", ([name, type]) => ({ name, type: type ?? "A" })));
  state.command("delete <key> [field]").description("delete a field, or the whole key").action(update(([, field]) => (field ? { op: "delete-field", field } : { op: "delete-key" })));
}

async function readTaskJson(source: string): Promise<unknown> {
  const text = source === "-" ? await new Promise<string>((resolve, reject) => {
    let buf = "";
    process.stdin.setEncoding("utf8").on("data", (c: string) => (buf += c)).on("end", () => resolve(buf)).on("error", reject);
  }) : await readFile(source, "utf8");
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new AdminRequestError("DCNET_E_ADMIN_BAD_REQUEST", `${source === "-" ? "stdin" : source} is not valid JSON: ${(err as Error).message}`);
  }
}

/** `42`, `true`, `{"a":1}` are JSON; anything that does not parse is a string, so `state set k f hello` works. */
function jsonArg(v: string): unknown {
  try {
    return JSON.parse(v) as unknown;
  } catch {
    return v;
  }
}

async function request(flags: CtlFlags, op: OpName, body: Record<string, unknown>): Promise<number> {
  const timeoutMs = Number(flags.timeout);
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) {
    console.error(`dcnet: --timeout must be a positive number of milliseconds, got "${flags.timeout}"`);
    return 2;
  }
  const cliId = `ctl-${process.pid}`;
  const tracing = startTracing({ nodeId: cliId, cluster: flags.cluster });
  const transport = await Transport.connect({
    servers: splitList(flags.nats),
    cluster: flags.cluster,
    nodeId: cliId,
    // The CLI reports failures itself, in one line; transport logs would only repeat them.
    logger: pino({ level: "silent" }),
    metrics: createRegistry({ node: cliId, cluster: flags.cluster }),
    ...(tracing.tracer ? { tracer: tracing.tracer } : {}),
    connectTimeoutMs: timeoutMs,
  });
  const client = new AdminClient(transport, timeoutMs);
  try {
    if (flags.all) {
      const replies = await client.requestAll(op, body as never);
      print(flags, replies, () => formatAll(op, replies));
      if (replies.length === 0) {
        console.error(`dcnet: no node in cluster "${flags.cluster}" answered within ${timeoutMs} ms`);
        return 1;
      }
      return replies.every((r) => r.ok) ? 0 : 1;
    }
    const started = performance.now();
    const reply = flags.node ? await client.request(flags.node, op, body as never) : await client.requestFirst(op, body as never);
    const rtt = performance.now() - started;
    print(flags, reply, () => human(op, reply, rtt));
    return 0;
  } catch (err) {
    if (err instanceof AdminRequestError) {
      if (flags.json) console.log(JSON.stringify({ error: { code: err.code, message: err.message } }));
      console.error(`dcnet: ${err.message}`);
      return 1;
    }
    throw err;
  } finally {
    await transport.close().catch(() => undefined);
    await tracing.shutdown().catch(() => undefined);
  }
}

function human(op: OpName, reply: unknown, rttMs: number): string {
  switch (op) {
    case "ping":
      return formatPong(reply as PongBody, rttMs);
    case "status":
      return formatStatus(reply as StatusBody);
    case "members":
      return formatMembers(reply as MembersBody);
    case "state-keys":
      return formatKeys(reply as StateKeysBody);
    case "state-get":
      return formatGet(reply as StateGetBody);
    case "task-ls":
      return formatTasks(reply as TaskLsBody);
    case "vip-ls":
      return formatVips(reply as VipLsBody);
    case "dns-records":
      return formatDnsRecords(reply as DnsRecordsBody);
    case "dns-lookup":
      return formatDnsLookup(reply as DnsLookupBody);
    default:
      return formatOk(reply as OkBody);
  }
}

function print(flags: CtlFlags, value: unknown, human: () => string): void {
  console.log(flags.json ? JSON.stringify(value, null, 2) : human());
}
