#!/usr/bin/env node
// Bundles the CLI (cli/main.ts and what it imports) into dist/cli-bundle/ with esbuild, split into chunks
// so each command loads only its own. Why a bundle on top of tsc's dist/: a `dcnet ctl` process is
// dominated by Node's module loader, not by our code — about 220 files (zod alone is 95) resolved, read and
// compiled one by one; one file per command cut `ctl ping` from 320 ms to 180 ms on this machine
// (bench/cli-start.ts). The node runtime (`dcnet node`, `dcnet up`) keeps running tsc's output: it starts
// worker threads from files next to their modules and loads the native UDP addon, which a bundle would move.
// bin/dcnet.js picks one or the other by command. Plain JavaScript, like the other scripts.
import { build } from "esbuild";
import { spawnSync } from "node:child_process";
import { mkdirSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const outdir = join(root, "dist", "cli-bundle");
rmSync(outdir, { recursive: true, force: true });
await build({
  entryPoints: [join(root, "cli", "main.ts")],
  outdir,
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20",
  sourcemap: true,
  // Native code stays where npm put it.
  external: ["msgpackr-extract", "@dcnet/udp-batch"],
  // CommonJS dependencies bundled into an ES module still call require().
  banner: { js: "import { createRequire as __dcnetRequire } from 'node:module'; const require = __dcnetRequire(import.meta.url);" },
  logLevel: "warning",
});

// The CNI plugin (bin/dcnet-cni.js): a container runtime starts it once per container, so it is one
// file with nothing to resolve at start-up (cli/cni/README.md has its start-up figures).
const cniOut = join(root, "dist", "cni-bundle");
rmSync(cniOut, { recursive: true, force: true });
await build({ entryPoints: [join(root, "cli", "cni", "main.ts")], outdir: cniOut, bundle: true, format: "esm", platform: "node", target: "node20", sourcemap: true, logLevel: "warning" });

// Its compiled front end (native/cni-shim/): hands each call to the node's CNI socket, so an ADD does not
// start Node.js at all; falls back to bin/dcnet-cni.js when no node answers. Plain C and libc: one cc call.
const shimOut = join(root, "dist", "cni-shim");
rmSync(shimOut, { recursive: true, force: true });
mkdirSync(shimOut, { recursive: true });
const cc = spawnSync("cc", ["-O2", "-Wall", "-Wextra", "-Werror", "-o", join(shimOut, "dcnet-cni"), join(root, "native", "cni-shim", "dcnet-cni.c")], { stdio: "inherit" });
if (cc.error || cc.status !== 0) {
  // Not fatal: runtimes can run bin/dcnet-cni.js itself, only slower.
  console.error(`dcnet: the CNI front end was not compiled (${cc.error?.message ?? `cc exited ${cc.status}`}); use bin/dcnet-cni.js`);
}
