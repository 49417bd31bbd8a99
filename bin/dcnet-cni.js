#!/usr/bin/env node
// The `dcnet-cni` CNI plugin executable (cli/cni/): container runtimes find it by name in CNI_PATH and
// run it once per container start. It runs the plugin's one-file esbuild bundle, dist/cni-bundle/main.js
// (`npm run build`), because start-up is most of an ADD: tsc's output file for file would have Node
// resolve and compile a dozen modules first.
//
// Without a build this answers in the plugin's protocol (the spec's error object on stdout, exit 1)
// rather than falling back to tsx: a runtime reads stdout, and a quiet fallback would hide a missing
// build behind a start several times slower.
import { existsSync } from "node:fs";

const main = new URL("../dist/cni-bundle/main.js", import.meta.url);
if (!existsSync(main)) {
  const msg = `dcnet-cni: no compiled build (${main.pathname} is missing); build it with: npm run build`;
  process.stdout.write(`${JSON.stringify({ cniVersion: "1.0.0", code: 50, msg })}\n`);
  console.error(msg);
  process.exit(1);
}
await import(main.href);
