// `dcnet ctl`: admin requests over NATS. Tables by default, --json for programs.
// Without --node or --all a request goes to the scatter-gather subject and the first node to
// answer replies, so on a one-node `dcnet up` plain `dcnet ctl ping` just works.
// The sub-commands are not written here: each op declares its own (actors/<subsystem>/ops.ts), and
// this file turns every declaration of the list into a command, a request and its printed reply.
import { readFile } from "node:fs/promises";
import { Option, type Command } from "commander";
import { AdminClient, AdminRequestError, ADMIN_ERRORS, type AnyOp, type CliCommand, type CliGroup, type CliInput, type OpDef } from "../actors/admin/ops.js";
import { ALL_OPS } from "../actors/node/ops.js";
import { formatAll } from "./format.js";
import { isAdminRole, type AdminRole } from "../transport/subjects.js";
import { inboxPrefix } from "../transport/auth/identity.js";
import { loadCredential, type Credential } from "../transport/auth/load.js";
import type { Transport } from "../transport/connection.js";
import { defaultCtlCredential } from "./up-creds.js";

interface CtlFlags {
  nats: string;
  cluster: string;
  node?: string;
  all?: boolean;
  json?: boolean;
  timeout: string;
  creds?: string;
  insecure?: boolean;
}

/** `dcnet ctl` with one sub-command per CLI declaration of `ops` (the node's standard list by default). */
export function registerCtl(program: Command, ops: readonly AnyOp[] = ALL_OPS): void {
  const ctl = program
    .command("ctl")
    .description("send admin requests to nodes over NATS")
    .option("--nats <urls>", "NATS server URL(s), comma separated", process.env.DCNET_NATS ?? "nats://127.0.0.1:4222")
    .option("--cluster <name>", "cluster name", process.env.DCNET_CLUSTER ?? "dcnet")
    .addOption(new Option("--node <id>", "the node to ask").conflicts("all"))
    .option("--all", "ask every node (scatter-gather until the timeout)")
    .option("--json", "print JSON instead of tables")
    .option("--timeout <ms>", "request timeout in milliseconds", "2000")
    .option("--creds <file>", "NATS credential (dcnet creds user <name> --role <role>); its role is the requests' (env DCNET_NATS_CREDENTIALS; default: dcnet up's admin credential for a local --nats)")
    .addOption(new Option("--insecure", "use no credential, even a default one (a NATS server without authentication)").conflicts("creds"));
  const groups = new Map<string, { readonly group: CliGroup; readonly command: Command }>();
  const parent = (group: CliGroup | undefined): Command => {
    if (!group) return ctl;
    const known = groups.get(group.word);
    if (known && known.group.description !== group.description) throw new Error(`internal: ctl ${group.word} is described twice ("${known.group.description}", "${group.description}")`);
    if (known) return known.command;
    const command = ctl.command(group.word).description(group.description);
    groups.set(group.word, { group, command });
    return command;
  };
  for (const op of ops) for (const cli of op.cli) addCommand(ctl, parent(cli.group), op, cli);
}

function addCommand<Q, R>(ctl: Command, parent: Command, op: OpDef<string, Q, R>, cli: CliCommand<Q>): void {
  const command = parent.command(cli.command).description(cli.description);
  for (const o of cli.options ?? []) command.option(o.flags, o.description);
  command.action(async function (this: Command) {
    const flags = ctl.opts<CtlFlags>();
    if (cli.needsTarget && !flags.node && !flags.all) {
      console.error(`dcnet: ${op.name} needs --node <id> or --all`);
      process.exitCode = 2;
      return;
    }
    let body: Q;
    try {
      body = await cli.request(input(this));
    } catch (err) {
      console.error(`dcnet: ${err instanceof Error ? err.message : String(err)}`);
      process.exitCode = 2;
      return;
    }
    const credentials = ctlCredential(flags, ctl);
    process.exitCode = credentials === undefined ? 2 : await request(flags, op, body, credentials);
  });
}

/** The invocation as an op's `request` reads it. */
function input(command: Command): CliInput {
  const args: readonly unknown[] = command.processedArgs;
  const optionalArg = (i: number): string | undefined => {
    const v = args[i];
    return typeof v === "string" ? v : undefined;
  };
  return {
    arg(i) {
      const v = optionalArg(i);
      if (v === undefined) throw new AdminRequestError(ADMIN_ERRORS.badRequest, `missing argument ${i + 1} of ${command.name()}`);
      return v;
    },
    optionalArg,
    option: (name) => {
      const v: unknown = command.opts()[name];
      return typeof v === "string" ? v : undefined;
    },
    readText: (source) => (source === "-" ? readStdin() : readFile(source, "utf8")),
  };
}

function readStdin(): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    let buf = "";
    process.stdin
      .setEncoding("utf8")
      .on("data", (c: string) => (buf += c))
      .on("end", () => resolve(buf))
      .on("error", reject);
  });
}

