// A cluster's credentials folder: the CA, one bundle per node or person, server certificates, the list
// of issued and revoked certificates (issued.json) and the users fragment generated from it
// (nats-auth.conf). Every file is written mode 0600 in a 0700 folder, through a rename, so a reader
// never sees half a key. The CA key lives here too: keep the folder on the operator's machine.
import { chmod, mkdir, mkdtemp, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { X509Certificate } from "node:crypto";
import { join } from "node:path";
import { validateId } from "../subjects.js";
import { checkIdentity, type CertIdentity, type IdentityRole } from "./identity.js";
import { issueCert, makeCa, newSerial, type Issued } from "./openssl.js";
import { renderUsers, type PermissionOptions } from "./permissions.js";
import { CredsStoreError } from "./errors.js";

export const CREDS_FILES = { caCert: "ca.crt", caKey: "ca.key", issued: "issued.json", users: "nats-auth.conf" } as const;

/** Default validity, days. */
export const DEFAULT_DAYS = { ca: 3650, cert: 365 } as const;

export interface IssuedCert {
  readonly name: string;
  readonly role: IdentityRole;
  readonly serial: string;
  readonly issuedAt: string;
  readonly notAfter: string;
  /** Files written for it, relative to the folder. */
  readonly files: readonly string[];
}

export interface RevokedCert {
  readonly name: string;
  readonly role: IdentityRole;
  readonly serial: string;
  readonly revokedAt: string;
}

export interface IssuedList {
  readonly version: 1;
  readonly cluster: string;
  readonly certs: readonly IssuedCert[];
  readonly revoked: readonly RevokedCert[];
}

export interface IssueRequest {
  readonly name: string;
  readonly role: IdentityRole;
  readonly days?: number;
  /** Server certificates only: addresses clients and the other servers reach it by. */
  readonly ips?: readonly string[];
  readonly dns?: readonly string[];
}

/** File names of the CA, an identity's bundle or a server's pair: `ca` is taken. */
const RESERVED_NAMES = new Set(["ca"]);

async function writeSecret(file: string, text: string): Promise<void> {
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, text, { mode: 0o600 });
  await chmod(tmp, 0o600);
  await rename(tmp, file);
}

async function exists(file: string): Promise<boolean> {
  return stat(file).then(
    () => true,
    () => false,
  );
}

/** Makes `dir` (0700) with a new CA for `cluster`, an empty issued list and users fragment. Refuses a folder that has a CA. */
export async function initCredsDir(dir: string, opts: { readonly cluster: string; readonly days?: number }): Promise<string[]> {
  validateId(opts.cluster, "cluster id");
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await chmod(dir, 0o700);
  if (await exists(join(dir, CREDS_FILES.caKey))) throw new CredsStoreError(`${dir} already has a CA (${CREDS_FILES.caKey}); a second one would orphan every credential it issued`);
  const ca = await inWorkDir(dir, (work) => makeCa(work, opts.cluster, opts.days ?? DEFAULT_DAYS.ca));
  await writeSecret(join(dir, CREDS_FILES.caKey), ca.key);
  await writeSecret(join(dir, CREDS_FILES.caCert), ca.cert);
  await writeList(dir, { version: 1, cluster: opts.cluster, certs: [], revoked: [] });
  return [CREDS_FILES.caCert, CREDS_FILES.caKey, CREDS_FILES.issued, CREDS_FILES.users].map((f) => join(dir, f));
}

export async function readIssued(dir: string): Promise<IssuedList> {
  let text: string;
  try {
    text = await readFile(join(dir, CREDS_FILES.issued), "utf8");
  } catch (err) {
    throw new CredsStoreError(`${dir} is not a dcnet credentials folder (no ${CREDS_FILES.issued}): run dcnet creds init --dir ${dir} first`, { cause: err });
  }
  const list = JSON.parse(text) as IssuedList;
  if (list.version !== 1 || typeof list.cluster !== "string" || !Array.isArray(list.certs)) throw new CredsStoreError(`${join(dir, CREDS_FILES.issued)} is not a dcnet issued list`);
  return list;
}

/**
 * Issues a certificate per request (openssl runs in parallel), writes each bundle (node, user) or
 * cert/key pair (server), records them and regenerates the users fragment, once. A name keeps its
 * role; issuing a name again is a rotation: the older certificates stay valid until revoked.
 */
export async function issue(dir: string, reqs: readonly IssueRequest[], opts: PermissionOptions & { readonly now?: Date } = {}): Promise<IssuedCert[]> {
  const list = await readIssued(dir);
  const ids = reqs.map((r) => checkRequest(list, reqs, r));
  const ca = { cert: join(dir, CREDS_FILES.caCert), key: join(dir, CREDS_FILES.caKey) };
  const caPem = await readFile(ca.cert, "utf8");
  const made = await inWorkDir(dir, (work) => Promise.all(reqs.map((r, i) => issueCert(work, ca, { id: ids[i] as CertIdentity, days: r.days ?? DEFAULT_DAYS.cert, ...optional(r) }))));
  const now = (opts.now ?? new Date()).toISOString();
  const certs = await Promise.all(made.map((m, i) => writeIssued(dir, ids[i] as CertIdentity, m, caPem, now)));
  await writeList(dir, { ...list, certs: [...list.certs, ...certs] }, opts);
  return certs;
}

