// The node's composed config: every section it has, loaded the way `dcnet node` loads it.
import { describe, it, expect } from "@jest/globals";
import { mkdtempSync, writeFileSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse as parseYaml } from "yaml";
import { ConfigError, envKeys, renderConfigDoc } from "../../config/index.js";
import { configSchema, loadConfig, validateConfig } from "./config.js";

function tmpFile(name: string, text: string): { file: string; done: () => void } {
  const dir = mkdtempSync(join(tmpdir(), "dcnet-cfg-"));
  const file = join(dir, name);
  writeFileSync(file, text);
  return { file, done: () => rmSync(dir, { recursive: true, force: true }) };
}

describe("config - validation", () => {
  it("fills every default from an id alone", () => {
    const c = validateConfig({ id: "a" });
    expect(c).toEqual({
      id: "a",
      cluster: "dcnet",
      nats: { servers: ["nats://127.0.0.1:4222"], reconnectWaitMs: 250, insecure: false },
      admin: { allowCrash: false },
      log: { level: "info" },
      tracing: { enabled: false, backgroundRatio: 0 },
      gossip: { detector: "heartbeat", probeIntervalMs: 200, probeTimeoutMs: 80, indirectProbes: 3, suspicionMult: 3, syncIntervalMs: 5000, disconnectAdvisories: true, disconnectGraceMs: 500, heartbeatMs: 200, suspectAfterMs: 800, deadAfterMs: 1600, deadGraceMs: 30_000, antiEntropyMs: 1000, digestFanIn: 16, syncTimeoutMs: 2000, tombstoneTtlMs: 600_000, maxPendingBytes: 8 * 1024 * 1024, repairConcurrency: 4, maxClockSkewMs: 60_000 },
      mesos: { masters: [], agentsReadinessMs: 600_000, tasksReadinessMs: 10_000, pollMs: 2000, maxBackoffMs: 60_000, timeoutMs: 10_000, marathon: { servers: [], resyncMs: 60_000, timeoutMs: 10_000, maxBackoffMs: 30_000, debounceMs: 50 } },
      supervision: { intensity: 5, periodMs: 10_000, handlerDeadlineMs: 30_000, shutdownTimeoutMs: 10_000 },
      dns: {
        enabled: true,
        listen: ["127.0.0.1:8053"],
        ttl: 5,
        negativeTtl: 1,
        rotation: "round_robin",
        maxInflight: 1024,
        maxUdpSize: 4096,
        traceEvery: 100,
        udpEngine: "auto",
        tcpIdleMs: 10_000,
        tcpMaxConnections: 256,
        upstreams: [],
        forwardZones: {},
        upstreamTimeoutMs: 2000,
        queryTimeoutMs: 5000,
        probeIntervalMs: 500,
        cache: { maxEntries: 10_000, maxTtlS: 3600, maxNegativeTtlS: 300 },
        thisnode: { publicIps: [] },
        zones: {},
        mesos: { mode: "native", domain: "mesos", resolvers: [], ttl: 60, mirror: true, compat: false, refreshMs: 30_000, changeDelayMs: 100, ipSources: ["netinfo", "mesos", "host"], enforceRFC952: false },
        answerCache: true,
        resolver: { enabled: false, addresses: ["198.51.100.1", "198.51.100.2", "198.51.100.3"], port: 53 },
        manageResolvConf: false,
        resolvConf: { path: "/etc/resolv.conf", search: [], options: [], keepSearch: true },
      },
      l4lb: {
        enabled: false,
        selection: "random",
        maxBackends: 64,
        ipv6: true,
        forbidden: ["9.0.0.0/8", "44.128.0.0/20"],
        namedV4: { min: "11.0.0.0", max: "11.255.255.254" },
        namedV6: { min: "fd01:c::", max: "fd01:c::ffff:ffff:ffff:ffff" },
        bucket: "dcnet-l4lb-vips",
        replicas: 1,
        releaseGraceMs: 300_000,
        reconcileMs: 30_000,
        conntrackFlush: true,
        nft: "nft",
        nftBackend: "auto",
        conntrack: "conntrack",
      },
      overlay: {
        enabled: false,
        name: "dcos",
        subnet: "9.0.0.0/8",
        prefix: 24,
        vtepSubnet: "44.128.0.0/20",
        ipv6: true,
        subnet6: "fd01:b::/64",
        prefix6: 80,
        vtepSubnet6: "fd01:a::/64",
        macPrefix: "70:b3:d5",
        directRouting: false,
        bucket: "dcnet-overlay",
        replicas: 1,
        releaseGraceMs: 604_800_000,
        releaseSweepMs: 60_000,
        reconcileMs: 30_000,
        cniConfDir: "/etc/cni/net.d",
        cniStateDir: "/var/lib/dcnet/cni",
      },
      edge: {
        enabled: false,
        groups: ["external"],
        strictMode: false,
        bindAddress: "*",
        httpPort: 80,
        httpsPort: 443,
        healthListen: "*:9090",
        healthUri: "/_haproxy_health_check",
        haproxy: "haproxy",
        commandPrefix: [],
        runDir: "/run/dcnet/edge",
        minSlots: 8,
        debounceMs: 10,
        minReloadIntervalMs: 2000,
        hardStopAfterMs: 30_000,
        maxReloads: 50,
        check: { interMs: 2000, fall: 2, rise: 1 },
        timeouts: { connectMs: 5000, clientMs: 60_000, serverMs: 60_000, tunnelMs: 3_600_000 },
        cookieKey: "dcnet",
      },
      metrics: { listen: "127.0.0.1:9163" },
      api: { listen: "127.0.0.1:62080", maxNameLength: 253 },
    });
  });

  it.each([
    [{ id: "a", bogus: 1 }, 'unknown key "bogus"'],
    [{ id: "a", nats: { servers: ["nats://x"], extra: true } }, 'unknown key "nats.extra"'],
    [{ id: "a", nats: { servers: "nats://x" } }, "nats.servers: Invalid input: expected array"],
    [{ id: "a", nats: { servers: ["http://x"] } }, "nats.servers.0: a nats:// or tls:// URL"],
    [{ id: "a", log: { level: "loud" } }, "log.level:"],
    [{ id: "a", supervision: { intensity: 0 } }, "supervision.intensity:"],
    [{ id: "a", admin: { allowCrash: "yes please" } }, "admin.allowCrash: Invalid input: expected boolean"],
    [{}, "id: "],
    [{ id: "bad id!" }, "id: letters, digits"],
    [{ id: "a", dns: { listen: ["8053"] } }, "dns.listen.0: ip:port or [ipv6]:port"],
    [{ id: "a", dns: { upstreams: ["dns.example"] } }, "dns.upstreams.0: ip, ip:port or [ipv6]:port"],
    [{ id: "a", l4lb: { namedV4: { min: "11.0.0.9", max: "11.0.0.1" } } }, "l4lb.namedV4:"],
    [{ id: "a", l4lb: { forbidden: ["9.0.0.0"] } }, "l4lb.forbidden.0:"],
    [{ id: "a", dns: { zones: { "dcos.thisdcos.directory": [] } } }, "dns.zones"],
    [{ id: "a", dns: { rotation: "sideways" } }, "dns.rotation:"],
    [{ id: "a", dns: { listen: ["127.0.0.1:53", "127.0.0.1:53"] } }, "dns.listen.1: 127.0.0.1:53 is listed twice"],
    [{ id: "a", dns: { listen: ["127.0.0.1:53"], upstreams: ["127.0.0.1"] } }, "dns.upstreams.0: 127.0.0.1 is this node's own DNS listener (a forwarding loop)"],
    [{ id: "a", dns: { upstreams: ["10.0.0.2"], forwardZones: { "corp.example": ["127.0.0.1:8053"] } } }, "dns.forwardZones.corp.example.0: 127.0.0.1:8053 is this node's own DNS listener"],
  ])("rejects %j naming the key", (raw, message) => {
    expect(() => validateConfig(raw)).toThrow(ConfigError);
    expect(() => validateConfig(raw)).toThrow(message);
  });
});