/** Who `dcnet ctl` is on the bus: none (no credential), or a loaded credential. */
type CtlIdentity = { readonly credential: Credential | null };

/**
 * The credential to use (--creds, DCNET_NATS_CREDENTIALS, dcnet up's admin credential for a local
 * server; none with --insecure or when there is none), loaded and checked. Undefined: the problem was
 * printed, exit 2. Its cluster is the one to talk to unless --cluster says otherwise, and must agree.
 */
function ctlCredential(flags: CtlFlags, ctl: Command): CtlIdentity | undefined {
  const servers = flags.nats.split(",").map((u) => u.trim());
  const file = flags.insecure ? undefined : (flags.creds ?? defaultCtlCredential(servers));
  if (file === undefined) return { credential: null };
  try {
    const credential = loadCredential(file);
    for (const w of credential.warnings) console.error(`dcnet: warning: ${w}`);
    if (!isAdminRole(credential.role)) throw new Error(`NATS credential ${file} is a ${credential.role}'s; admin requests need a viewer, operator or admin credential (dcnet creds user <name> --role <role>)`);
    if (ctl.getOptionValueSource("cluster") === "default") flags.cluster = credential.cluster;
    else if (credential.cluster !== flags.cluster) throw new Error(`NATS credential ${file} is for cluster "${credential.cluster}", not "${flags.cluster}" (--cluster)`);
    return { credential };
  } catch (err) {
    console.error(`dcnet: ${(err as Error).message}`);
    return undefined;
  }
}

async function request<Q, R>(flags: CtlFlags, op: OpDef<string, Q, R>, body: Q, who: CtlIdentity): Promise<number> {
  const timeoutMs = Number(flags.timeout);
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) {
    console.error(`dcnet: --timeout must be a positive number of milliseconds, got "${flags.timeout}"`);
    return 2;
  }
  // Loaded once a request is to be sent: `ctl --help` and usage errors never need NATS.
  // The transport's connection module, not its door: the door also loads the JetStream KV allocator.
  const [{ Transport }, { startTracing }, { default: pino }, { splitList }] = await Promise.all([
    import("../transport/connection.js"),
    import("../observability/tracing.js"),
    import("pino"),
    import("../config/load.js"),
  ]);
  const cliId = `ctl-${process.pid}`;
  const tracing = startTracing({ nodeId: cliId, cluster: flags.cluster });
  const cred = who.credential;
  let transport: Transport;
  try {
    transport = await Transport.connect({
      servers: splitList(flags.nats),
      cluster: flags.cluster,
      nodeId: cliId,
      // The CLI reports failures itself, in one line; transport logs would only repeat them.
      logger: pino({ level: "silent" }),
      ...(tracing.tracer ? { tracer: tracing.tracer } : {}),
      connectTimeoutMs: timeoutMs,
      // With a credential: TLS with its certificate, replies in the only inboxes it may hear.
      ...(cred ? { tls: cred.tls, inboxPrefix: inboxPrefix(cred.cluster, cred.name) } : {}),
    });
  } catch (err) {
    await tracing.shutdown().catch(() => undefined);
    console.error(`dcnet: ${(err as Error).message}${connectHint(err, cred)}`);
    return 1;
  }
  // The role the requests go under is the credential's: the server refuses any other.
  const client = new AdminClient(transport, timeoutMs, undefined, cred ? { role: cred.role as AdminRole } : {});
  try {
    if (flags.all) {
      const replies = await client.callAll(op, body);
      print(flags, replies, () => formatAll(op, replies));
      if (replies.length === 0) {
        console.error(`dcnet: no node in cluster "${flags.cluster}" answered within ${timeoutMs} ms`);
        return 1;
      }
      return replies.every((r) => r.ok) ? 0 : 1;
    }
    const started = performance.now();
    const reply = await client.call(op, body, flags.node ? { node: flags.node } : {});
    const rtt = performance.now() - started;
    print(flags, reply, () => op.human(reply, rtt));
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

/** What a refused connection most likely means, for the one line ctl prints. */
function connectHint(err: unknown, cred: Credential | null): string {
  if (cred) return ` (with credential ${cred.file}, ${cred.role} "${cred.name}": a server refuses a certificate that is revoked, expired or from another CA; its log says which)`;
  const text = String((err as Error).cause ?? "");
  if (/certificate|TLS|tls/.test(text)) return " (the server requires TLS with a client certificate: pass --creds <file> or set DCNET_NATS_CREDENTIALS; `dcnet up` writes ~/.local/state/dcnet/up/<port>/admin.pem)";
  return "";
}

function print(flags: CtlFlags, value: unknown, human: () => string): void {
  console.log(flags.json ? JSON.stringify(value, null, 2) : human());
}
