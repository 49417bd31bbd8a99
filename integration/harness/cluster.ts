// A test cluster on the private engine: one bridge network, a routed NATS cluster of containers
// running the host's nats-server, and node containers running the given command.
// Address plan inside the network's /24 (see integration/README.md): .1 host bridge,
// .10+i nats-i, .100+i node-i.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { NATS_CLIENT_PORT, NATS_MONITOR_PORT, natsAlias, renderNatsConf } from "./nats-conf.js";
import { NodeHost, type NodeHostOptions, type StartedNodeHost } from "./node-host.js";
import { waitFor } from "./shell.js";
import { createTestNetwork, type TestNetwork } from "./test-network.js";

export type NodeCommand = (i: number, natsUrls: readonly string[]) => string | readonly string[];

export interface ClusterOptions {
  /** Node containers, `node-0` … (default 3; 0 gives a NATS-only cluster). */
  nodes?: number;
  /** NATS servers, `nats-0` … (default 3). */
  natsServers?: number;
  /** Default: `node /app/bin/dcnet.js node --nats <urls> --id node-<i>`. */
  nodeCommand?: NodeCommand;
  /** Ready line of a node (default: /dcnet node ready/ with the default command, else /\bready\b/). */
  nodeReady?: RegExp;
  /** Anything else a node needs: SYS_ADMIN, env, sysctls, … */
  nodeOptions?: Partial<Omit<NodeHostOptions, "name" | "network" | "ip" | "command" | "ready">>;
}

export interface Cluster {
  network: TestNetwork;
  nats: StartedNodeHost[];
  nodes: StartedNodeHost[];
  /** `nats://<ip>:4222` of every NATS server, reachable from the test process and from the nodes. */
  natsUrls(): string[];
  natsIp(i: number): string;
  nodeIp(i: number): string;
  /** SIGKILL of NATS server i (its JetStream store, in tmpfs, is lost). */
  killNats(i: number): Promise<void>;
  /** Starts NATS server i again and waits until it has routes to every other running server. */
  startNats(i: number): Promise<void>;
  /** Waits until every running NATS server has a route to every other running one. */
  waitRoutes(timeoutMs?: number): Promise<void>;
  /** Removes every container, the network and the generated configs. */
  stop(): Promise<void>;
}

const NATS_HOST = 10;
const NODE_HOST = 100;

export const defaultNodeCommand: NodeCommand = (i, urls) => ["node", "/app/bin/dcnet.js", "node", "--nats", urls.join(","), "--id", `node-${i}`, "--insecure"];

export async function startCluster(opts: ClusterOptions = {}): Promise<Cluster> {
  const nNats = opts.natsServers ?? 3;
  const nNodes = opts.nodes ?? 3;
  if (!existsSync("/usr/sbin/nats-server") && !existsSync("/usr/bin/nats-server")) {
    throw new Error("nats-server not found in /usr: apt-get install -y nats-server");
  }
  const network = await createTestNetwork();
  const confDir = mkdtempSync(join(tmpdir(), "dcnet-nats-conf-"));
  const nats: StartedNodeHost[] = [];
  const nodes: StartedNodeHost[] = [];
  const cluster = makeCluster(network, confDir, nats, nodes, nNats);
  try {
    for (let i = 0; i < nNats; i++) writeFileSync(join(confDir, `${natsAlias(i)}.conf`), renderNatsConf({ index: i, size: nNats }));
    const natsHosts = Array.from({ length: nNats }, (_, i) =>
      new NodeHost({
        name: natsAlias(i),
        network: network.name,
        ip: network.ip(NATS_HOST + i),
        command: ["nats-server", "-c", `/conf/${natsAlias(i)}.conf`],
        ready: /Server is ready/,
        mounts: [{ source: confDir, target: "/conf" }],
      }).start(),
    );
    nats.push(...(await settleAll(natsHosts)));
    await cluster.waitRoutes();

    const urls = cluster.natsUrls();
    const command = opts.nodeCommand ?? defaultNodeCommand;
    const nodeHosts = Array.from({ length: nNodes }, (_, i) =>
      new NodeHost({
        ...opts.nodeOptions,
        name: `node-${i}`,
        network: network.name,
        ip: network.ip(NODE_HOST + i),
        command: command(i, urls),
        ready: opts.nodeReady ?? (opts.nodeCommand ? /\bready\b/ : /dcnet node ready/),
      }).start(),
    );
    nodes.push(...(await settleAll(nodeHosts)));
    return cluster;
  } catch (e) {
    await cluster.stop();
    throw e;
  }
}

function makeCluster(network: TestNetwork, confDir: string, nats: StartedNodeHost[], nodes: StartedNodeHost[], nNats: number): Cluster {
  const natsIp = (i: number): string => network.ip(NATS_HOST + i);
  const routesOf = async (i: number): Promise<number> => {
    const r = await fetch(`http://${natsIp(i)}:${NATS_MONITOR_PORT}/routez`, { signal: AbortSignal.timeout(1_000) });
    return ((await r.json()) as { num_routes: number }).num_routes;
  };
  const running = async (): Promise<number[]> => {
    const up = await Promise.all(nats.map(async (n, i) => ((await n.isRunning()) ? i : -1)));
    return up.filter((i) => i >= 0);
  };
  const cluster: Cluster = {
    network,
    nats,
    nodes,
    natsUrls: () => Array.from({ length: nNats }, (_, i) => `nats://${natsIp(i)}:${NATS_CLIENT_PORT}`),
    natsIp,
    nodeIp: (i) => network.ip(NODE_HOST + i),
    killNats: async (i) => {
      await host(nats, i).kill();
    },
    startNats: async (i) => {
      await host(nats, i).start();
      await cluster.waitRoutes();
    },
    waitRoutes: async (timeoutMs = 15_000) => {
      if (nNats < 2) return;
      await waitFor("NATS routes", timeoutMs, async () => {
        const up = await running();
        const counts = await Promise.all(up.map(routesOf));
        return counts.every((c) => c >= up.length - 1) ? true : undefined;
      }, 100);
    },
    stop: async () => {
      await Promise.all([...nodes, ...nats].map((n) => n.remove().catch(() => undefined)));
      await network.remove().catch(() => undefined);
      rmSync(confDir, { recursive: true, force: true });
    },
  };
  return cluster;
}

function host(list: StartedNodeHost[], i: number): StartedNodeHost {
  const h = list[i];
  if (!h) throw new Error(`no host ${i} (have ${list.length})`);
  return h;
}

/**
 * Waits for every start, so that a failure leaves no container running unseen: those that did
 * start are removed before the first error is thrown.
 */
async function settleAll(starts: Promise<StartedNodeHost>[]): Promise<StartedNodeHost[]> {
  const results = await Promise.allSettled(starts);
  const ok = results.flatMap((r) => (r.status === "fulfilled" ? [r.value] : []));
  const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
  if (failed) {
    await Promise.all(ok.map((h) => h.remove().catch(() => undefined)));
    throw failed.reason;
  }
  return ok;
}
