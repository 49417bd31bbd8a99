/** Any config problem; the CLI turns it into exit code 2 with this message. */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
  readonly code = "DCNET_E_CONFIG";
}
