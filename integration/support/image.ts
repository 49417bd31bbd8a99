// Builds the repository's Dockerfile in the harness's private dockerd, from a fresh clone of the
// committed tree, without a container registry:
//  - the Dockerfile's base `node:20-bookworm-slim` is made here: a Debian 12 minbase (mmdebstrap,
//    from the Debian mirror through apt, as any Debian client) plus this machine's Node 20 and npm,
//    laid out as the official image has them (/usr/local); its tar is cached in CACHE_DIR;
//  - npm packages come from an npm cache filled from the lockfile on this machine (npm's own client)
//    and put at `.npm-cache` in the build context, which the Dockerfile then installs offline;
//  - `docker build --network host` lets the Dockerfile's apt-get reach the Debian mirror.
// One image per content (the committed files that can change it): a second test in the same run, or a
// later run on the same engine, reuses it.
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { REPO_ROOT } from "../harness/paths.js";

const run = promisify(execFile);

/** Survives runs: the base rootfs tar (~330 MB) and the npm cache (~140 MB). */
export const CACHE_DIR = process.env.DCNET_IMAGE_CACHE ?? "/var/cache/dcnet-test";
export const BASE_IMAGE = "node:20-bookworm-slim";
export const IMAGE = "dcnet:local";
const COMMIT_LABEL = "org.dcnet.commit";
/** Hash of the committed files that can change the image (tests, docs, benches and deploy files cannot). */
const KEY_LABEL = "org.dcnet.content";
const NOT_IN_IMAGE = /^(integration|bench|docs|testkit|deploy)\/|\.md$|\.test\.ts$/;

async function contentKey(): Promise<string> {
  const { stdout } = await run("git", ["-C", REPO_ROOT, "ls-tree", "-r", "HEAD"], { maxBuffer: 16 * 1024 * 1024 });
  const kept = stdout.split("\n").filter((l) => l && !NOT_IN_IMAGE.test(l.split("\t")[1] ?? ""));
  return createHash("sha256").update(kept.join("\n")).digest("hex").slice(0, 32);
}

export interface BuiltImage {
  readonly image: string;
  readonly commit: string;
  /** Seconds spent: base image, npm cache, docker build (0 when reused). */
  readonly timings: Readonly<Record<string, number>>;
}

async function docker(args: readonly string[], timeoutMs = 600_000): Promise<string> {
  // The legacy builder: the Debian engine's BuildKit needs a buildx client, which this machine lacks.
  const { stdout } = await run("docker", args, { env: { ...process.env, DOCKER_BUILDKIT: "0" }, maxBuffer: 64 * 1024 * 1024, timeout: timeoutMs });
  return stdout;
}

async function imageLabel(image: string, label: string): Promise<string | undefined> {
  try {
    return (await docker(["image", "inspect", "--format", `{{ index .Config.Labels "${label}" }}`, image])).trim();
  } catch {
    return undefined;
  }
}