describe("config - layers", () => {
  it("flags beat env beat file, and YAML files load", async () => {
    const { file, done } = tmpFile("c.yaml", "id: from-file\ncluster: filecluster\nlog:\n  level: debug\nnats:\n  servers: [nats://10.0.0.1:4222]\n");
    try {
      const c = await loadConfig({ file, env: { DCNET_CLUSTER: "envcluster", DCNET_NATS: "nats://a:1, nats://b:2" }, flags: { id: "from-flag" } });
      expect(c.id).toBe("from-flag");
      expect(c.cluster).toBe("envcluster");
      expect(c.log.level).toBe("debug");
      expect(c.nats.servers).toEqual(["nats://a:1", "nats://b:2"]);
    } finally {
      done();
    }
  });

  it("JSON files load and a bad env boolean names its key", async () => {
    const { file, done } = tmpFile("c.json", JSON.stringify({ id: "j", admin: { allowCrash: true } }));
    try {
      expect((await loadConfig({ file })).admin.allowCrash).toBe(true);
      await expect(loadConfig({ file, env: { DCNET_ADMIN_ALLOW_CRASH: "maybe" } })).rejects.toThrow("admin.allowCrash");
    } finally {
      done();
    }
  });

  it("a malformed or missing file is a ConfigError that names the file", async () => {
    const { file, done } = tmpFile("c.yaml", "id: [unclosed\n");
    try {
      await expect(loadConfig({ file })).rejects.toThrow(`config file ${file} is not valid YAML`);
      await expect(loadConfig({ file: file + ".missing" })).rejects.toThrow("cannot read config file");
      const list = tmpFile("l.yaml", "- a\n- b\n");
      await expect(loadConfig({ file: list.file })).rejects.toThrow("top level must be a mapping");
      list.done();
    } finally {
      done();
    }
  });
});

