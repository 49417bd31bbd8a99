export { configSchema, LOG_LEVELS } from "./schema.js";
export type { Config, ConfigInput, LogLevel } from "./schema.js";
export { loadConfig, validateConfig, envConfig, mergeLayers, setPath, splitList, ENV_KEYS } from "./load.js";
export type { RawConfig, LoadOptions } from "./load.js";
export { ConfigError } from "./errors.js";
export { splitListen, formatAddress } from "./listen.js";
