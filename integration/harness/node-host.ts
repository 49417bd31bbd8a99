// One simulated machine: a container of the skeleton image on a user-defined bridge, single-homed
// with a fixed IP and an alias, running the host's /usr read-only (stack.md §4.3, §4.4).
import type { Readable } from "node:stream";
import { GenericContainer, Wait, getContainerRuntimeClient } from "testcontainers";
import type { ContainerRuntimeClient, ExecResult, StartedTestContainer } from "testcontainers";
import { demuxLogLines, type LogLine } from "./docker-logs.js";
import { HOSTFS_IMAGE, REPO_ROOT } from "./paths.js";
import { WaitAborted, shellQuote, waitFor } from "./shell.js";

type Dockerode = ContainerRuntimeClient["container"]["dockerode"];
type DockerContainer = ReturnType<Dockerode["getContainer"]>;
export type ContainerInspect = Awaited<ReturnType<DockerContainer["inspect"]>>;

export interface NodeHostOptions {
  /** Network alias and hostname; the container is named `<network>-<name>`. */
  name: string;
  network: string;
  ip: string;
  /** argv, or a shell snippet. Runs under tini after `ip route del default`. */
  command: string | readonly string[];
  /** Log line (stdout or stderr) that means "up". Avoid the /g flag: RegExp.test would keep state. */
  ready?: RegExp;
  startupTimeoutMs?: number;
  /** CAP_SYS_ADMIN as well, e.g. for `ip netns add` inside the node (stack.md §4.5). */
  sysAdmin?: boolean;
  env?: Record<string, string>;
  /** Extra bind mounts, e.g. generated configs at /conf. */
  mounts?: { source: string; target: string; mode?: "ro" | "rw" }[];
  /** Namespaced net.* sysctls set at create time (/proc/sys is read-only inside). */
  sysctls?: Record<string, string>;
  /** Unmask /proc/sys so the node may write its own netns sysctls (= --security-opt systempaths=unconfined). */
  writableProcSys?: boolean;
}

const PARTITION_TABLE = "dcnet-test";

/** The testcontainers subclass of stack.md §4.4: NetworkingConfig at create time keeps it off the default bridge. */
class HostContainer extends GenericContainer {
  constructor(o: NodeHostOptions) {
    super(HOSTFS_IMAGE);
    this.withName(`${o.network}-${o.name}`).withHostname(o.name).withNetworkMode(o.network);
    this.createOpts.NetworkingConfig = { EndpointsConfig: { [o.network]: { Aliases: [o.name], IPAMConfig: { IPv4Address: o.ip } } } };
    const mounts = [
      { source: "/usr", target: "/usr", mode: "ro" as const },
      { source: "/etc", target: "/etc", mode: "ro" as const },
      { source: REPO_ROOT, target: "/app", mode: "ro" as const },
      ...(o.mounts ?? []).map((m) => ({ ...m, mode: m.mode ?? ("ro" as const) })),
    ];
    const cmd = typeof o.command === "string" ? o.command : o.command.map(shellQuote).join(" ");
    this.withBindMounts(mounts)
      .withTmpFs({ "/tmp": "rw", "/run": "rw" })
      .withAddedCapabilities("NET_ADMIN", ...(o.sysAdmin ? ["SYS_ADMIN"] : []))
      .withEnvironment(o.env ?? {})
      // tini (docker-init) as PID 1 forwards SIGTERM, so a graceful stop doesn't wait for SIGKILL.
      // Deleting the default route leaves only the bridge subnet reachable (no isolation without iptables).
      .withCommand(["/usr/bin/docker-init", "--", "sh", "-c", `ip route del default 2>/dev/null; exec ${cmd}`])
      .withWaitStrategy(Wait.forLogMessage(o.ready ?? /\bready\b/))
      .withStartupTimeout(o.startupTimeoutMs ?? 20_000);
    if (o.sysctls) this.hostConfig.Sysctls = o.sysctls;
    if (o.writableProcSys) {
      this.hostConfig.MaskedPaths = [];
      this.hostConfig.ReadonlyPaths = [];
    }
  }
}

export class NodeHost {
  constructor(private readonly opts: NodeHostOptions) {}

