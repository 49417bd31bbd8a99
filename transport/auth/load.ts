// Reads a credential bundle (`<name>.pem`: the CA certificate, the identity's certificate and its key)
// into what the transport's TLS needs and who it is. node:fs and node:crypto only, so `dcnet ctl`
// stays light. Refuses what the server would refuse anyway, with a reason a person can act on.
import { readFileSync, statSync } from "node:fs";
import { createPrivateKey, X509Certificate, type KeyObject } from "node:crypto";
import { parseSubject, type CertIdentity } from "./identity.js";
import { CredentialExpiredError, CredentialInvalidError, CredentialMissingError, CredentialMismatchError } from "./errors.js";

export interface Credential extends CertIdentity {
  readonly file: string;
  /** PEM texts for the TLS connection: trust anchor, client certificate, its private key. */
  readonly tls: { readonly ca: string; readonly cert: string; readonly key: string };
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** Problems that do not stop it from working (a file others can read); the caller logs or prints them. */
  readonly warnings: readonly string[];
}

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n[\s\S]*?-----END \1-----\r?\n?/g;

/** Loads and checks a bundle. Throws CredentialMissingError, CredentialInvalidError or CredentialExpiredError. */
export function loadCredential(file: string, now: Date = new Date()): Credential {
  let text: string;
  let mode: number;
  try {
    mode = statSync(file).mode;
    text = readFileSync(file, "utf8");
  } catch (err) {
    throw new CredentialMissingError(file, { cause: err });
  }
  const warnings = (mode & 0o077) !== 0 ? [`NATS credential ${file} can be read by other users (mode ${(mode & 0o777).toString(8).padStart(4, "0")}): chmod 600 ${file}`] : [];
  const { certs, keys } = pemBlocks(text);
  if (keys.length !== 1 || certs.length === 0) {
    throw new CredentialInvalidError(file, `expected the CA certificate, a certificate and its private key as PEM blocks; found ${certs.length} certificate(s) and ${keys.length} private key(s)`);
  }
  const key = privateKey(file, keys[0] as string);
  const parsed = certs.map((pem) => ({ pem, x509: certificate(file, pem) }));
  const leaf = parsed.find((c) => c.x509.checkPrivateKey(key));
  if (!leaf) throw new CredentialInvalidError(file, "no certificate in it matches its private key");
  const cas = parsed.filter((c) => c !== leaf && c.x509.ca);
  if (!cas.some((c) => leaf.x509.checkIssued(c.x509) && leaf.x509.verify(c.x509.publicKey))) {
    throw new CredentialInvalidError(file, `its certificate (${oneLine(leaf.x509.subject)}) is not signed by a CA certificate in the bundle`);
  }
  const id = parseSubject(leaf.x509.subject);
  if (!id) throw new CredentialInvalidError(file, `subject ${oneLine(leaf.x509.subject)} is not a dcnet identity (O=dcnet-<cluster>, OU=<role>, CN=<name>, serialNumber)`);
  const notBefore = new Date(leaf.x509.validFrom);
  const notAfter = new Date(leaf.x509.validTo);
  if (now < notBefore || now > notAfter) throw new CredentialExpiredError(file, notBefore, notAfter, now);
  // Every CA of the bundle is trusted for the servers: during a CA rotation a bundle carries both.
  return { ...id, file, tls: { ca: cas.map((c) => c.pem).join(""), cert: leaf.pem, key: keys[0] as string }, notBefore, notAfter, warnings };
}

/**
 * A node's credential must be a node's, of this node and this cluster; the server would let a wrong
 * one connect, but then refuse every publish the node makes on its own subjects.
 */
export function checkNodeCredential(cred: Credential, node: { readonly cluster: string; readonly id: string }): void {
  const who = `${cred.role} "${cred.name}" of cluster "${cred.cluster}"`;
  if (cred.role !== "node") throw new CredentialMismatchError(cred.file, `is for ${who}, not a node (make one with: dcnet creds node ${node.id})`);
  if (cred.cluster !== node.cluster) throw new CredentialMismatchError(cred.file, `is for ${who}; this node is in cluster "${node.cluster}" (config cluster)`);
  if (cred.name !== node.id) throw new CredentialMismatchError(cred.file, `is for ${who}; this node's id is "${node.id}" (config id)`);
}

function pemBlocks(text: string): { certs: string[]; keys: string[] } {
  const certs: string[] = [];
  const keys: string[] = [];
  for (const m of text.matchAll(PEM_BLOCK)) {
    const block = m[0].endsWith("\n") ? m[0] : `${m[0]}\n`;
    if (m[1] === "CERTIFICATE") certs.push(block);
    else if (m[1]?.endsWith("PRIVATE KEY")) keys.push(block);
  }
  return { certs, keys };
}

function privateKey(file: string, pem: string): KeyObject {
  try {
    return createPrivateKey(pem);
  } catch {
    // Never the parser's message: it could quote the key.
    throw new CredentialInvalidError(file, "its private key cannot be read (encrypted keys are not supported)");
  }
}

function certificate(file: string, pem: string): X509Certificate {
  try {
    return new X509Certificate(pem);
  } catch (err) {
    throw new CredentialInvalidError(file, `a certificate cannot be read: ${(err as Error).message}`);
  }
}

function oneLine(subject: string): string {
  return subject.split("\n").join(",");
}