describe("config - docs/config.md", () => {
  it("equals the reference rendered from the composed schema (regenerate: npx tsx actors/node/config.ts > docs/config.md)", () => {
    const doc = readFileSync(new URL("../../docs/config.md", import.meta.url), "utf8");
    expect(doc).toBe(renderConfigDoc(configSchema));
    expect(doc).toContain("| `nats.servers` | string[] |");
    expect(doc).toContain("| `dns.listen` | string[] |");
  });

  it("its example is a valid config and an excerpt of deploy/config.example.yaml", () => {
    const doc = readFileSync(new URL("../../docs/config.md", import.meta.url), "utf8");
    const excerpt = parseYaml(/```yaml\n([\s\S]*?)```/.exec(doc)?.[1] ?? "") as Record<string, unknown>;
    expect(Object.keys(excerpt).length).toBeGreaterThan(0);
    expect(() => validateConfig(excerpt)).not.toThrow();
    expect(parseYaml(readFileSync(new URL("../../deploy/config.example.yaml", import.meta.url), "utf8"))).toMatchObject(excerpt);
  });

  it("describes every key, and names each key's DCNET_* variable in its description", () => {
    const undescribed = renderConfigDoc(configSchema)
      .split("\n")
      .filter((row) => row.startsWith("| `") && row.endsWith("|  |"));
    expect(undescribed).toEqual([]);
    const env = envKeys(configSchema);
    expect(Object.keys(env).sort()).toEqual([
      "DCNET_ADMIN_ALLOW_CRASH",
      "DCNET_API_LISTEN",
      "DCNET_CLUSTER",
      "DCNET_DNS_LISTEN",
      "DCNET_DNS_MANAGE_RESOLV_CONF",
      "DCNET_DNS_RESOLVER_ENABLED",
      "DCNET_DNS_UPSTREAMS",
      "DCNET_EDGE_ENABLED",
      "DCNET_ID",
      "DCNET_L4LB_ENABLED",
      "DCNET_LOG_LEVEL",
      "DCNET_MESOS_AGENT",
      "DCNET_MESOS_TOKEN",
      "DCNET_METRICS_LISTEN",
      "DCNET_NATS",
      "DCNET_NATS_CREDENTIALS",
      "DCNET_NATS_INSECURE",
      "DCNET_OVERLAY_ENABLED",
      "DCNET_TRACING",
      "DCNET_TRACING_BACKGROUND_RATIO",
    ]);
    const doc = renderConfigDoc(configSchema);
    for (const [name, { path }] of Object.entries(env)) expect(doc).toMatch(new RegExp(`\\| \`${path.join("\\.")}\` \\|.*env ${name}\\b`));
  });
});

describe("config - deploy/config.example.yaml", () => {
  it("loads with the node's schema, and every value it sets is in the result", async () => {
    const file = new URL("../../deploy/config.example.yaml", import.meta.url).pathname;
    const c = await loadConfig({ file });
    expect(c).toMatchObject(parseYaml(readFileSync(file, "utf8")) as Record<string, unknown>);
    // Values that differ from the defaults, so a key silently ignored would show.
    expect(c.id).toBe("agent-7");
    expect(c.cluster).toBe("prod");
    expect(c.nats.servers).toEqual(["nats://10.0.0.1:4222", "nats://10.0.0.2:4222", "nats://10.0.0.3:4222"]);
    expect(c.dns.listen).toEqual(["198.51.100.1:53"]);
    expect(c.dns.upstreams).toEqual(["10.0.0.2", "10.0.0.3"]);
    expect(c.dns.forwardZones).toEqual({ "corp.example": ["10.1.0.53"] });
    expect(c.dns.thisnode.publicIps).toEqual(["203.0.113.7"]);
    expect(c.dns.zones).toEqual({ "component.thisdcos.directory": [{ type: "cname", name: "registry", value: "master.dcos.thisdcos.directory" }] });
    // Keys it leaves out keep their defaults.
    expect(c.gossip.heartbeatMs).toBe(200);
  });
});
