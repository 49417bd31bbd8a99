import { describe, it, expect } from "@jest/globals";
import { z } from "zod";
import { composeConfigSchema, renderConfigDoc, renderConfigTable } from "./index.js";

// docs/config.md itself (the node's composed schema) is checked in actors/node/config.test.ts.
const widget = z
  .strictObject({
    mode: z.enum(["a", "b"]).default("a").describe("Mode."),
    names: z.array(z.string()).default([]).describe("Names."),
    host: z.string().optional().describe("Host; unset: none."),
  })
  .prefault({});

describe("config - docs renderer", () => {
  it("renders one row per leaf key of a composed schema, base keys first", () => {
    const doc = renderConfigDoc(composeConfigSchema({ widget }));
    expect(doc).toContain("| `nats.servers` | string[] |");
    expect(doc).toContain("| `id` | string | required | Node id");
    expect(doc).toContain("| `widget.mode` | a \\| b | `\"a\"` | Mode. |");
    expect(doc).toContain("| `widget.host` | string |  | Host; unset: none. |");
    expect(doc.indexOf("`supervision.intensity`")).toBeLessThan(doc.indexOf("`widget.mode`"));
  });

  it("renders a section's table alone, keys named as in the whole config (for its README)", () => {
    expect(renderConfigTable(widget, "widget")).toBe(
      ["| key | type | default | meaning |", "| --- | --- | --- | --- |", '| `widget.mode` | a \\| b | `"a"` | Mode. |', "| `widget.names` | string[] | `[]` | Names. |", "| `widget.host` | string |  | Host; unset: none. |"].join("\n"),
    );
  });
});
