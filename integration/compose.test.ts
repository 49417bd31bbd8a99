// The compose demo (deploy/compose/): the file is valid for Debian's docker-compose, the alert rules
// for promtool, and the same topology runs here without a registry — the `creds` service, 3 NATS
// servers clustered with JetStream and mutual TLS, 3 dcnet nodes of the locally built image with the
// compose's own commands, capabilities and volumes. Only the images that need a registry change: the
// NATS servers run this machine's nats-server in the harness's skeleton image, and an in-test OTLP
// receiver stands in for Jaeger (Prometheus and Grafana are not started; every metric their files
// name is checked on a running node instead). The topology is derived from `docker-compose config`
// of the real file, so the test follows every change to it.
// Address plan: one free 10.214.X.0/24 of the harness (test network, external to compose), addresses
// assigned by docker; the receiver's forwarder listens on the network's bridge address (.1).
import { afterAll, beforeAll, describe, expect, jest, test } from "@jest/globals";
import { execFile } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createServer, connect, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { parse, stringify } from "yaml";
import { createTestNetwork, type TestNetwork } from "./harness/test-network.js";
import { HOSTFS_IMAGE, REPO_ROOT, TEST_LABEL } from "./harness/paths.js";
import { dig } from "./support/dig.js";
import { within } from "./support/admin.js";
import { ensureImage } from "./support/image.js";
import { startOtlpReceiver, type OtlpReceiver } from "../testkit/otlp-receiver.js";

jest.setTimeout(900_000);
const run = promisify(execFile);
const COMPOSE_DIR = join(REPO_ROOT, "deploy", "compose");
const COMPOSE_FILE = join(COMPOSE_DIR, "docker-compose.yml");
const ALERTS = join(REPO_ROOT, "deploy", "prometheus", "alerts.yml");
const DASHBOARD = join(COMPOSE_DIR, "grafana", "dashboards", "dcnet.json");
const NODES = ["dcnet-1", "dcnet-2", "dcnet-3"] as const;
/** Subsystems the demo does not run (root and kernel access, or an edge proxy): their metrics are checked in their sources. */
const OFF_IN_DEMO = ["l4lb", "overlay", "edge"] as const;

type Service = Record<string, unknown> & { image?: string; environment?: Record<string, string>; volumes?: unknown[]; command?: string[]; labels?: Record<string, string> };
const compose = async (args: readonly string[], file = COMPOSE_FILE, project?: string): Promise<{ stdout: string; stderr: string }> =>
  run("docker-compose", [...(project ? ["-p", project] : []), "-f", file, ...args], { maxBuffer: 32 * 1024 * 1024, timeout: 300_000 });
const docker = async (...args: string[]): Promise<string> => (await run("docker", args, { maxBuffer: 16 * 1024 * 1024 })).stdout;

/** `dcnet_*` metric names a PromQL text refers to (histogram series reduced to the family). */
function metricNames(promql: string): string[] {
  return [...promql.matchAll(/\bdcnet_[a-z0-9_]+/g)].map((m) => m[0].replace(/_(bucket|sum|count)$/, ""));
}

function sources(dir: string): string {
  return readdirSync(dir).map((f) => join(dir, f)).map((p) => (statSync(p).isDirectory() ? sources(p) : p.endsWith(".ts") && !p.endsWith(".test.ts") ? readFileSync(p, "utf8") : "")).join("\n");
}

