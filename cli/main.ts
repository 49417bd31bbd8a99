// `dcnet up | node | ctl`: argument parsing and dispatch only; the work lives in the commands.
import { Command, CommanderError, Option } from "commander";
import { VERSION } from "../actors/node/version.js";
import { runNodeCommand } from "./node.command.js";
import { runUpCommand } from "./up.command.js";
import { registerCtl } from "./ctl.command.js";
import { LOG_LEVELS } from "../config/index.js";

const program = new Command()
  .name("dcnet")
  .description("dcnet: DNS, L4LB, overlay and state gossip for a cluster, one daemon per node")
  .version(VERSION)
  .exitOverride()
  .showHelpAfterError();

program
  .command("node")
  .description("run one node: root supervisor, NATS transport, admin service")
  .option("--nats <urls>", "NATS server URL(s), comma separated (config nats.servers)")
  .option("--id <node-id>", "node id, unique in the cluster (config id)")
  .option("--cluster <name>", "cluster name (config cluster)")
  .option("--config <file>", "config file, YAML or JSON")
  .option("--mesos <urls>", "Mesos master(s) whose Operator API stream to follow, comma separated (config mesos.masters)")
  .option("--mesos-agent <url>", "this node's Mesos agent, polled for its tasks (config mesos.agent)")
  .addOption(new Option("--log-level <level>", "log level (config log.level)").choices(LOG_LEVELS))
  .action(async (opts: NodeFlags) => {
    process.exitCode = await runNodeCommand(opts);
  });

program
  .command("up")
  .description("start a local nats-server (JetStream on, data in a temp dir) and one node connected to it")
  .option("--nats-port <port>", "client port of the local nats-server", "4222")
  .option("--id <node-id>", "node id", "local")
  .option("--cluster <name>", "cluster name")
  .option("--config <file>", "config file, YAML or JSON")
  .addOption(new Option("--log-level <level>", "log level").choices(LOG_LEVELS))
  .action(async (opts: UpFlags) => {
    process.exitCode = await runUpCommand(opts);
  });

// Both commands run a node, so both take its DNS and metrics listeners.
for (const name of ["node", "up"]) {
  program.commands
    .find((c) => c.name() === name)
    ?.option("--dns-listen <addr:port>", "DNS listen address, UDP and TCP; repeat for several (config dns.listen)", collect)
    .option("--dns-upstream <ip[:port]>", "resolver for names outside the dcnet zones; repeatable (config dns.upstreams)", collect)
    .option("--metrics-listen <addr:port>", "Prometheus /metrics endpoint, empty to turn off (config metrics.listen)");
}

registerCtl(program);

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

export interface NodeFlags {
  nats?: string;
  dnsListen?: string[];
  dnsUpstream?: string[];
  metricsListen?: string;
  mesosAgent?: string;
  mesos?: string;
  id?: string;
  cluster?: string;
  config?: string;
  logLevel?: string;
}
export interface UpFlags extends NodeFlags {
  natsPort: string;
}

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    // Help and version are successes; every usage error is exit code 2, like a config error.
    process.exitCode = err.code === "commander.helpDisplayed" || err.code === "commander.version" || err.code === "commander.help" ? 0 : 2;
  } else {
    console.error(`dcnet: ${(err as Error).message}`);
    process.exitCode = 1;
  }
}
