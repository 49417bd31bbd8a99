// A secured dcnet cluster on 127.0.0.1 for tests: a credentials folder (CA, server, node and user
// certificates, the users fragment), 3 nats-servers with client TLS mapped to users and routes over
// TLS, and one real `dcnet node` process (bin/dcnet.js) per node id, each with its own credential.
// Plus what a test needs to look at it as a user would: `dcnet ctl` with a credential, an in-process
// admin client with one, a raw NATS connection as any identity, and each node's /metrics.
// Everything started here is stopped by stop(), which also removes the temp folders; a failed start
// stops what it had started before throwing.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import type { NatsConnection, Status } from "@nats-io/nats-core";
import { startNatsCluster, type NatsClusterHandle } from "../harness/nats-local.js";
import { connectAs, makeTestCreds, type TestCreds } from "../harness/creds.js";
import { Transport } from "../../transport/index.js";
import { AdminClient } from "../../actors/admin/index.js";
import { inboxPrefix } from "../../transport/auth/identity.js";
import { loadCredential, type Credential } from "../../transport/auth/load.js";
import { issueCert, newSerial } from "../../transport/auth/openssl.js";
import type { UserRole } from "../../transport/auth/index.js";
import { freePort } from "./ports.js";
import { isReady, runDcnet, spawnDcnet, type DcnetProcess } from "./dcnet-process.js";

export interface SecureClusterOptions {
  readonly cluster: string;
  /** Node ids: one `dcnet node` process each, node i preferring server i. */
  readonly nodes: readonly string[];
  /** Node credentials issued without a process (an intruder holding a stolen or spare node credential). */
  readonly spareNodes?: readonly string[];
  readonly users: readonly { readonly name: string; readonly role: UserRole }[];
  /** The nodes' config file (YAML), e.g. short gossip timings. */
  readonly nodeConfig?: string;
}

export interface SecureNode {
  readonly id: string;
  readonly proc: DcnetProcess;
  readonly metricsPort: number;
}

export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

export interface RunResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface SecureAdmin {
  readonly admin: AdminClient;
  readonly transport: Transport;
  close(): Promise<void>;
}

export interface SecureCluster {
  readonly cluster: string;
  readonly creds: TestCreds;
  readonly nats: NatsClusterHandle;
  /** `tls://127.0.0.1:<port>` of every server. */
  readonly urls: readonly string[];
  readonly nodes: readonly SecureNode[];
  /** A temp folder of the test's own (task files, copies of bundles); removed by stop(). */
  readonly scratch: string;
  node(id: string): SecureNode;
  /** `dcnet ctl --nats <all> --cluster <c> [--creds <bundle> | --insecure] <args>`. */
  ctl(bundle: string | null, args: readonly string[]): Promise<RunResult>;
  /** `ctl … --json` parsed (throws with the output when it failed). */
  ctlJson<T>(bundle: string, args: readonly string[]): Promise<T>;
  /** Every sample of a node's /metrics. */
  metrics(id: string): Promise<Sample[]>;
  /** An AdminClient in this process with a user's credential, under that credential's role. */
  admin(user: string, timeoutMs?: number): Promise<SecureAdmin>;
  /** A raw NATS connection as `bundle` (TLS 1.3, like a node), to server `server` (default 0). */
  raw(bundle: string | Credential, server?: number): Promise<NatsConnection>;
  /** Reloads every server (after the users fragment changed). */
  reload(): Promise<void>;
  stop(): Promise<void>;
}

/** The sum of a metric's samples whose labels include `match`. */
export function sum(samples: readonly Sample[], name: string, match: Readonly<Record<string, string>> = {}): number {
  return samples.filter((s) => s.name === name && Object.entries(match).every(([k, v]) => s.labels[k] === v)).reduce((n, s) => n + s.value, 0);
}

/** Prometheus text format → samples (comments skipped; label values without escaped quotes, as ours are). */
export function parseMetrics(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split("\n")) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)$/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? "").matchAll(/(\w+)="([^"]*)"/g)) labels[l[1] as string] = l[2] as string;
    out.push({ name: m[1] as string, labels, value: Number(m[3]) });
  }
  return out;
}

/** Async errors the server sent a connection (permission violations), as text, as they arrive. */
export function serverErrors(nc: NatsConnection): string[] {
  const seen: string[] = [];
  void (async () => {
    for await (const s of nc.status() as AsyncIterable<Status>) if (s.type === "error") seen.push(String(s.error));
  })();
  return seen;
}

