// `dcnet creds`: the cluster's credentials, made with openssl in a folder the operator keeps (the CA
// key included): init, server, node, user, revoke, nats-conf, ls. Everything is written mode 0600;
// nothing secret is printed. docs/security.md walks through a secured 3-server setup with it.
import { NAMED_VIP_BUCKET } from "../actors/l4lb/model.js";
import { OVERLAY_BUCKET } from "../actors/overlay/model.js";
import { resolve } from "node:path";
import { Option, type Command } from "commander";
import {
  AuthError,
  CREDS_FILES,
  DEFAULT_DAYS,
  USER_ROLES,
  initCredsDir,
  issue,
  readIssued,
  revoke,
  writeUsersFile,
  type IssuedCert,
  type IssueRequest,
} from "../transport/auth/index.js";

/**
 * What every node credential is granted beyond gossip and admin: the JetStream KV buckets of
 * named-VIP addresses (the L4LB allocates there) and of the overlay's subnets and VTEPs. Every writer of the users file passes the same
 * list, or a later `revoke` or `nats-conf` would drop the grant. A cluster that renames the bucket
 * (l4lb.bucket) must grant that name instead.
 */
export const NODE_GRANTS = { kvBuckets: [NAMED_VIP_BUCKET, OVERLAY_BUCKET] };

interface DirFlags {
  dir: string;
  days?: string;
}

const RELOAD = "copy it to every nats-server and reload them (nats-server --signal reload=<pid>, or SIGHUP)";

/** `dcnet creds` on the program (cli/main.ts imports this module only when that command runs). */
export function registerCreds(program: Command, description: string): void {
  const creds = program.command("creds").description(description);
  const dirOption = () => new Option("--dir <dir>", "the credentials folder (env DCNET_CREDS_DIR)").default(process.env.DCNET_CREDS_DIR ?? "dcnet-creds");
  const daysOption = (days: number) => new Option("--days <n>", `validity in days (default ${days})`);
  creds
    .command("init")
    .description("make the folder and the cluster's CA (keep ca.key offline)")
    .addOption(dirOption())
    .addOption(daysOption(DEFAULT_DAYS.ca))
    .option("--cluster <name>", "cluster name (config cluster)", process.env.DCNET_CLUSTER ?? "dcnet")
    .action((flags: DirFlags & { cluster: string }) => run(() => init(flags)));
  creds
    .command("server <name>")
    .description("a nats-server certificate: <name>.crt and <name>.key, for client TLS and cluster routes")
    .option("--ip <ip>", "an IP clients or other servers reach it by; repeatable", collect)
    .option("--dns <name>", "a DNS name clients or other servers reach it by; repeatable", collect)
    .addOption(dirOption())
    .addOption(daysOption(DEFAULT_DAYS.cert))
    .action((name: string, flags: DirFlags & { ip?: string[]; dns?: string[] }) =>
      run(() => issueOne(flags, { name, role: "server", ...(flags.ip ? { ips: flags.ip } : {}), ...(flags.dns ? { dns: flags.dns } : {}) })),
    );
  creds
    .command("node <id>")
    .description("a node's credential: <id>.pem (nats.credentials / dcnet node --creds)")
    .addOption(dirOption())
    .addOption(daysOption(DEFAULT_DAYS.cert))
    .action((id: string, flags: DirFlags) => run(() => issueOne(flags, { name: id, role: "node" })));
  creds
    .command("user <name>")
    .description("a person's or tool's credential for dcnet ctl: <name>.pem")
    .addOption(new Option("--role <role>", "what it may do: viewer (read), operator (+ change state, tasks, log level), admin (+ shutdown, crash)").choices(USER_ROLES).makeOptionMandatory())
    .addOption(dirOption())
    .addOption(daysOption(DEFAULT_DAYS.cert))
    .action((name: string, flags: DirFlags & { role: (typeof USER_ROLES)[number] }) => run(() => issueOne(flags, { name, role: flags.role })));
  creds
    .command("revoke <name>")
    .description("revoke every certificate of <name> (or one, --serial) and regenerate nats-auth.conf")
    .option("--serial <hex>", "only this certificate (the old one, after a rotation)")
    .addOption(dirOption())
    .action((name: string, flags: DirFlags & { serial?: string }) => run(() => revokeOne(name, flags)));
  creds
    .command("nats-conf")
    .description(`regenerate ${CREDS_FILES.users} (the users the nats-servers include) from issued.json, leaving expired ones out`)
    .addOption(dirOption())
    .option("--print", "print it instead of naming the file")
    .action((flags: DirFlags & { print?: boolean }) => run(() => natsConf(flags)));
  creds
    .command("ls")
    .description("list live and revoked certificates")
    .addOption(dirOption())
    .option("--json", "print JSON")
    .action((flags: DirFlags & { json?: boolean }) => run(() => list(flags)));
}

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** Runs a sub-command; a refusal (bad input, openssl, the folder) is one line and exit code 2. */
async function run(f: () => Promise<void>): Promise<void> {
  try {
    await f();
  } catch (err) {
    if (!(err instanceof AuthError) && !(err instanceof RangeError) && !(err instanceof TypeError) && !(err as { code?: string }).code?.startsWith("DCNET_E_")) throw err;
    console.error(`dcnet: ${(err as Error).message}`);
    process.exitCode = 2;
  }
}

