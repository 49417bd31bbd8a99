// Every metric the node exposes follows one naming rule, checked here rather than in review:
// `dcnet_<subsystem>_<what>[_<unit>]`, counters end in `_total`, histograms carry their unit
// (`_seconds`, `_bytes`), and nothing else claims `_total`. Two nets: the registry of a real node
// after start-up and one DNS query (what an operator scrapes), and every `"dcnet_…"` literal in
// the production sources (metrics created only on rare paths: failures, Mesos sources).
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { readFileSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { startNatsServer, type NatsServerHandle } from "../../integration/harness/nats-local.js";
import { validateConfig } from "./config.js";
import { createLogHub } from "../../observability/logger.js";
import { freePort, makeQuery, udpAsk } from "../../testkit/dns/servers.js";
import { startNode, type NodeHandle } from "./index.js";
import { productionSources } from "../../testkit/sources.js";

const root = fileURLToPath(new URL("../..", import.meta.url));
const SUBSYSTEMS = [...readdirSync(join(root, "actors")).filter((d) => statSync(join(root, "actors", d)).isDirectory()), "transport", "supervisor"];
const NAME = new RegExp(`^dcnet_(${SUBSYSTEMS.join("|")})_[a-z][a-z0-9_]*[a-z0-9]$`);

function problems(name: string, type: string): string[] {
  const out: string[] = [];
  if (!NAME.test(name)) out.push(`${name}: not dcnet_<subsystem>_<what> with subsystem in ${SUBSYSTEMS.join(", ")}`);
  if (type === "counter" && !name.endsWith("_total")) out.push(`${name}: a counter ends in _total`);
  if (type !== "counter" && type !== "" && name.endsWith("_total")) out.push(`${name}: only counters end in _total (this is a ${type})`);
  if (type === "histogram" && !/_(seconds|bytes)$/.test(name)) out.push(`${name}: a histogram names its unit (_seconds, _bytes)`);
  if (/_(ms|milliseconds|secs|sec|minutes|kb|mb)(_|$)/.test(name)) out.push(`${name}: base units only (seconds, bytes)`);
  return out;
}


describe("metric names", () => {
  let nats: NatsServerHandle;
  let node: NodeHandle;
  let dnsPort: number;

  beforeAll(async () => {
    nats = await startNatsServer({});
    dnsPort = await freePort();
    const config = validateConfig({ id: "names", nats: { servers: [nats.url], insecure: true }, log: { level: "fatal" }, metrics: { listen: "" }, dns: { listen: [`127.0.0.1:${dnsPort}`] } });
    node = await startNode(config, { logs: createLogHub({ level: "fatal", bindings: { node: "names" } }) });
  }, 30_000);

  afterAll(async () => {
    await node?.stop("test done");
    await nats?.stop();
  });

  it("every metric a running node exposes is dcnet_<subsystem>_…_<unit>", async () => {
    // One answered query, so the query path's metrics exist.
    let reply: Buffer | undefined;
    for (let i = 0; i < 50 && !reply; i++) reply = await udpAsk(dnsPort, makeQuery("thisnode.thisdcos.directory"), 200);
    expect(reply).toBeDefined();
    const families = (await node.metrics.getMetricsAsJSON()).filter((m) => m.name.startsWith("dcnet_"));
    expect(families.length).toBeGreaterThan(20);
    expect(families.flatMap((m) => problems(m.name, String(m.type)))).toEqual([]);
    // Nothing outside the dcnet_ namespace either (no default process metrics under other names).
    expect((await node.metrics.getMetricsAsJSON()).map((m) => m.name).filter((n) => !n.startsWith("dcnet_"))).toEqual([]);
  });

  it("every metric name written in the production sources follows the same rule", () => {
    const dirs = ["actors", "transport", "supervisors", "observability"].map((d) => join(root, d));
    const names = new Set(dirs.flatMap(productionSources).flatMap((f) => [...readFileSync(f, "utf8").matchAll(/"(dcnet_[a-z0-9_]+)"/g)].map((m) => m[1] as string)));
    expect(names.size).toBeGreaterThan(30);
    // Types are unknown here; the runtime check above covers them for everything a node registers.
    expect([...names].flatMap((n) => problems(n, ""))).toEqual([]);
  });

  it("the rule rejects names that break it", () => {
    expect(problems("dcnet_dns_queries", "counter")).toHaveLength(1);
    expect(problems("dcnet_dns_latency", "histogram")).toHaveLength(1);
    expect(problems("dns_queries_total", "counter")).toHaveLength(1);
    expect(problems("dcnet_dns_sync_ms", "gauge")).toHaveLength(1);
    expect(problems("dcnet_gossip_keys_total", "gauge")).toHaveLength(1);
    expect(problems("dcnet_dns_queries_total", "counter")).toEqual([]);
  });
});
