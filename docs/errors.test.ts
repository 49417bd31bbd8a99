import { describe, it, expect } from "@jest/globals";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { productionSources } from "../testkit/sources.js";

const root = fileURLToPath(new URL("..", import.meta.url));
const SOURCE_DIRS = ["actors", "supervisors", "transport", "config", "observability", "cli"];


describe("docs/errors.md", () => {
  it("lists exactly the error codes the source defines", () => {
    const inCode = new Set(SOURCE_DIRS.flatMap((d) => productionSources(join(root, d))).flatMap((f) => [...readFileSync(f, "utf8").matchAll(/"(DCNET_E_[A-Z_]+)"/g)].map((m) => m[1] as string)));
    const inDoc = new Set([...readFileSync(join(root, "docs/errors.md"), "utf8").matchAll(/^\| `(DCNET_E_[A-Z_]+)` \|/gm)].map((m) => m[1] as string));
    expect([...inCode].filter((c) => !inDoc.has(c)).sort()).toEqual([]);
    expect([...inDoc].filter((c) => !inCode.has(c)).sort()).toEqual([]);
    expect(inCode.size).toBeGreaterThan(15);
  });
});
