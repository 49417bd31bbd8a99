#!/usr/bin/env node
// The `dcnet` executable: runs the compiled build, dist/cli/main.js (`npm run build`; `npm ci` makes it
// through the `prepare` script, and `npm start` / `npm test` rebuild it when a source is newer).
//
// Without a build this stops with exit 2 and says how to make one, rather than falling back to tsx:
// tsx is a development tool, a fallback would hide a missing or failed build behind a start five
// times slower, and an installed node would quietly depend on it. To run the sources directly while
// developing: `node --import tsx cli/main.ts …`.
import { existsSync, readFileSync } from "node:fs";
import { SourceMap } from "node:module";
import { fileURLToPath } from "node:url";

const dist = new URL("../dist/", import.meta.url);
// The node runtime runs tsc's output file for file (worker threads start from files next to their
// modules, the native addon loads from node_modules); every other command runs the CLI's bundle, which
// loads a few files instead of hundreds (scripts/bundle-cli.mjs).
const runtime = ["node", "up"].includes(process.argv[2] ?? "");
const main = new URL(runtime ? "cli/main.js" : "cli-bundle/main.js", dist);
if (!existsSync(main)) {
  const root = fileURLToPath(new URL("..", import.meta.url)).replace(/\/$/, "");
  console.error(`dcnet: no compiled build (${fileURLToPath(main)} is missing). Build it with: npm run build (in ${root})`);
  process.exit(2);
}

// Stack traces name the .ts file and line. Not with Node's own source-map support
// (process.setSourceMapsEnabled): on Node 20 it reads and parses the map of every module as it loads,
// node_modules' included (about 190 maps for `dcnet ctl ping`: +45 ms, +5 MB; bench/cli-start.ts). Here a
// frame in dist/ is mapped when a stack is printed, reading that file's map the first time.
// `--enable-source-maps` (e.g. in NODE_OPTIONS) still works and then takes over.
// Only for the node runtime: a CLI command reports errors in one line, and some library formats a stack
// during a plain `ctl ping`, which made this hook read four big bundle maps (+90 ms). The bundle's maps
// are there for NODE_OPTIONS=--enable-source-maps.
if (runtime && !process.sourceMapsEnabled) {
  const maps = new Map();
  const mapOf = (file) => {
    if (!maps.has(file)) {
      let map = null;
      try {
        map = new SourceMap(JSON.parse(readFileSync(new URL(`${file}.map`), "utf8")));
      } catch {
        // no map (a copied .mjs) or unreadable: the frame stays as it is
      }
      maps.set(file, map);
    }
    return maps.get(file);
  };
  const frame = (site) => {
    const text = String(site); // V8's own rendering of the frame
    const file = site.getFileName(); // a file:// URL for ES modules
    const line = site.getLineNumber();
    const column = site.getColumnNumber();
    if (!file?.startsWith(dist.href) || !line || !column) return text;
    const entry = mapOf(file)?.findEntry(line - 1, column - 1);
    if (!entry?.originalSource) return text;
    const from = `${file}:${line}:${column}`;
    const to = `${fileURLToPath(new URL(entry.originalSource, file))}:${entry.originalLine + 1}:${entry.originalColumn + 1}`;
    const at = text.lastIndexOf(from);
    return at < 0 ? text : text.slice(0, at) + to + text.slice(at + from.length);
  };
  Error.prepareStackTrace = (error, sites) => {
    let head;
    try {
      head = Error.prototype.toString.call(error);
    } catch {
      head = "Error";
    }
    return head + sites.map((site) => `\n    at ${frame(site)}`).join("");
  };
}

await import(main.href);