describe("compose demo: the file, the rules, and the same topology with the local image", () => {
  let config: { services: Record<string, Service> };
  let network: TestNetwork;
  let receiver: OtlpReceiver;
  let forwarder: Server;
  let dir: string;
  const project = `dcnet-it-compose-${process.pid}`;
  let file: string;
  const ips = new Map<string, string>();
  const container = (service: string) => `${project}_${service}_1`;

  beforeAll(async () => {
    config = parse((await compose(["config"])).stdout) as { services: Record<string, Service> };
  });

  afterAll(async () => {
    if (file) await compose(["down", "-v", "--remove-orphans", "-t", "2"], file, project).catch(() => undefined);
    await network?.remove();
    forwarder?.close();
    await receiver?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test("docker-compose (Debian's 1.29) validates the file: 3 NATS, 3 dcnet nodes with only NET_ADMIN and NET_BIND_SERVICE, Jaeger on OTLP, Prometheus with the alert rules, Grafana with the dashboard", async () => {
    const { stderr } = await compose(["config", "-q"]);
    expect(stderr).toBe("");
    const s = config.services;
    expect(Object.keys(s).sort()).toEqual(["creds", "dcnet-1", "dcnet-2", "dcnet-3", "grafana", "jaeger", "nats-1", "nats-2", "nats-3", "prometheus"]);
    for (const n of NODES) {
      expect(s[n]).toMatchObject({ image: "dcnet:local", cap_drop: ["ALL"], cap_add: ["NET_ADMIN", "NET_BIND_SERVICE"], environment: { OTEL_EXPORTER_OTLP_ENDPOINT: "http://jaeger:4318" } });
      expect(s[n]?.command).toEqual(expect.arrayContaining(["--creds", `/creds/${n}.pem`, "--cluster", "demo"]));
    }
    for (const i of [1, 2, 3]) expect(readFileSync(join(COMPOSE_DIR, "nats", `nats-${i}.conf`), "utf8")).toMatch(/jetstream \{[\s\S]*verify_and_map: true[\s\S]*routes: \[/);
    expect(s["jaeger"]?.environment).toMatchObject({ COLLECTOR_OTLP_ENABLED: "true" });
    expect(JSON.stringify(s["prometheus"]?.volumes)).toContain("alerts.yml");
    expect(JSON.stringify(s["grafana"]?.volumes)).toContain("dashboards");
  });

  test("promtool (Debian's prometheus package) accepts the alert rules, one per condition of the issue", async () => {
    const { stdout } = await run("promtool", ["check", "rules", ALERTS]);
    expect(stdout).toContain("SUCCESS: 8 rules found");
    const rules = (parse(readFileSync(ALERTS, "utf8")) as { groups: Array<{ rules: Array<{ alert: string }> }> }).groups.flatMap((g) => g.rules.map((r) => r.alert));
    expect(rules).toEqual(["DcnetNodeUnreachable", "DcnetActorRestartStorm", "DcnetDnsServfailRate", "DcnetDnsUpstreamsAllDown", "DcnetGossipRepairBacklog", "DcnetKernelDriftRepairs", "DcnetEdgeReloadFailures", "DcnetNatsDisconnected"]);
  });

  describe("running: creds, 3 NATS, 3 dcnet nodes of the local image, an OTLP receiver for Jaeger", () => {
    beforeAll(async () => {
      const built = await ensureImage();
      console.log(`image ${built.image}: ${Object.keys(built.timings).length ? Object.entries(built.timings).map(([k, v]) => `${k} ${v.toFixed(1)} s`).join(", ") : "reused"}`);
      network = await createTestNetwork("dcnet-it-compose");
      const gateway = network.ip(1);
      receiver = await startOtlpReceiver();
      // The receiver listens on loopback; the containers reach it through this forwarder on the bridge address.
      const target = new URL(receiver.url);
      forwarder = createServer((c) => {
        const up = connect(Number(target.port), target.hostname);
        c.pipe(up).pipe(c);
        const drop = () => (c.destroy(), up.destroy());
        c.on("error", drop);
        up.on("error", drop);
      });
      await new Promise<void>((r) => forwarder.listen(0, gateway, r));
      const fwdPort = (forwarder.address() as { port: number }).port;
      // The real topology, changed only where a registry would be needed (see the file's header).
      const services: Record<string, Service> = {};
      for (const [name, svc] of Object.entries(config.services)) {
        if (["jaeger", "prometheus", "grafana"].includes(name)) continue;
        const next: Service = { ...svc, labels: { ...(svc.labels ?? {}), [TEST_LABEL]: "true" } };
        delete next["build"];
        delete next["ports"];
        if (name.startsWith("nats-")) {
          next.image = HOSTFS_IMAGE;
          next["entrypoint"] = ["/usr/bin/docker-init", "--"];
          next.volumes = [...(svc.volumes ?? []), { type: "bind", source: "/usr", target: "/usr", read_only: true }];
        }
        if (name.startsWith("dcnet-")) next.environment = { ...(svc.environment ?? {}), OTEL_EXPORTER_OTLP_ENDPOINT: `http://${gateway}:${fwdPort}` };
        services[name] = next;
      }
      dir = mkdtempSync(join(tmpdir(), "dcnet-compose-"));
      file = join(dir, "docker-compose.yml");
      writeFileSync(file, stringify({ version: "3.8", services, volumes: { creds: {} }, networks: { default: { external: true, name: network.name } } }));
      await compose(["up", "-d", "--no-build"], file, project);
      await within(60_000, async () => {
        for (const n of NODES) if (!(await docker("logs", container(n))).includes("dcnet node ready")) throw new Error(`${n} not ready`);
      }, 500);
      for (const n of NODES) ips.set(n, (await docker("inspect", "--format", `{{ (index .NetworkSettings.Networks "${network.name}").IPAddress }}`, container(n))).trim());
    }, 900_000);

    const ctl = (node: string, ...args: string[]) => docker("exec", container(node), "dcnet", "ctl", "--nats", "nats://nats-1:4222", "--creds", "/creds/admin.pem", ...args);

    test("the nodes run on the secured NATS cluster: `dcnet ctl --all status` with the admin credential lists all three", async () => {
      const status = await ctl("dcnet-2", "--all", "status");
      for (const n of NODES) expect(status).toContain(n);
      for (const n of NODES) expect(await docker("logs", container(n))).toMatch(/credential/);
    });

    test("a task registered on dcnet-1 resolves on every node, and every node's spans reach the OTLP endpoint", async () => {
      const task = { id: "demo-web-1", name: "web", framework: "marathon", runtime: "native", agentIp: ips.get("dcnet-1"), taskIps: ["10.9.0.8"], state: "running", ports: [] };
      await run("sh", ["-c", `echo '${JSON.stringify(task)}' | docker exec -i ${container("dcnet-1")} dcnet ctl --nats nats://nats-1:4222 --creds /creds/admin.pem --node dcnet-1 task add -`]);
      for (const n of NODES) {
        await within(15_000, async () => {
          const r = await dig({ host: ips.get(n) as string, port: 53 }, ["web.marathon.containerip.dcos.thisdcos.directory", "A"]);
          if (r.answer.map((a) => a.data).join() !== "10.9.0.8") throw new Error(`${n}: ${r.status}`);
        }, 200);
      }
      const spans = await receiver.waitFor((all) => NODES.every((n) => all.some((s) => JSON.stringify(s.resource).includes(n))), 30_000);
      for (const n of NODES) expect(spans.some((s) => JSON.stringify(s.resource).includes(n))).toBe(true);
    });

    test("every metric the Grafana dashboard and the alert rules name exists on a running node (or, for subsystems off in the demo, in that subsystem's code)", async () => {
      const text = await (await fetch(`http://${ips.get("dcnet-1")}:9163/metrics`)).text();
      const exposed = new Set([...text.matchAll(/^# TYPE (\S+)/gm)].map((m) => m[1]));
      const dashboard = JSON.parse(readFileSync(DASHBOARD, "utf8")) as { panels: Array<{ targets: Array<{ expr: string }> }> };
      const fromDashboard = dashboard.panels.flatMap((p) => p.targets.flatMap((t) => metricNames(t.expr)));
      const fromRules = (parse(readFileSync(ALERTS, "utf8")) as { groups: Array<{ rules: Array<{ expr: string }> }> }).groups.flatMap((g) => g.rules.flatMap((r) => metricNames(r.expr)));
      expect(fromDashboard.length).toBeGreaterThanOrEqual(12);
      const missing: string[] = [];
      for (const name of new Set([...fromDashboard, ...fromRules])) {
        const sub = OFF_IN_DEMO.find((s) => name.startsWith(`dcnet_${s}_`));
        if (sub) {
          if (!sources(join(REPO_ROOT, "actors", sub)).includes(`"${name}"`)) missing.push(`${name} (not in actors/${sub})`);
        } else if (!exposed.has(name)) missing.push(name);
      }
      expect(missing).toEqual([]);
      expect(fromDashboard.every((n) => !OFF_IN_DEMO.some((s) => n.startsWith(`dcnet_${s}_`)))).toBe(true);
    });
  });
});