function days(flags: DirFlags): number | undefined {
  if (flags.days === undefined) return undefined;
  const n = Number(flags.days);
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`--days must be a whole number of days, got "${flags.days}"`);
  return n;
}

async function init(flags: DirFlags & { cluster: string }): Promise<void> {
  const d = days(flags);
  const files = await initCredsDir(flags.dir, { cluster: flags.cluster, ...(d ? { days: d } : {}) });
  console.log(`made the CA of cluster "${flags.cluster}" in ${resolve(flags.dir)}: ${files.map((f) => f.slice(f.lastIndexOf("/") + 1)).join(", ")}`);
  console.log(`keep ${CREDS_FILES.caKey} offline; next: dcnet creds server <name> --ip <ip>, dcnet creds node <id>, dcnet creds user <name> --role <role>`);
}

async function issueOne(flags: DirFlags, req: IssueRequest): Promise<void> {
  const d = days(flags);
  const [cert] = await issue(flags.dir, [{ ...req, ...(d ? { days: d } : {}) }], NODE_GRANTS);
  if (!cert) return;
  const list = await readIssued(flags.dir);
  console.log(`wrote ${cert.files.map((f) => resolve(flags.dir, f)).join(", ")}: ${describe(cert, list.cluster)}`);
  const older = list.certs.filter((c) => c.name === cert.name && c.serial !== cert.serial);
  if (older.length > 0) console.log(`rotation: ${older.map((c) => c.serial).join(", ")} still valid; once ${cert.name} runs on the new one: dcnet creds revoke ${cert.name} --serial <old>`);
  if (cert.role === "server") console.log(`in its nats-server config: tls { cert_file, key_file, ca_file: ${CREDS_FILES.caCert}, verify_and_map: true } (docs/security.md)`);
  else console.log(`updated ${resolve(flags.dir, CREDS_FILES.users)}: ${RELOAD}`);
}

async function revokeOne(name: string, flags: DirFlags & { serial?: string }): Promise<void> {
  const gone = await revoke(flags.dir, name, { ...NODE_GRANTS, ...(flags.serial ? { serial: flags.serial } : {}) });
  console.log(`revoked ${gone.map((c) => `${c.role} ${c.name} serial ${c.serial}`).join(", ")}`);
  console.log(`updated ${resolve(flags.dir, CREDS_FILES.users)}: ${RELOAD}; until then the servers still accept it`);
}

async function natsConf(flags: DirFlags & { print?: boolean }): Promise<void> {
  const file = await writeUsersFile(flags.dir, NODE_GRANTS);
  if (flags.print) {
    const { readFile } = await import("node:fs/promises");
    process.stdout.write(await readFile(file, "utf8"));
  } else console.log(`wrote ${resolve(file)}: ${RELOAD}`);
}

async function list(flags: DirFlags & { json?: boolean }): Promise<void> {
  const l = await readIssued(flags.dir);
  if (flags.json) return void console.log(JSON.stringify(l, null, 2));
  const now = Date.now();
  console.log(`cluster ${l.cluster}`);
  for (const c of l.certs) console.log(`  ${describe(c, l.cluster)}${Date.parse(c.notAfter) < now ? "  EXPIRED" : ""}`);
  for (const r of l.revoked) console.log(`  revoked: ${r.role} ${r.name} serial ${r.serial} at ${r.revokedAt}`);
}

function describe(c: IssuedCert, cluster: string): string {
  return `${c.role} ${c.name} of cluster ${cluster}, serial ${c.serial}, valid until ${c.notAfter}`;
}
