// Builds a node's config from file < environment < flags, then validates it once at the border.
import { readFile } from "node:fs/promises";
import { parse as parseYaml } from "yaml";
import { configSchema, type Config } from "./schema.js";
import { ConfigError } from "./errors.js";

export type RawConfig = Record<string, unknown>;

/** Environment variables a node reads, each mapped onto a config key path. */
export const ENV_KEYS: Readonly<Record<string, { path: string[]; parse: (v: string) => unknown }>> = {
  DCNET_ID: { path: ["id"], parse: (v) => v },
  DCNET_CLUSTER: { path: ["cluster"], parse: (v) => v },
  DCNET_NATS: { path: ["nats", "servers"], parse: splitList },
  DCNET_LOG_LEVEL: { path: ["log", "level"], parse: (v) => v },
  DCNET_ADMIN_ALLOW_CRASH: { path: ["admin", "allowCrash"], parse: parseBool },
  DCNET_TRACING: { path: ["tracing", "enabled"], parse: parseBool },
  DCNET_MESOS_AGENT: { path: ["mesos", "agent"], parse: (v) => v },
  DCNET_MESOS_TOKEN: { path: ["mesos", "token"], parse: (v) => v },
  DCNET_DNS_LISTEN: { path: ["dns", "listen"], parse: splitList },
  DCNET_DNS_UPSTREAMS: { path: ["dns", "upstreams"], parse: splitList },
  DCNET_METRICS_LISTEN: { path: ["metrics", "listen"], parse: (v) => v },
};

export function splitList(v: string): string[] {
  return v
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

function parseBool(v: string): unknown {
  if (/^(1|true|yes|on)$/i.test(v)) return true;
  if (/^(0|false|no|off)$/i.test(v)) return false;
  return v; // left as a string so validation names the key and the bad value
}

export async function readConfigFile(file: string): Promise<RawConfig> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    throw new ConfigError(`cannot read config file ${file}: ${(err as Error).message}`, { cause: err });
  }
  let parsed: unknown;
  try {
    parsed = /\.json$/i.test(file) ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw new ConfigError(`config file ${file} is not valid ${/\.json$/i.test(file) ? "JSON" : "YAML"}: ${(err as Error).message}`, { cause: err });
  }
  if (parsed === null || parsed === undefined) return {};
  if (typeof parsed !== "object" || Array.isArray(parsed)) {
    throw new ConfigError(`config file ${file}: the top level must be a mapping of keys`);
  }
  return parsed as RawConfig;
}

export function envConfig(env: NodeJS.ProcessEnv): RawConfig {
  const out: RawConfig = {};
  for (const [name, { path, parse }] of Object.entries(ENV_KEYS)) {
    const value = env[name];
    if (value !== undefined && value !== "") setPath(out, path, parse(value));
  }
  return out;
}

/** Deep merge of plain objects; later layers win, arrays are replaced whole. */
export function mergeLayers(...layers: RawConfig[]): RawConfig {
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

export function setPath(obj: RawConfig, path: readonly string[], value: unknown): void {
  let cur = obj;
  for (const key of path.slice(0, -1)) {
    const next = cur[key];
    if (!isPlainObject(next)) cur[key] = {};
    cur = cur[key] as RawConfig;
  }
  const last = path[path.length - 1];
  if (last !== undefined) cur[last] = value;
}

/** Validates merged input; every problem names its key, e.g. `nats.servers.0: a nats:// URL`. */
export function validateConfig(raw: RawConfig): Config {
  const result = configSchema.safeParse(raw);
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

export async function loadConfig(opts: LoadOptions): Promise<Config> {
  const fromFile = opts.file ? await readConfigFile(opts.file) : {};
  return validateConfig(mergeLayers(fromFile, envConfig(opts.env ?? {}), opts.flags ?? {}));
}
