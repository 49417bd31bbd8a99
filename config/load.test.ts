// The loader and the composer with a stand-in section; the node's real composition and its keys are
// tested in actors/node/config.test.ts.
import { describe, it, expect } from "@jest/globals";
import { mkdtempSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { z } from "zod";
import { composeConfigSchema, envConfig, envKeys, loadConfigWith, validateConfigWith, ConfigError } from "./index.js";

const widget = z
  .strictObject({
    names: z.array(z.string()).default([]).meta({ env: "DCNET_WIDGET_NAMES" }).describe("Names."),
    on: z.boolean().default(false).meta({ env: "DCNET_WIDGET_ON" }).describe("On."),
    size: z.number().int().default(3).meta({ env: "DCNET_WIDGET_SIZE" }).describe("Size."),
    inner: z.strictObject({ depth: z.number().int().default(1).describe("Depth.") }).prefault({}),
  })
  .prefault({});
const schema = composeConfigSchema({ widget });

describe("config - composition", () => {
  it("joins the base keys and the sections it is handed, each with its defaults", () => {
    const c = validateConfigWith(schema, { id: "a" });
    expect(c.widget).toEqual({ names: [], on: false, size: 3, inner: { depth: 1 } });
    expect(c.nats.servers).toEqual(["nats://127.0.0.1:4222"]);
    expect(Object.keys(schema.shape)).toEqual(["id", "cluster", "nats", "log", "tracing", "supervision", "widget"]);
  });

  it("knows only the sections it is handed: another section's key is unknown", () => {
    expect(() => validateConfigWith(composeConfigSchema({}), { id: "a", widget: {} })).toThrow('unknown key "widget"');
    expect(() => validateConfigWith(schema, { id: "a", widget: { inner: { deep: 1 } } })).toThrow('unknown key "widget.inner.deep"');
    expect(() => validateConfigWith(schema, { id: "a", widget: { size: "big" } })).toThrow(ConfigError);
    expect(() => validateConfigWith(schema, { id: "a", widget: { size: "big" } })).toThrow("widget.size: Invalid input: expected number");
  });

  it("refuses a section named like a base key", () => {
    expect(() => composeConfigSchema({ nats: widget })).toThrow('config section "nats" is a base key');
  });
});

describe("config - environment", () => {
  it("reads every key declared with .meta({ env }), in any section, parsed by the key's type", () => {
    expect(Object.keys(envKeys(schema)).sort()).toEqual(["DCNET_CLUSTER", "DCNET_ID", "DCNET_LOG_LEVEL", "DCNET_NATS", "DCNET_NATS_CREDENTIALS", "DCNET_NATS_INSECURE", "DCNET_TRACING", "DCNET_TRACING_BACKGROUND_RATIO", "DCNET_WIDGET_NAMES", "DCNET_WIDGET_ON", "DCNET_WIDGET_SIZE"]);
    expect(envConfig(schema, { DCNET_WIDGET_NAMES: " a, b ,,c", DCNET_WIDGET_ON: "yes", DCNET_WIDGET_SIZE: "7", DCNET_TRACING: "0", DCNET_ID: "", PATH: "/bin" })).toEqual({
      widget: { names: ["a", "b", "c"], on: true, size: 7 },
      tracing: { enabled: false },
    });
  });

  it("leaves text it cannot read to validation, which names the key", async () => {
    await expect(loadConfigWith(schema, { flags: { id: "a" }, env: { DCNET_WIDGET_ON: "maybe" } })).rejects.toThrow("widget.on: Invalid input: expected boolean");
    await expect(loadConfigWith(schema, { flags: { id: "a" }, env: { DCNET_WIDGET_SIZE: "7 widgets" } })).rejects.toThrow("widget.size: Invalid input: expected number");
  });
});

describe("config - layers with a composed schema", () => {
  it("file < env < flags, section keys included", async () => {
    const dir = mkdtempSync(join(tmpdir(), "dcnet-cfg-"));
    try {
      const file = join(dir, "c.yaml");
      writeFileSync(file, "id: f\nwidget:\n  names: [x]\n  size: 1\n  inner: { depth: 5 }\n");
      const c = await loadConfigWith(schema, { file, env: { DCNET_WIDGET_SIZE: "2" }, flags: { widget: { on: true } } });
      expect(c.widget).toEqual({ names: ["x"], on: true, size: 2, inner: { depth: 5 } });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
