// config/: the base keys, the composer and the loader. The sections live with their subsystems
// (actors/<s>/config.ts) and the node's composed schema in actors/node/config.ts.
export { LOG_LEVELS } from "./schema.js";
export type { Config, ConfigSections, LogLevel } from "./schema.js";
export { composeConfigSchema } from "./compose.js";
export { loadConfigWith, validateConfigWith, envConfig, envKeys, splitList } from "./load.js";
export type { RawConfig, LoadOptions, EnvKey } from "./load.js";
export { renderConfigDoc, renderConfigTable } from "./doc.js";
export { ConfigError } from "./errors.js";
export { listenAddress, splitListen, formatAddress } from "./listen.js";