  /** Creates and starts the container and waits for the ready line; on failure removes it and reports its logs. */
  async start(): Promise<StartedNodeHost> {
    const client = await getContainerRuntimeClient();
    // testcontainers removes a container that never logs its ready line, and its logs with it:
    // follow them during the start so a failure can say why.
    const early: string[] = [];
    let follow: Readable | undefined;
    const container = new HostContainer(this.opts).withLogConsumer((stream) => {
      follow = stream;
      stream.on("error", () => undefined);
      stream.on("data", (chunk: Buffer | string) => {
        early.push(...String(chunk).split("\n").filter(Boolean));
        early.splice(0, Math.max(0, early.length - 30));
      });
    });
    try {
      const started = await container.start();
      return new StartedNodeHost(this.opts, started, client.container.dockerode.getContainer(started.getId()), client.container.dockerode);
    } catch (e) {
      // A failure before the wait (create, start) leaves the container behind.
      await client.container.dockerode.getContainer(`${this.opts.network}-${this.opts.name}`).remove({ force: true }).catch(() => undefined);
      const why = e instanceof Error ? e.message : String(e);
      throw new Error(`node host ${this.opts.name} did not start: ${why}\n--- its last log lines ---\n${early.join("\n") || "(none)"}`, { cause: e });
    } finally {
      follow?.destroy();
    }
  }
}

export class StartedNodeHost {
  readonly name: string;
  readonly ip: string;
  readonly network: string;
  private readonly ready: RegExp;
  private readonly partitioned = new Set<string>();

  constructor(
    opts: NodeHostOptions,
    /** The testcontainers handle, for anything not wrapped here (copying files, …). */
    readonly container: StartedTestContainer,
    private readonly docker: DockerContainer,
    private readonly dockerode: Dockerode,
  ) {
    this.name = opts.name;
    this.ip = opts.ip;
    this.network = opts.network;
    this.ready = opts.ready ?? /\bready\b/;
  }

  get id(): string {
    return this.container.getId();
  }

  /** Runs argv, or a string through `sh -c` (testcontainers would split a string on spaces). */
  exec(cmd: string | readonly string[]): Promise<ExecResult> {
    return this.container.exec(typeof cmd === "string" ? ["sh", "-c", cmd] : [...cmd]);
  }

  inspect(): Promise<ContainerInspect> {
    return this.docker.inspect();
  }

  async isRunning(): Promise<boolean> {
    return (await this.inspect()).State.Running;
  }

  /** stdout and stderr as text, interleaved as the engine stored them; `sinceStart` keeps only the current run. */
  async logs(opts: { sinceStart?: boolean } = {}): Promise<string> {
    return (await this.logLines(opts)).map((l) => l.text).join("\n");
  }

  async logLines(opts: { sinceStart?: boolean } = {}): Promise<LogLine[]> {
    const buf = await this.docker.logs({ stdout: true, stderr: true, timestamps: true, follow: false });
    const lines = demuxLogLines(buf);
    if (!opts.sinceStart) return lines;
    const started = Date.parse((await this.inspect()).State.StartedAt);
    return lines.filter((l) => l.at >= started);
  }

  /** Waits for a log line of the current run matching `re`; returns the line. */
  waitForLog(re: RegExp, timeoutMs = 20_000): Promise<string> {
    return waitFor(`log ${re} on ${this.name}`, timeoutMs, async () => {
      const hit = (await this.logLines({ sinceStart: true })).find((l) => re.test(l.text));
      if (hit) return hit.text;
      const s = (await this.inspect()).State;
      if (!s.Running) throw new WaitAborted(`${this.name} exited (${s.ExitCode}) before logging ${re}`);
      return undefined;
    }, 100);
  }

  /** Waits until the main process has ended and returns its exit code (tini passes it on; 128+n for signal n). */
  async waitExit(timeoutMs = 20_000): Promise<number> {
    return waitFor(`${this.name} to exit`, timeoutMs, async () => {
      const s = (await this.inspect()).State;
      return s.Running ? undefined : s.ExitCode;
    });
  }

