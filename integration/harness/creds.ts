// Credentials for tests and benchmarks: a dcnet credentials folder (a CA, server certificates for
// 127.0.0.1, node and user bundles, the users fragment), made with the same code as `dcnet creds`,
// in a temp folder removed by cleanup(). Then: startNatsServer({ secure }) / startNatsCluster(n,
// { secure }) start servers that require them, and connectAs() opens a raw NATS connection as one.
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import type { ConnectionOptions as TlsConnectionOptions } from "node:tls";
import { connect, type NatsConnection, type TlsOptions } from "@nats-io/transport-node";
import { initCredsDir, issue, revoke, type IssueRequest, type UserRole } from "../../transport/auth/index.js";
import { inboxPrefix } from "../../transport/auth/identity.js";
import { loadCredential, type Credential } from "../../transport/auth/load.js";
import { clusterServerCheck } from "../../transport/auth/server-identity.js";
import type { SecureOptions } from "./nats-local.js";

export interface TestCredsOptions {
  readonly cluster: string;
  /** Server certificates `nats-0` … `nats-<n-1>` for 127.0.0.1. Default 1. */
  readonly servers?: number;
  readonly nodes?: readonly string[];
  readonly users?: readonly { readonly name: string; readonly role: UserRole }[];
  /** Validity of the node and user certificates, days. */
  readonly days?: number;
  /** JetStream KV buckets the node credentials may use. */
  readonly kvBuckets?: readonly string[];
}

export interface TestCreds {
  readonly dir: string;
  readonly cluster: string;
  /** Server certificate names, for startNatsCluster's `secure.servers`. */
  readonly servers: readonly string[];
  /** Path of the bundle of a node or user (`--creds`, `nats.credentials`). */
  bundle(name: string): string;
  /** `secure` of startNatsServer for server `i` (default 0). */
  server(i?: number): SecureOptions;
  /** `secure` of startNatsCluster. */
  secureCluster(): { readonly credsDir: string; readonly cluster: string; readonly servers: readonly string[] };
  /** Issues more identities (the users fragment is rewritten: reload the servers). */
  add(reqs: readonly IssueRequest[]): Promise<void>;
  /** Revokes a name (the users fragment is rewritten: reload the servers). */
  revoke(name: string): Promise<void>;
  cleanup(): void;
}

export async function makeTestCreds(opts: TestCredsOptions): Promise<TestCreds> {
  const dir = mkdtempSync(join(tmpdir(), "dcnet-creds-"));
  const kv = opts.kvBuckets ? { kvBuckets: opts.kvBuckets } : {};
  const servers = Array.from({ length: opts.servers ?? 1 }, (_, i) => `nats-${i}`);
  try {
    await initCredsDir(dir, { cluster: opts.cluster, days: 30 });
    const days = opts.days ?? 30;
    await issue(
      dir,
      [
        ...servers.map((name): IssueRequest => ({ name, role: "server", ips: ["127.0.0.1"], dns: ["localhost"], days: 30 })),
        ...(opts.nodes ?? []).map((name): IssueRequest => ({ name, role: "node", days })),
        ...(opts.users ?? []).map((u): IssueRequest => ({ name: u.name, role: u.role, days })),
      ],
      kv,
    );
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    dir,
    cluster: opts.cluster,
    servers,
    bundle: (name) => join(dir, `${name}.pem`),
    server: (i = 0) => ({ credsDir: dir, cluster: opts.cluster, server: servers[i] ?? "nats-0" }),
    secureCluster: () => ({ credsDir: dir, cluster: opts.cluster, servers }),
    add: async (reqs) => void (await issue(dir, reqs, kv)),
    revoke: async (name) => void (await revoke(dir, name, kv)),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export interface ConnectAsOptions {
  readonly timeoutMs?: number;
  /**
   * TLS 1.2 makes a refused client certificate fail the handshake itself, so the refusal is an
   * immediate error; under TLS 1.3 the server refuses it after the client thinks it is connected, and
   * nats.js keeps retrying until `timeoutMs`. Default true (tests want the error).
   */
  readonly tls12?: boolean;
}

/** A raw NATS connection with a bundle's certificate and its identity's inbox prefix (one connect attempt). */
export async function connectAs(url: string, bundle: string | Credential, opts: ConnectAsOptions = {}): Promise<NatsConnection> {
  const cred = typeof bundle === "string" ? loadCredential(bundle) : bundle;
  // nats.js hands these to Node's tls.connect as they are.
  const tls: TlsOptions & Pick<TlsConnectionOptions, "checkServerIdentity" | "maxVersion"> = {
    ...cred.tls,
    checkServerIdentity: clusterServerCheck(cred.cluster),
    ...((opts.tls12 ?? true) ? { maxVersion: "TLSv1.2" as const } : {}),
  };
  return connect({
    servers: url,
    tls,
    inboxPrefix: inboxPrefix(cred.cluster, cred.name),
    timeout: opts.timeoutMs ?? 2000,
    maxReconnectAttempts: 1,
    waitOnFirstConnect: false,
  });
}

const run = promisify(execFile);

/**
 * A bundle whose certificate expired (valid 2020-01-01 to 2020-01-02), signed by the folder's CA:
 * `openssl req -days` cannot go back in time, `openssl ca -startdate/-enddate` can.
 */
export async function expiredBundle(creds: TestCreds, name: string, role: "node" | UserRole): Promise<string> {
  const work = mkdtempSync(join(creds.dir, ".expired-"));
  try {
    const f = (n: string): string => join(work, n);
    writeFileSync(f("index.txt"), "");
    writeFileSync(f("serial"), "1000\n");
    const conf = ["[ca]", "default_ca = d", "[d]", `database = ${f("index.txt")}`, `new_certs_dir = ${work}`, `serial = ${f("serial")}`, "default_md = sha256", "policy = p", "x509_extensions = ext", "unique_subject = no"];
    conf.push("[p]", "organizationName = supplied", "organizationalUnitName = supplied", "commonName = supplied", "serialNumber = supplied");
    conf.push("[ext]", "basicConstraints = critical,CA:FALSE", "keyUsage = critical,digitalSignature", "extendedKeyUsage = clientAuth");
    writeFileSync(f("ca.cnf"), conf.join("\n") + "\n");
    const subj = `/O=dcnet-${creds.cluster}/OU=${role}/CN=${name}/serialNumber=1000`;
    await run("openssl", ["req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", f("k.pem"), "-out", f("r.csr"), "-subj", subj]);
    const ca = [join(creds.dir, "ca.crt"), join(creds.dir, "ca.key")] as const;
    await run("openssl", ["ca", "-batch", "-config", f("ca.cnf"), "-cert", ca[0], "-keyfile", ca[1], "-in", f("r.csr"), "-out", f("c.pem"), "-startdate", "20200101000000Z", "-enddate", "20200102000000Z", "-notext", "-preserveDN"]);
    const out = join(creds.dir, `${name}-expired.pem`);
    writeFileSync(out, readFileSync(ca[0], "utf8") + readFileSync(f("c.pem"), "utf8") + readFileSync(f("k.pem"), "utf8"), { mode: 0o600 });
    return out;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
