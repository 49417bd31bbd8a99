// Builds a node's config from file < environment < flags, then validates it once at the border.
// Everything here takes the schema as an argument: config/ never knows which sections a node has.
import { readFile } from "node:fs/promises";
import { z } from "zod";
import type { BaseConfig } from "./schema.js";
import { ConfigError } from "./errors.js";

export type RawConfig = Record<string, unknown>;

/** One `DCNET_*` variable: the key path it sets and how its text becomes a value. */
export interface EnvKey {
  readonly path: readonly string[];
  readonly parse: (v: string) => unknown;
}

/**
 * The environment variables a schema reads: every key declared with `.meta({ env: "DCNET_X" })`,
 * wherever its section lives. Lists are comma separated, booleans 1/0, true/false, yes/no, on/off.
 * Walks the schema itself (not z.toJSONSchema, which costs ~10 ms at every node start).
 */
export function envKeys(schema: z.ZodType): Record<string, EnvKey> {
  const out: Record<string, EnvKey> = {};
  const walk = (node: z.ZodType, path: string[]): void => {
    let env: unknown;
    let core = node;
    for (;;) {
      env ??= (core.meta() as { env?: unknown } | undefined)?.env;
      if (core instanceof z.ZodDefault || core instanceof z.ZodPrefault || core instanceof z.ZodOptional || core instanceof z.ZodNullable) core = core.unwrap() as z.ZodType;
      else break;
    }
    if (typeof env === "string") out[env] = { path, parse: envParser(core) };
    if (core instanceof z.ZodObject) for (const [key, child] of Object.entries(core.shape as Record<string, z.ZodType>)) walk(child, [...path, key]);
  };
  walk(schema, []);
  return out;
}

function envParser(core: z.ZodType): (v: string) => unknown {
  if (core instanceof z.ZodArray) return splitList;
  if (core instanceof z.ZodBoolean) return parseBool;
  if (core instanceof z.ZodNumber) return parseNumber;
  return (v) => v;
}

export function splitList(v: string): string[] {
  return v
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

// Both leave text they cannot read as a string, so validation names the key and the bad value.
function parseBool(v: string): unknown {
  if (/^(1|true|yes|on)$/i.test(v)) return true;
  if (/^(0|false|no|off)$/i.test(v)) return false;
  return v;
}

function parseNumber(v: string): unknown {
  return /^-?\d+(\.\d+)?$/.test(v.trim()) ? Number(v) : v;
}

async function readConfigFile(file: string): Promise<RawConfig> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    throw new ConfigError(`cannot read config file ${file}: ${(err as Error).message}`, { cause: err });
  }
  let parsed: unknown;
  try {
    // yaml is loaded only here: `dcnet ctl` imports config/ too and never reads a file.
    parsed = /\.json$/i.test(file) ? JSON.parse(text) : (await import("yaml")).parse(text);
  } catch (err) {
    throw new ConfigError(`config file ${file} is not valid ${/\.json$/i.test(file) ? "JSON" : "YAML"}: ${(err as Error).message}`, { cause: err });
  }
  if (parsed === null || parsed === undefined) return {};
  if (typeof parsed !== "object" || Array.isArray(parsed)) {
    throw new ConfigError(`config file ${file}: the top level must be a mapping of keys`);
  }
  return parsed as RawConfig;
}

export function envConfig(schema: z.ZodType, env: NodeJS.ProcessEnv): RawConfig {
  const out: RawConfig = {};
  for (const [name, { path, parse }] of Object.entries(envKeys(schema))) {
    const value = env[name];
    if (value !== undefined && value !== "") setPath(out, path, parse(value));
  }
  return out;
}

/** Deep merge of plain objects; later layers win, arrays are replaced whole. */
function mergeLayers(...layers: RawConfig[]): RawConfig {
  const out: RawConfig = {};
  for (const layer of layers) mergeInto(out, layer);
  return out;
}

function mergeInto(target: RawConfig, src: RawConfig): void {
  for (const [k, v] of Object.entries(src)) {
    const cur = target[k];
    if (isPlainObject(v) && isPlainObject(cur)) mergeInto(cur, v);
    else if (isPlainObject(v)) target[k] = mergeLayers(v);
    else target[k] = v;
  }
}

function isPlainObject(v: unknown): v is RawConfig {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function setPath(obj: RawConfig, path: readonly string[], value: unknown): void {
  let cur = obj;
  for (const key of path.slice(0, -1)) {
    const next = cur[key];
    if (!isPlainObject(next)) cur[key] = {};
    cur = cur[key] as RawConfig;
  }
  const last = path[path.length - 1];
  if (last !== undefined) cur[last] = value;
}

/**
 * Validates merged input against `schema` (a composed one: composeConfigSchema); every problem names
 * its key, e.g. `nats.servers.0: a nats:// URL`.
 */
export function validateConfigWith<S extends z.ZodType<BaseConfig>>(schema: S, raw: RawConfig): z.output<S> {
  const result = schema.safeParse(raw);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const at = issue.path.map(String).join(".");
    if (issue.code === "unrecognized_keys") {
      return issue.keys.map((k) => `unknown key "${at ? `${at}.${k}` : k}"`).join("; ");
    }
    return `${at || "(top level)"}: ${issue.message}`;
  });
  throw new ConfigError(`invalid config: ${problems.join("; ")}`);
}

export interface LoadOptions {
  readonly file?: string;
  readonly env?: NodeJS.ProcessEnv;
  /** Values from command-line flags, already shaped as config keys. */
  readonly flags?: RawConfig;
}

export async function loadConfigWith<S extends z.ZodType<BaseConfig>>(schema: S, opts: LoadOptions): Promise<z.output<S>> {
  const fromFile = opts.file ? await readConfigFile(opts.file) : {};
  return validateConfigWith(schema, mergeLayers(fromFile, envConfig(schema, opts.env ?? {}), opts.flags ?? {}));
}
