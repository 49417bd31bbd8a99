// Self-test of the integration harness: the private engine, node containers, the containerised
// NATS cluster, network faults, and netns hosts.
// Address plan: the cluster's network is a random free 10.214.X.0/24 (nats-i = .10+i,
// node-i = .100+i, host bridge = .1); the netns lab uses 10.77.0.0/24 (h1..h3 = .1..3), which
// exists only inside the lab's own namespaces.
import { afterAll, beforeAll, describe, expect, jest, test } from "@jest/globals";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { getContainerRuntimeClient } from "testcontainers";
import { startCluster, type Cluster } from "./harness/cluster.js";
import { pingEngine, socketPathOf } from "./harness/docker-api.js";
import { createNetnsLab, type NetnsLab } from "./harness/netns.js";
import { NodeHost, type StartedNodeHost } from "./harness/node-host.js";
import { HOSTFS_IMAGE, TEST_LABEL } from "./harness/paths.js";
import { waitFor } from "./harness/shell.js";

jest.setTimeout(30_000);

const ECHO = "/app/integration/harness/echo-server.mjs";
const PROBE = "/app/integration/harness/probe.mjs";

/** Runs probe.mjs inside a node container and returns url → body or "ERR …". */
async function probeFrom(node: StartedNodeHost, urls: string[]): Promise<Record<string, string>> {
  const r = await node.exec(["node", PROBE, ...urls]);
  expect(r.exitCode).toBe(0);
  return JSON.parse(r.stdout) as Record<string, string>;
}

function at<T>(list: readonly T[], i: number): T {
  const v = list[i];
  if (v === undefined) throw new Error(`index ${i} out of range`);
  return v;
}

describe("private docker engine", () => {
  test("DOCKER_HOST points at a private dockerd that answers and has the skeleton image", async () => {
    const host = process.env.DOCKER_HOST ?? "";
    expect(host).toMatch(/^unix:\/\/\/tmp\/dcnet-docker-\d+\/docker\.sock$/);
    expect(process.env.TESTCONTAINERS_RYUK_DISABLED).toBe("true");
    expect(await pingEngine(socketPathOf(host))).toBe(true);
    const client = await getContainerRuntimeClient();
    const img = await client.container.dockerode.getImage(HOSTFS_IMAGE).inspect();
    expect(img.Size).toBeLessThan(1024 * 1024);
  });
});