export async function startSecureCluster(opts: SecureClusterOptions): Promise<SecureCluster> {
  const scratch = mkdtempSync(join(tmpdir(), "dcnet-secure-"));
  const started: Array<() => Promise<void>> = [async () => rmSync(scratch, { recursive: true, force: true })];
  const stop = async (): Promise<void> => {
    // Nodes first (they would only log reconnect attempts), then servers, then files.
    for (const f of started.splice(0).reverse()) await f().catch(() => undefined);
  };
  try {
    const creds = await makeTestCreds({ cluster: opts.cluster, servers: 3, nodes: [...opts.nodes, ...(opts.spareNodes ?? [])], users: opts.users });
    started.push(async () => creds.cleanup());
    const nats = await startNatsCluster(3, { jetstream: false, name: `${opts.cluster}-routes`, secure: creds.secureCluster() });
    started.push(() => nats.stop());
    const urls = nats.servers.map((s) => `tls://127.0.0.1:${s.port}`);
    const configFile = join(scratch, "node.yaml");
    if (opts.nodeConfig !== undefined) writeFileSync(configFile, opts.nodeConfig);
    // No credential or insecure setting leaks in from the environment, and no `dcnet up` credential is found.
    const env = { DCNET_NATS_INSECURE: "", DCNET_NATS_CREDENTIALS: "", XDG_STATE_HOME: scratch };
    const nodes: SecureNode[] = [];
    for (const [i, id] of opts.nodes.entries()) {
      const metricsPort = await freePort();
      // Node i on server i only: the nodes' gossip crosses the TLS routes, as with a server per agent.
      const args = ["node", "--nats", urls[i % urls.length] as string, "--cluster", opts.cluster, "--id", id, "--creds", creds.bundle(id)];
      args.push("--dns-listen", `127.0.0.1:${await freePort()}`, "--metrics-listen", `127.0.0.1:${metricsPort}`);
      if (opts.nodeConfig !== undefined) args.push("--config", configFile);
      const proc = spawnDcnet(args, env);
      started.push(async () => void (await proc.stop()));
      nodes.push({ id, proc, metricsPort });
    }
    await Promise.all(nodes.map((n) => n.proc.waitForLine(isReady, 30_000)));
    const byId = new Map(nodes.map((n) => [n.id, n]));
    const ctl = (bundle: string | null, args: readonly string[]): Promise<RunResult> =>
      runDcnet(["ctl", "--nats", urls.join(","), "--cluster", opts.cluster, ...(bundle === null ? ["--insecure"] : ["--creds", bundle]), ...args], env);
    const c: SecureCluster = {
      cluster: opts.cluster,
      creds,
      nats,
      urls,
      nodes,
      scratch,
      node(id) {
        const n = byId.get(id);
        if (!n) throw new Error(`no node ${id}`);
        return n;
      },
      ctl,
      async ctlJson<T>(bundle: string, args: readonly string[]): Promise<T> {
        const r = await ctl(bundle, [...args, "--json"]);
        if (r.code !== 0) throw new Error(`dcnet ctl ${args.join(" ")}: exit ${r.code}: ${r.stderr}${r.stdout}`);
        return JSON.parse(r.stdout) as T;
      },
      async metrics(id) {
        const res = await fetch(`http://127.0.0.1:${c.node(id).metricsPort}/metrics`, { signal: AbortSignal.timeout(5000) });
        return parseMetrics(await res.text());
      },
      async admin(user, timeoutMs = 3000) {
        const cred = loadCredential(creds.bundle(user));
        const transport = await Transport.connect({
          servers: [...urls],
          cluster: opts.cluster,
          nodeId: `t-${user}-${process.pid}`,
          logger: pino({ level: "silent" }),
          tls: cred.tls,
          inboxPrefix: inboxPrefix(cred.cluster, cred.name),
          connectTimeoutMs: 5000,
        });
        started.push(() => transport.close());
        const role = cred.role === "node" || cred.role === "server" ? "viewer" : cred.role;
        return { transport, admin: new AdminClient(transport, timeoutMs, undefined, { role }), close: () => transport.close() };
      },
      async raw(bundle, server = 0) {
        const url = nats.servers[server]?.url ?? nats.urls[0];
        const nc = await connectAs(url as string, bundle, { tls12: false, timeoutMs: 5000 });
        started.push(() => nc.close().catch(() => undefined));
        return nc;
      },
      async reload() {
        await Promise.all(nats.servers.map((s) => s.reload()));
      },
      stop,
    };
    return c;
  } catch (err) {
    await stop();
    throw err;
  }
}

/**
 * A bundle signed by the cluster's CA for an identity the servers were never told about (not in
 * issued.json, so not in the users fragment): stands in for a wrong password or nkey — the
 * certificate is genuine, the user is unknown.
 */
export async function strangerBundle(creds: TestCreds, name: string, role: UserRole): Promise<string> {
  const work = await mkdtemp(join(creds.dir, ".stranger-"));
  try {
    const ca = { cert: join(creds.dir, "ca.crt"), key: join(creds.dir, "ca.key") };
    const made = await issueCert(work, ca, { id: { name, role, cluster: creds.cluster, serial: newSerial() }, days: 2 });
    const out = join(creds.dir, `${name}-stranger.pem`);
    await writeFile(out, (await readFile(ca.cert, "utf8")) + made.cert + made.key, { mode: 0o600 });
    return out;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
