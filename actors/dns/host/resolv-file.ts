// Installing and restoring the host's resolv.conf. Install keeps the host's own file first (as it
// is: a symlink stays a symlink, e.g. to systemd-resolved's or resolvconf's file), then puts ours in
// place with one rename, so no reader ever sees half a file. Restore puts the host's file back only
// if ours is still there: a file something else wrote meanwhile (a DHCP client) is newer than the
// backup and is left alone. A backup that already exists at install is from a run that did not stop
// cleanly: it is the host's file, and is kept, not overwritten with ours.
import type { Stats } from "node:fs";
import { lstat, readFile, readlink, rename, symlink, unlink, writeFile, copyFile, chmod } from "node:fs/promises";
import { DCNET_MARK } from "./resolv-conf.js";
import { ResolvConfError } from "../errors.js";

/** A backup standing for "there was no resolv.conf": restore then removes ours. */
const ABSENT_MARK = "# dcnet: the host had no resolv.conf here\n";


/** The host's file as it is now: its text (undefined when absent). Follows a symlink. */
export async function readHostFile(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw e;
  }
}

/** What the host's resolvers were: the backup when one exists (the file may be ours from a crashed run), else the file. */
export async function previousHostFile(path: string, backupPath: string): Promise<string | undefined> {
  const backup = await readHostFile(backupPath);
  if (backup !== undefined) return backup === ABSENT_MARK ? "" : backup;
  return readHostFile(path);
}

export async function installResolvConf(path: string, backupPath: string, text: string): Promise<{ readonly backedUp: boolean }> {
  try {
    let backedUp = false;
    if ((await lstatOrUndefined(backupPath)) === undefined) {
      await backup(path, backupPath);
      backedUp = true;
    }
    const tmp = `${path}.dcnet-tmp`;
    await writeFile(tmp, text, { mode: 0o644 });
    await chmod(tmp, 0o644);
    await rename(tmp, path);
    return { backedUp };
  } catch (e) {
    throw explain(e, `cannot install ${path}`);
  }
}

/** `restored`: the host's file is back; `kept-other`: the file is no longer ours, left as is; `no-backup`: nothing to restore. */
export async function restoreResolvConf(path: string, backupPath: string): Promise<"restored" | "kept-other" | "no-backup"> {
  try {
    const b = await lstatOrUndefined(backupPath);
    if (b === undefined) return "no-backup";
    const now = await readHostFile(path);
    if (now !== undefined && !now.startsWith(DCNET_MARK)) {
      await unlink(backupPath);
      return "kept-other";
    }
    if (b.isFile() && (await readFile(backupPath, "utf8")) === ABSENT_MARK) {
      await unlink(path).catch(() => undefined);
      await unlink(backupPath);
      return "restored";
    }
    await rename(backupPath, path);
    return "restored";
  } catch (e) {
    throw explain(e, `cannot restore ${path} from ${backupPath}`);
  }
}

async function backup(path: string, backupPath: string): Promise<void> {
  const st = await lstatOrUndefined(path);
  if (st === undefined) await writeFile(backupPath, ABSENT_MARK);
  else if (st.isSymbolicLink()) await symlink(await readlink(path), backupPath);
  else {
    await copyFile(path, backupPath);
    await chmod(backupPath, st.mode & 0o7777);
  }
}

async function lstatOrUndefined(p: string): Promise<Stats | undefined> {
  try {
    return await lstat(p);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw e;
  }
}

function explain(e: unknown, what: string): ResolvConfError {
  if (e instanceof ResolvConfError) return e;
  const code = (e as NodeJS.ErrnoException).code;
  const msg = e instanceof Error ? e.message : String(e);
  switch (code) {
    case "EROFS":
      return new ResolvConfError(`${what}: the file system is read-only (${msg}). The host keeps its own resolvers; make the file's directory writable, or point dns.resolvConf.path at the writable file the host really uses, or set dns.manageResolvConf: false and configure the host by hand (nameserver lines for dns.resolver.addresses)`, "read-only", { cause: e });
    case "EPERM":
    case "EACCES":
      return new ResolvConfError(`${what}: not permitted (${msg}); is it immutable (lsattr), or is dcnet not running as root? The host keeps its own resolvers`, "not-permitted", { cause: e });
    case "ENOENT":
    case "ENOTDIR":
      return new ResolvConfError(`${what}: its directory does not exist (${msg})`, "missing-directory", { cause: e });
    default:
      return new ResolvConfError(`${what}: ${msg}`, "failed", { cause: e });
  }
}