describe("cluster of node containers", () => {
  let cluster: Cluster;
  const node = (i: number): StartedNodeHost => at(cluster.nodes, i);
  const t0 = Date.now();

  beforeAll(async () => {
    cluster = await startCluster({ nodes: 3, natsServers: 3, nodeCommand: (i) => ["node", ECHO, `node-${i}`] });
    console.log(`cluster (3 NATS routed + 3 nodes) up in ${Date.now() - t0} ms on ${cluster.network.subnet}`);
  }, 60_000);

  afterAll(async () => {
    await cluster?.stop();
  });

  test("every node is single-homed on the test network with its fixed IP and has no default route", async () => {
    for (let i = 0; i < 3; i++) {
      const nets = (await node(i).inspect()).NetworkSettings.Networks;
      expect(Object.keys(nets)).toEqual([cluster.network.name]);
      expect(nets[cluster.network.name]?.IPAddress).toBe(cluster.nodeIp(i));
      const routes = await node(i).exec("ip -4 route");
      expect(routes.stdout).not.toMatch(/default/);
    }
  });

  test("nodes reach each other by IP and by alias, and the test process reaches them", async () => {
    await Promise.all(
      [0, 1, 2].map(async (i) => {
        const others = [0, 1, 2].filter((j) => j !== i);
        const urls = others.flatMap((j) => [`http://${cluster.nodeIp(j)}:8080/`, `http://node-${j}:8080/`]);
        const got = await probeFrom(node(i), urls);
        for (const j of others) {
          expect(got[`http://${cluster.nodeIp(j)}:8080/`]).toBe(`node-${j} ${cluster.nodeIp(i)}`);
          expect(got[`http://node-${j}:8080/`]).toBe(`node-${j} ${cluster.nodeIp(i)}`);
        }
      }),
    );
    const fromHost = await (await fetch(`http://${cluster.nodeIp(0)}:8080/`)).text();
    expect(fromHost.trim()).toBe(`node-0 ${cluster.network.ip(1)}`);
  });

  test("the NATS servers form one cluster: a publish on server 0 reaches a subscriber on server 2", async () => {
    const urls = cluster.natsUrls();
    expect(urls).toHaveLength(3);
    const conns: NatsConnection[] = [];
    try {
      const pub = await connect({ servers: at(urls, 0), noRandomize: true });
      conns.push(pub);
      const subConn = await connect({ servers: at(urls, 2), noRandomize: true });
      conns.push(subConn);
      expect(pub.info?.server_name).toBe("nats-0");
      expect(subConn.info?.server_name).toBe("nats-2");
      const sub = subConn.subscribe("harness.route", { max: 1 });
      await subConn.flush();
      // Interest crosses the route asynchronously: publish until the first message lands.
      const timer = setInterval(() => pub.publish("harness.route", "hello"), 100);
      try {
        for await (const m of sub) expect(m.string()).toBe("hello");
      } finally {
        clearInterval(timer);
      }
    } finally {
      await Promise.all(conns.map((c) => c.close()));
    }
  });

  test("partitionFrom drops traffic in both directions, only for the given peers, and heal restores it", async () => {
    const url = (j: number): string => `http://${cluster.nodeIp(j)}:8080/`;
    await node(1).partitionFrom([cluster.nodeIp(0)]);
    expect((await probeFrom(node(0), [url(1)]))[url(1)]).toMatch(/^ERR/);
    expect((await probeFrom(node(1), [url(0), url(2)]))[url(0)]).toMatch(/^ERR/);
    expect((await probeFrom(node(2), [url(1)]))[url(1)]).toBe(`node-1 ${cluster.nodeIp(2)}`);
    await node(1).heal();
    expect((await probeFrom(node(0), [url(1)]))[url(1)]).toBe(`node-1 ${cluster.nodeIp(0)}`);
  });

  test("disconnect() breaks reachability; reconnect() restores it with the same IP and alias", async () => {
    const byIp = `http://${cluster.nodeIp(1)}:8080/`;
    await node(1).disconnect();
    // Only the IP is probed while disconnected: an unknown alias would be forwarded to the host's resolver.
    expect((await probeFrom(node(0), [byIp]))[byIp]).toMatch(/^ERR/);
    await node(1).reconnect();
    const got = await probeFrom(node(0), [byIp, "http://node-1:8080/"]);
    expect(got[byIp]).toBe(`node-1 ${cluster.nodeIp(0)}`);
    expect(got["http://node-1:8080/"]).toBe(`node-1 ${cluster.nodeIp(0)}`);
    expect((await node(1).exec("ip -4 route")).stdout).not.toMatch(/default/);
  });

  test("pause() makes a node hang until unpause()", async () => {
    const url = `http://${cluster.nodeIp(2)}:8080/`;
    await node(2).pause();
    try {
      expect((await probeFrom(node(0), [url]))[url]).toMatch(/^ERR/);
    } finally {
      await node(2).unpause();
    }
    expect((await probeFrom(node(0), [url]))[url]).toBe(`node-2 ${cluster.nodeIp(0)}`);
  });

  test("stop() is graceful through tini (exit code 0, logs kept) and start() brings the node back", async () => {
    const t = Date.now();
    expect(await node(1).stop({ timeout: 5_000 })).toBe(0);
    expect(Date.now() - t).toBeLessThan(3_000); // SIGTERM reached node; no wait for SIGKILL
    expect(await node(1).logs()).toMatch(/node-1 ready on 8080\n(.*\n)*node-1 stopping/);
    await node(1).start();
    expect(await node(1).logs({ sinceStart: true })).not.toMatch(/stopping/);
    const url = `http://node-1:8080/`;
    expect((await probeFrom(node(0), [url]))[url]).toBe(`node-1 ${cluster.nodeIp(0)}`);
  });

  test("kill() leaves a non-running container with exit code 137 (128+SIGKILL)", async () => {
    await node(2).kill();
    expect(await node(2).isRunning()).toBe(false);
    expect((await node(2).inspect()).State.ExitCode).toBe(137);
    await node(2).restart({ timeout: 1_000 });
    expect(await node(2).isRunning()).toBe(true);
  });

  test("killNats(i) takes a server out of the routes; startNats(i) brings it back routed", async () => {
    await cluster.killNats(2);
    expect(await at(cluster.nats, 2).isRunning()).toBe(false);
    await cluster.startNats(2);
    const routez = await (await fetch(`http://${cluster.natsIp(2)}:8222/routez`)).json();
    expect((routez as { num_routes: number }).num_routes).toBeGreaterThanOrEqual(2);
  });

  test("a node whose command dies before its ready line fails fast, with its output, and leaves no container", async () => {
    const bad = new NodeHost({ name: "bad", network: cluster.network.name, ip: cluster.network.ip(250), command: "echo boom >&2; exit 3" });
    await expect(bad.start()).rejects.toThrow(/did not start[\s\S]*boom/);
    const client = await getContainerRuntimeClient();
    const left = await client.container.dockerode.listContainers({ all: true, filters: { name: [`${cluster.network.name}-bad`] } });
    expect(left).toEqual([]);
  });

  test("stop() removes every container and the network", async () => {
    const name = cluster.network.name;
    await cluster.stop();
    const client = await getContainerRuntimeClient();
    const left = await client.container.dockerode.listContainers({ all: true, filters: { label: [`${TEST_LABEL}=true`] } });
    expect(left.filter((c) => c.Names.some((n) => n.startsWith(`/${name}-`)))).toEqual([]);
    const nets = await client.container.dockerode.listNetworks({ filters: { name: [name] } });
    expect(nets).toEqual([]);
  });
});

