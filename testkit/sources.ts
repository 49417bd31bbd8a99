// The production sources under a folder (every .ts but tests), for tests that check the code itself:
// error codes against docs/errors.md, metric names against the naming rule.
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";

export function productionSources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return productionSources(p);
    return p.endsWith(".ts") && !p.endsWith(".test.ts") ? [p] : [];
  });
}
