// The node image: a few symlinks and empty mount points (stack.md §4.3). The containers run the
// host's /usr (node, nats-server, ip, nft, tini) through read-only bind mounts, so nothing is
// pulled from a registry and nothing is copied.
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { dockerApi } from "./docker-api.js";
import { HOSTFS_IMAGE } from "./paths.js";

const MOUNT_POINTS = ["usr", "etc", "tmp", "proc", "sys", "dev", "app", "conf", "run", "var/tmp", "root"];
// Debian's merged /usr: the top-level binary and library folders are symlinks into it.
const SYMLINKS: [string, string][] = [["usr/bin", "bin"], ["usr/lib", "lib"], ["usr/lib64", "lib64"], ["usr/sbin", "sbin"]];
const PATH_ENV = "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/** Imports the skeleton unless the engine already has it. Takes about 0.1 s. */
export async function ensureHostfsImage(socketPath: string): Promise<void> {
  const found = await dockerApi(socketPath, "GET", `/images/${encodeURIComponent(HOSTFS_IMAGE)}/json`);
  if (found.status === 200) return;
  const skel = mkdtempSync(join(tmpdir(), "dcnet-hostfs-"));
  try {
    for (const d of MOUNT_POINTS) mkdirSync(join(skel, d), { recursive: true });
    for (const [target, name] of SYMLINKS) symlinkSync(target, join(skel, name));
    const tar = spawn("tar", ["-C", skel, "--owner=0", "--group=0", "-c", "."], { stdio: ["ignore", "pipe", "inherit"] });
    const [repo, tag] = HOSTFS_IMAGE.split(":") as [string, string];
    const query = new URLSearchParams({ fromSrc: "-", repo, tag, changes: PATH_ENV });
    const r = await dockerApi(socketPath, "POST", `/images/create?${query.toString()}`, { body: tar.stdout, contentType: "application/x-tar" });
    // The engine streams JSON progress and reports failures inside it with HTTP 200.
    if (r.status !== 200 || /"error"/.test(r.body)) throw new Error(`docker import ${HOSTFS_IMAGE}: ${r.status} ${r.body.trim()}`);
  } finally {
    rmSync(skel, { recursive: true, force: true });
  }
}