describe("netns hosts", () => {
  let lab: NetnsLab | undefined;

  afterAll(async () => {
    await lab?.cleanup();
  });

  test("three hosts on one bridge reach each other; cleanup leaves no namespace and no process", async () => {
    const t = Date.now();
    lab = await createNetnsLab({ hosts: { h1: "10.77.0.1/24", h2: "10.77.0.2/24", h3: "10.77.0.3/24" } });
    const l = lab;
    const repoEcho = new URL("./harness/echo-server.mjs", import.meta.url).pathname;
    const repoProbe = new URL("./harness/probe.mjs", import.meta.url).pathname;
    const servers = l.hosts.map((h) => l.run(h, process.execPath, [repoEcho, h, "8080"]));
    for (const h of l.hosts) {
      await waitFor(`echo server on ${h}`, 10_000, async () => {
        const r = await l.exec(h, process.execPath, [repoProbe, "http://127.0.0.1:8080/"]);
        return r.stdout.includes(`${h} 127.0.0.1`) ? true : undefined;
      });
    }
    console.log(`netns lab of 3 hosts with servers ready in ${Date.now() - t} ms`);
    for (const from of l.hosts) {
      const urls = l.hosts.filter((h) => h !== from).map((h) => `http://${l.ip(h)}:8080/`);
      const r = await l.exec(from, process.execPath, [repoProbe, ...urls]);
      const got = JSON.parse(r.stdout) as Record<string, string>;
      for (const h of l.hosts.filter((x) => x !== from)) expect(got[`http://${l.ip(h)}:8080/`]).toBe(`${h} ${l.ip(from)}`);
    }
    // Nothing of the lab is visible in the root namespace.
    expect(execFileSync("ip", ["-o", "link"], { encoding: "utf8" })).not.toMatch(/v-h\d|br0/);

    await l.cleanup();
    const names = execFileSync("ip", ["netns", "list"], { encoding: "utf8" });
    expect(names).not.toContain(l.prefix);
    await waitFor("lab processes to end", 5_000, async () => (servers.every((s) => s.exitCode !== null || s.signalCode !== null) ? true : undefined));
    for (const s of servers) expect(s.pid !== undefined && existsSync(`/proc/${s.pid}`)).toBe(false);
  });
});