function optional(r: IssueRequest): { ips?: readonly string[]; dns?: readonly string[] } {
  return { ...(r.ips ? { ips: r.ips } : {}), ...(r.dns ? { dns: r.dns } : {}) };
}

function checkRequest(list: IssuedList, reqs: readonly IssueRequest[], r: IssueRequest): CertIdentity {
  const id = checkIdentity({ name: r.name, role: r.role, cluster: list.cluster, serial: newSerial() });
  if (RESERVED_NAMES.has(r.name)) throw new CredsStoreError(`the name "${r.name}" is reserved (its files would overwrite the CA's)`);
  const other = list.certs.find((c) => c.name === r.name && c.role !== r.role);
  if (other) throw new CredsStoreError(`"${r.name}" is already a ${other.role}; a name has one role (its files are ${other.files.join(", ")})`);
  if (reqs.filter((q) => q.name === r.name).length > 1) throw new CredsStoreError(`"${r.name}" is asked for twice`);
  if (r.role !== "server" && (r.ips?.length || r.dns?.length)) throw new CredsStoreError(`--ip and --dns are for server certificates, not a ${r.role}`);
  return id;
}

async function writeIssued(dir: string, id: CertIdentity, m: Issued, caPem: string, now: string): Promise<IssuedCert> {
  const notAfter = new Date(new X509Certificate(m.cert).validTo).toISOString();
  if (id.role === "server") {
    await writeSecret(join(dir, `${id.name}.key`), m.key);
    await writeSecret(join(dir, `${id.name}.crt`), m.cert);
    return { name: id.name, role: id.role, serial: id.serial, issuedAt: now, notAfter, files: [`${id.name}.crt`, `${id.name}.key`] };
  }
  const header = `# dcnet credential: ${id.role} ${id.name} of cluster ${id.cluster}, serial ${id.serial}, issued ${now}. Secret: keep it 0600.\n`;
  await writeSecret(join(dir, `${id.name}.pem`), header + caPem + m.cert + m.key);
  return { name: id.name, role: id.role, serial: id.serial, issuedAt: now, notAfter, files: [`${id.name}.pem`] };
}

/**
 * Revokes every certificate of `name` (or the one with `serial`): removed from the users fragment,
 * listed as revoked, its files deleted. Servers must reload their config for it to take effect.
 */
export async function revoke(dir: string, name: string, opts: PermissionOptions & { readonly serial?: string; readonly now?: Date } = {}): Promise<IssuedCert[]> {
  const list = await readIssued(dir);
  const gone = list.certs.filter((c) => c.name === name && (opts.serial === undefined || c.serial === opts.serial.toLowerCase()));
  if (gone.length === 0) throw new CredsStoreError(`no live certificate of "${name}"${opts.serial ? ` with serial ${opts.serial}` : ""} in ${dir}`);
  const kept = list.certs.filter((c) => !gone.includes(c));
  const revokedAt = (opts.now ?? new Date()).toISOString();
  const revoked = [...list.revoked, ...gone.map((c) => ({ name: c.name, role: c.role, serial: c.serial, revokedAt }))];
  // A file still used by a kept certificate of the same name (the newer one after a rotation) stays.
  const keptFiles = new Set(kept.flatMap((c) => c.files));
  await writeList(dir, { ...list, certs: kept, revoked }, opts);
  await Promise.all(gone.flatMap((c) => c.files.filter((f) => !keptFiles.has(f)).map((f) => rm(join(dir, f), { force: true }))));
  return gone;
}

/** Regenerates nats-auth.conf from issued.json: every live, unexpired client certificate. Returns its path. */
export async function writeUsersFile(dir: string, opts: PermissionOptions & { readonly now?: Date } = {}): Promise<string> {
  return writeList(dir, await readIssued(dir), opts);
}

async function writeList(dir: string, list: IssuedList, opts: PermissionOptions & { readonly now?: Date } = {}): Promise<string> {
  const now = (opts.now ?? new Date()).getTime();
  const live = list.certs.filter((c) => Date.parse(c.notAfter) > now).map((c) => ({ name: c.name, role: c.role, cluster: list.cluster, serial: c.serial }));
  const users = join(dir, CREDS_FILES.users);
  await writeSecret(join(dir, CREDS_FILES.issued), JSON.stringify(list, null, 2) + "\n");
  await writeSecret(users, renderUsers(list.cluster, live, { revoked: list.revoked, ...(opts.kvBuckets ? { kvBuckets: opts.kvBuckets } : {}) }));
  return users;
}

/** Runs `f` in a fresh private folder inside `dir` (openssl writes keys there), removed afterwards. */
async function inWorkDir<T>(dir: string, f: (work: string) => Promise<T>): Promise<T> {
  const work = await mkdtemp(join(dir, ".work-"));
  try {
    return await f(work);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
