import { describe, it, expect } from "@jest/globals";
import { readFileSync } from "node:fs";
import { renderConfigDoc } from "./doc.js";

describe("config - docs/config.md", () => {
  it("equals the reference rendered from the schema (regenerate: npx tsx config/doc.ts > docs/config.md)", () => {
    const doc = readFileSync(new URL("../docs/config.md", import.meta.url), "utf8");
    expect(doc).toBe(renderConfigDoc());
    expect(doc).toContain("| `nats.servers` | string[] |");
  });
});
