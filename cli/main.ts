// `dcnet up | node | creds | ctl`: argument parsing and dispatch only; the work lives in the commands.
// Start-up time matters (a CNI plugin runs `dcnet` once per container start), so each command's module,
// and with it the node runtime, NATS, OpenTelemetry, nact, prom-client…, is imported only when that
// command runs: `dcnet --help` loads commander and nothing else. bench/cli-start.ts measures it.
import { Command, CommanderError, Help } from "commander";
import { VERSION } from "../config/version.js";

interface LazyCommand {
  readonly name: string;
  /** The one-line description `dcnet --help` lists, shown without loading the command's module. */
  readonly summary: string;
  /** Imports the command's module and registers the command (options, sub-commands, action). */
  readonly register: (program: Command, summary: string) => Promise<void>;
}

// Listed in this order by `dcnet --help`.
const COMMANDS: readonly LazyCommand[] = [
  {
    name: "node",
    summary: "run one node: root supervisor, NATS transport, admin service",
    register: async (program, summary) => (await import("./node.command.js")).registerNode(program, summary),
  },
  {
    name: "up",
    summary: "start a local nats-server (TLS with throwaway credentials, JetStream on, data in a temp dir) and one node connected to it",
    register: async (program, summary) => (await import("./up.command.js")).registerUp(program, summary),
  },
  {
    name: "creds",
    summary: "make and revoke the cluster's NATS credentials (CA, servers, nodes, users) and the nats-server users file",
    register: async (program, summary) => (await import("./creds.command.js")).registerCreds(program, summary),
  },
  {
    name: "ctl",
    // The same words as the description registerCtl gives the command (cli/ctl.command.ts).
    summary: "send admin requests to nodes over NATS",
    register: async (program) => (await import("./ctl.command.js")).registerCtl(program),
  },
];

/** The sub-command the arguments name: the first word that is not an option (`dcnet help X` names X). */
function invokedCommand(args: readonly string[]): string | undefined {
  const i = args.findIndex((a) => !a.startsWith("-"));
  if (i < 0) return undefined;
  return args[i] === "help" ? args[i + 1] : args[i];
}

const program = new Command()
  .name("dcnet")
  .description("dcnet: DNS, L4LB, overlay and state gossip for a cluster, one daemon per node")
  .version(VERSION)
  .exitOverride()
  .showHelpAfterError();

// A command that is not loaded is a placeholder with no options yet; list it as the real one reads.
const placeholders = new WeakSet<Command>();
const defaultHelp = new Help();
program.configureHelp({
  subcommandTerm: (cmd) => (placeholders.has(cmd) ? `${cmd.name()} [options]` : defaultHelp.subcommandTerm(cmd)),
});

const invoked = invokedCommand(process.argv.slice(2));
for (const c of COMMANDS) {
  if (c.name === invoked) {
    await c.register(program, c.summary);
    continue;
  }
  const placeholder = program
    .command(c.name)
    .description(c.summary)
    .action(() => {
      throw new Error(`internal: command ${c.name} ran without its module`);
    });
  placeholders.add(placeholder);
}

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    // Help and version are successes; every usage error is exit code 2, like a config error.
    process.exitCode = err.code === "commander.helpDisplayed" || err.code === "commander.version" || err.code === "commander.help" ? 0 : 2;
  } else {
    // A node that failed half-way through its start still holds its NATS connection and timers: exit
    // rather than linger.
    console.error(`dcnet: ${(err as Error).message}`);
    process.exit(1);
  }
}