  /** Crash: SIGKILL by default, and waits until the container is no longer running. Other signals return at once. */
  async kill(signal = "SIGKILL"): Promise<void> {
    await this.docker.kill({ signal });
    if (signal === "SIGKILL" || signal === "KILL" || signal === "9") await this.waitExit(10_000);
  }

  /** Hang: freezes every process (cgroup freezer); the network stays up but nothing answers. */
  async pause(): Promise<void> {
    await this.docker.pause();
  }

  async unpause(): Promise<void> {
    await this.docker.unpause();
  }

  /** Graceful stop: SIGTERM, then SIGKILL after `timeout` ms (default 10 s). Keeps the container for logs and exit code. */
  async stop(opts: { timeout?: number } = {}): Promise<number> {
    await this.docker.stop({ t: Math.ceil((opts.timeout ?? 10_000) / 1000) }).catch(ignoreNotModified);
    return this.waitExit();
  }

  /** Starts a stopped or killed node again (same IP and alias) and waits for a fresh ready line. */
  async start(): Promise<void> {
    await this.docker.start().catch(ignoreNotModified);
    this.partitioned.clear(); // each start gets a fresh network namespace: the partition table is gone
    await this.waitForLog(this.ready);
  }

  /** Graceful restart (SIGTERM, `timeout` ms, default 10 s), then waits for a fresh ready line. */
  async restart(opts: { timeout?: number } = {}): Promise<void> {
    await this.docker.restart({ t: Math.ceil((opts.timeout ?? 10_000) / 1000) });
    this.partitioned.clear();
    await this.waitForLog(this.ready);
  }

  /** Pulls the cable: the node loses its interface; everything else keeps running. */
  async disconnect(): Promise<void> {
    await this.dockerode.getNetwork(this.network).disconnect({ Container: this.id, Force: true });
  }

  /** Plugs it back with the same IP and alias. Docker re-adds a default route, which is deleted again. */
  async reconnect(): Promise<void> {
    const EndpointConfig = { IPAMConfig: { IPv4Address: this.ip }, Aliases: [this.name] };
    await this.dockerode.getNetwork(this.network).connect({ Container: this.id, EndpointConfig });
    if (await this.isRunning()) await this.exec("ip route del default 2>/dev/null; true");
  }

  /** Drops all traffic to and from `ips` inside this node (table inet dcnet-test); adds to earlier calls. */
  async partitionFrom(ips: readonly string[]): Promise<void> {
    for (const ip of ips) this.partitioned.add(ip);
    const r = await this.exec(["nft", renderPartition([...this.partitioned])]);
    if (r.exitCode !== 0) throw new Error(`partition on ${this.name} failed: ${r.output.trim()}`);
  }

  /** Removes every partition rule of this node. */
  async heal(): Promise<void> {
    this.partitioned.clear();
    const r = await this.exec(`nft delete table inet ${PARTITION_TABLE} 2>/dev/null; true`);
    if (r.exitCode !== 0) throw new Error(`heal on ${this.name} failed: ${r.output.trim()}`);
  }

  /** Removes the container whatever its state. */
  async remove(): Promise<void> {
    await this.docker.remove({ force: true, v: true }).catch((e: unknown) => {
      if (statusOf(e) !== 404) throw e;
    });
  }
}

/** One atomic nft transaction: (re)creates the table with the whole drop set. */
export function renderPartition(ips: readonly string[]): string {
  const t = `inet ${PARTITION_TABLE}`;
  const elements = ips.length > 0 ? `elements = { ${ips.join(", ")} }` : "";
  return [
    `table ${t}`,
    `delete table ${t}`,
    `table ${t} {`,
    `  set peers { type ipv4_addr; ${elements} }`,
    "  chain in { type filter hook input priority -10; policy accept; ip saddr @peers drop; }",
    "  chain out { type filter hook output priority -10; policy accept; ip daddr @peers drop; }",
    "}",
  ].join("\n");
}

function statusOf(e: unknown): number | undefined {
  return typeof e === "object" && e !== null && "statusCode" in e && typeof e.statusCode === "number" ? e.statusCode : undefined;
}

/** 304 = already in the requested state (stopping a stopped container, starting a running one). */
function ignoreNotModified(e: unknown): void {
  if (statusOf(e) !== 304) throw e;
}

