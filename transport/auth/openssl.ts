// The edge to the `openssl` binary (OpenSSL 3.0+, Debian's `openssl` package): a cluster CA and
// certificates signed by it, ECDSA P-256 / SHA-256. Run with execFile (no shell); arguments never
// carry key material, and keys go to files in a private work folder the caller owns and removes.
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { clusterOrg, opensslSubject, routesUser, type CertIdentity } from "./identity.js";
import { OpensslError } from "./errors.js";

/** A certificate and its key, PEM. */
export interface Issued {
  readonly cert: string;
  readonly key: string;
}

export interface IssueRequest {
  readonly id: CertIdentity;
  /** Validity from now, days (at least 1). */
  readonly days: number;
  /** Server certificates: the IPs and DNS names clients and routes use to reach it. */
  readonly ips?: readonly string[];
  readonly dns?: readonly string[];
}

const EC_KEY = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-sha256"];

/** `DCNET_OPENSSL` names the binary; default `openssl` on PATH. */
function bin(): string {
  return process.env.DCNET_OPENSSL || "openssl";
}

function run(step: string, args: readonly string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(bin(), args, { timeout: 30_000, maxBuffer: 1 << 20 }, (err, _stdout, stderr) => {
      if (!err) return resolve();
      const missing = (err as NodeJS.ErrnoException).code === "ENOENT";
      const detail = missing ? `${bin()} not found: install it (Debian: apt-get install -y openssl)` : lastLine(stderr) || err.message;
      reject(new OpensslError(step, detail, { cause: err }));
    });
  });
}

function lastLine(text: string): string {
  return text.trim().split("\n").filter(Boolean).pop() ?? "";
}

function checkDays(days: number): void {
  if (!Number.isInteger(days) || days < 1 || days > 36_500) throw new RangeError(`validity ${days} days must be a whole number of days, 1..36500`);
}

/** A random positive 64-bit serial, lower-case hex with no leading zero (the same text in the DN and the certificate). */
export function newSerial(): string {
  const b = randomBytes(8);
  b[0] = ((b[0] as number) & 0x7f) | 0x10;
  return b.toString("hex");
}

async function readPair(certFile: string, keyFile: string): Promise<Issued> {
  const [cert, key] = await Promise.all([readFile(certFile, "utf8"), readFile(keyFile, "utf8")]);
  return { cert, key };
}

/** A self-signed CA for `cluster`, valid `days`; files are written into `work` and read back. */
export async function makeCa(work: string, cluster: string, days: number): Promise<Issued> {
  checkDays(days);
  const [cert, key] = [join(work, "ca.crt"), join(work, "ca.key")];
  const subject = `/O=${clusterOrg(cluster)}/OU=ca/CN=${clusterOrg(cluster)} CA`;
  await run("make the CA", [
    ...["req", "-x509", "-new", ...EC_KEY, "-keyout", key, "-out", cert, "-days", String(days)],
    ...["-subj", subject, "-set_serial", `0x${newSerial()}`],
    ...["-addext", "basicConstraints=critical,CA:TRUE,pathlen:0", "-addext", "keyUsage=critical,keyCertSign,cRLSign"],
  ]);
  return readPair(cert, key);
}

/**
 * A certificate for `req.id` signed by the CA in `caCert`/`caKey` (files). A client certificate can
 * only authenticate; a server one (role `server`) also serves TLS, carries its SANs, and the cluster's
 * route name so the other servers accept it as a route.
 */
export async function issueCert(work: string, ca: { readonly cert: string; readonly key: string }, req: IssueRequest): Promise<Issued> {
  checkDays(req.days);
  const [cert, key] = [join(work, `${req.id.serial}.crt`), join(work, `${req.id.serial}.key`)];
  const server = req.id.role === "server";
  const san = [...(req.ips ?? []).map((ip) => `IP:${ip}`), ...(req.dns ?? []).map((d) => `DNS:${d}`), `DNS:${routesUser(req.id.cluster)}`];
  await run(`issue the certificate of ${req.id.role} ${req.id.name}`, [
    ...["req", "-x509", "-CA", ca.cert, "-CAkey", ca.key, ...EC_KEY, "-keyout", key, "-out", cert, "-days", String(req.days)],
    ...["-subj", opensslSubject(req.id), "-set_serial", `0x${req.id.serial}`],
    ...["-addext", "basicConstraints=critical,CA:FALSE", "-addext", "keyUsage=critical,digitalSignature"],
    ...["-addext", `extendedKeyUsage=${server ? "serverAuth,clientAuth" : "clientAuth"}`],
    ...(server ? ["-addext", `subjectAltName=${san.join(",")}`] : []),
  ]);
  return readPair(cert, key);
}
