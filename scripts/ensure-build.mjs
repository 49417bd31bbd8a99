#!/usr/bin/env node
// Builds dist/ (what bin/dcnet.js runs) when it is missing or a source is newer than the last build, so
// a fresh clone works after `npm ci` and `npm start`, `npm test` and the integration tests never run stale
// code. Run by `npm ci` (the `prepare` script), by ensure-deps.mjs and by the integration tests'
// globalSetup. Cheap when fresh: one stat per source file, no compiler. Plain JavaScript, like ensure-deps.mjs.
// `npm run build` is the plain compile (tsc -p tsconfig.build.json).
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, rmSync, statSync, utimesSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const buildConfig = join(root, "tsconfig.build.json");
const entry = join(root, "dist", "cli", "main.js");
const stamp = join(root, "dist", ".tsbuildinfo"); // tsc's incremental state, touched after every build here

const why = staleBuild();
if (why) {
  console.error(`dcnet: building dist/ (${why})`);
  // The incremental state alone would make tsc skip emitting files that were deleted from dist/.
  if (!existsSync(entry)) rmSync(stamp, { force: true });
  const tsc = join(root, "node_modules", "typescript", "bin", "tsc");
  if (!existsSync(tsc)) {
    // e.g. `npm ci --omit=dev`: build with the dev dependencies, then drop them (deploy/README.md).
    console.error("dcnet: building dist/ needs typescript, a dev dependency: run npm ci (then npm prune --omit=dev if wanted)");
    process.exit(1);
  }
  const startedAt = new Date();
  const r = spawnSync(process.execPath, [tsc, "-p", buildConfig], { cwd: root, stdio: "inherit" });
  // tsc exits 2 when it found type errors but wrote every file (noEmitOnError is off): the code runs,
  // and `npm test` fails at its typecheck step with the same errors. Anything else is a failed build.
  if (r.status === 2) console.error("dcnet: built dist/ despite the type errors above (npm run typecheck)");
  else if (r.status !== 0) {
    console.error("dcnet: the build failed (npm run build shows the same errors)");
    process.exit(r.status ?? 1);
  }
  // The CLI's bundle (scripts/bundle-cli.mjs) is made from the same sources, right after them.
  const b = spawnSync(process.execPath, [join(root, "scripts", "bundle-cli.mjs")], { cwd: root, stdio: "inherit" });
  if (b.status !== 0) {
    console.error("dcnet: bundling the CLI failed (npm run build shows the same errors)");
    process.exit(b.status ?? 1);
  }
  // tsc leaves its state file alone when no output changed (a source only touched): mark the build as of
  // its start, so a source saved while tsc ran counts as newer next time.
  utimesSync(stamp, startedAt, startedAt);
}

/** Why dist/ needs building, or undefined when it is fresh. */
function staleBuild() {
  if (!existsSync(entry) || !existsSync(stamp) || !existsSync(join(root, "dist", "cli-bundle", "main.js")) || !existsSync(join(root, "dist", "cni-bundle", "main.js"))) return "no build yet";
  const built = statSync(stamp).mtimeMs;
  const newer = (path) => statSync(path).mtimeMs > built;
  for (const f of ["tsconfig.json", "tsconfig.build.json"]) if (newer(join(root, f))) return `${f} changed`;
  // The CNI front end is C (scripts/bundle-cli.mjs compiles it); a missing binary is not stale when cc is absent.
  const shim = join(root, "native", "cni-shim", "dcnet-cni.c");
  if (newer(shim)) return `${relative(root, shim)} changed`;
  // "include" of tsconfig.build.json (whose comments are whole lines) names the source folders.
  const { include } = JSON.parse(readFileSync(buildConfig, "utf8").replace(/^\s*\/\/.*$/gm, ""));
  for (const dir of include.map((d) => join(root, d))) {
    // A folder's own time changes when a file in it is added, renamed or deleted.
    if (newer(dir)) return `${relative(root, dir)}/ changed`;
    for (const e of readdirSync(dir, { recursive: true, withFileTypes: true })) {
      const source = e.isDirectory() || (/\.(ts|mts|js|mjs)$/.test(e.name) && !e.name.endsWith(".test.ts"));
      const path = join(e.parentPath, e.name);
      if (source && newer(path)) return `${relative(root, path)} changed`;
    }
  }
  return undefined;
}
