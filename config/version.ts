import { readFileSync } from "node:fs";

// package.json is the one place the version is written. Found by walking up from this file, because
// the same module runs from the sources (config/) and from the compiled build (dist/config/).
function findVersion(): string {
  let dir = new URL("./", import.meta.url);
  for (let i = 0; i < 4; i++) {
    dir = new URL("../", dir);
    try {
      const pkg = JSON.parse(readFileSync(new URL("package.json", dir), "utf8")) as { name?: string; version?: string };
      if (pkg.name === "dcnet" && pkg.version) return pkg.version;
    } catch {
      // not here: keep walking up
    }
  }
  return "0.0.0-unknown";
}

/** Read once at start-up. */
export const VERSION: string = findVersion();