async function ensureBase(): Promise<void> {
  try {
    await docker(["image", "inspect", BASE_IMAGE]);
    return;
  } catch {
    // not in this engine yet
  }
  mkdirSync(CACHE_DIR, { recursive: true });
  const tar = join(CACHE_DIR, "node20-bookworm.tar");
  // A directory here is a rootfs an earlier harness left (mmdebstrap picked its format from the name
  // `.tar.part`: a directory); docker import needs the tar, so it is made again.
  if (existsSync(tar) && !statSync(tar).isFile()) rmSync(tar, { recursive: true, force: true });
  rmSync(`${tar}.part`, { recursive: true, force: true });
  if (!existsSync(tar)) {
    const hook = [
      'mkdir -p "$1/usr/local/bin" "$1/usr/local/lib/node_modules" "$1/usr/local/include"',
      'cp "$(readlink -f "$(command -v node)")" "$1/usr/local/bin/node"',
      'cp -a /usr/lib/node_modules/npm "$1/usr/local/lib/node_modules/npm"',
      'cp -a /usr/include/node "$1/usr/local/include/node"',
      'ln -s ../lib/node_modules/npm/bin/npm-cli.js "$1/usr/local/bin/npm"',
      'ln -s ../lib/node_modules/npm/bin/npx-cli.js "$1/usr/local/bin/npx"',
    ].join(" && ");
    await run("mmdebstrap", ["--quiet", "--format=tar", "--variant=minbase", "--include=ca-certificates", `--customize-hook=${hook}`, "bookworm", `${tar}.part`, "http://deb.debian.org/debian"], { timeout: 300_000, maxBuffer: 64 * 1024 * 1024 });
    await run("mv", [`${tar}.part`, tar]);
  }
  await docker(["import", "-c", "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "-c", 'CMD ["node"]', tar, BASE_IMAGE]);
}

/** An npm cache holding every package of the clone's lockfile (filled by npm itself; cheap when already full). */
async function fillNpmCache(clone: string): Promise<string> {
  const cache = join(CACHE_DIR, "npm-cache");
  // A cache already filled for this lockfile is not filled again (npm ci would still unpack everything).
  const lock = createHash("sha256").update(readFileSync(join(clone, "package-lock.json"))).digest("hex").slice(0, 16);
  const marker = join(cache, `.filled-${lock}`);
  if (existsSync(marker)) return cache;
  const scratch = mkdtempSync(join(tmpdir(), "dcnet-npm-scratch-"));
  try {
    mkdirSync(join(scratch, "native"), { recursive: true });
    await run("cp", [join(clone, "package.json"), join(clone, "package-lock.json"), scratch]);
    await run("cp", ["-a", join(clone, "native", "udp-batch"), join(scratch, "native")]);
    await run("npm", ["ci", "--ignore-scripts", "--no-audit", "--no-fund", "--prefer-offline", "--cache", cache], { cwd: scratch, timeout: 300_000, maxBuffer: 16 * 1024 * 1024 });
    writeFileSync(marker, "");
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  return cache;
}

let building: Promise<BuiltImage> | undefined;

/** `dcnet:local` built from HEAD of this repository (a fresh clone), reused when already built for that commit. */
export function ensureImage(): Promise<BuiltImage> {
  building ??= build();
  return building;
}

async function build(): Promise<BuiltImage> {
  const commit = (await run("git", ["-C", REPO_ROOT, "rev-parse", "HEAD"])).stdout.trim();
  const key = await contentKey();
  if ((await imageLabel(IMAGE, KEY_LABEL)) === key) return { image: IMAGE, commit, timings: {} };
  const timings: Record<string, number> = {};
  const lap = async (name: string, f: () => Promise<unknown>) => {
    const t0 = Date.now();
    await f();
    timings[name] = (Date.now() - t0) / 1000;
  };
  const dir = mkdtempSync(join(tmpdir(), "dcnet-image-"));
  const clone = join(dir, "dcnet");
  try {
    await lap("clone", () => run("git", ["clone", "--quiet", "--no-hardlinks", REPO_ROOT, clone]));
    // The base (Debian mirror) and the npm cache (npm registry) need nothing of each other: on a fresh
    // machine they are the two long downloads, so they run side by side.
    let cache = "";
    await lap("base+npm-cache", () => Promise.all([lap("base", ensureBase), lap("npm-cache", async () => (cache = await fillNpmCache(clone)))]));
    await run("cp", ["-al", cache, join(clone, ".npm-cache")]).catch(() => run("cp", ["-a", cache, join(clone, ".npm-cache")]));
    await lap("build", () => docker(["build", "--network", "host", "--label", `${COMMIT_LABEL}=${commit}`, "--label", `${KEY_LABEL}=${key}`, "-t", IMAGE, clone], 900_000));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return { image: IMAGE, commit, timings };
}
