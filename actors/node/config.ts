// A node's config: the one list of sections a node has, composed with config/'s base keys, and the
// loader bound to it. Also the node's own section, `metrics`. Light on purpose (zod, config/ and the
// sections' config.ts modules, never a runtime), so a config error exits 2 before any actor loads.
// `npx tsx actors/node/config.ts > docs/config.md` regenerates the key reference (config.test.ts
// checks it); `npx tsx actors/node/config.ts dns` prints one section's table for its README.
import { z } from "zod";
import { composeConfigSchema, listenAddress, loadConfigWith, renderConfigDoc, renderConfigTable, validateConfigWith, type Config, type LoadOptions, type RawConfig } from "../../config/index.js";
import { adminConfigSection } from "../admin/config.js";
import { gossipConfigSection } from "../gossip/config.js";
import { mesosConfigSection } from "../catalogue/config.js";
import { dnsConfigSection } from "../dns/config.js";
import { l4lbConfigSection } from "../l4lb/config.js";
import { overlayConfigSection } from "../overlay/config.js";
import { edgeConfigSection } from "../edge/config.js";
import { apiConfigSection } from "../api/config.js";

const metricsConfigSection = z
  .strictObject({
    listen: z
      .union([listenAddress, z.literal("")])
      .default("127.0.0.1:9163")
      .meta({ env: "DCNET_METRICS_LISTEN" })
      .describe("Prometheus text-format endpoint `ip:port` serving GET /metrics (every metric of the node); empty: off (env DCNET_METRICS_LISTEN)."),
  })
  .prefault({});

declare module "../../config/index.js" {
  interface ConfigSections {
    metrics: z.output<typeof metricsConfigSection>;
  }
}

// The order of docs/config.md after the base keys. A new subsystem with config adds its line here.
export const configSchema = composeConfigSchema({
  admin: adminConfigSection,
  gossip: gossipConfigSection,
  mesos: mesosConfigSection,
  dns: dnsConfigSection,
  l4lb: l4lbConfigSection,
  overlay: overlayConfigSection,
  edge: edgeConfigSection,
  metrics: metricsConfigSection,
  api: apiConfigSection,
});

// `Config` (config/index.js) is the base plus every section declared into ConfigSections; these two
// lines fail to compile when a section is declared but not composed above, or composed but not declared.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const _sectionsMatch: Same<z.output<typeof configSchema>, Config> = true;

/** A node's config from merged raw input; a ConfigError names every bad key. */
export function validateConfig(raw: RawConfig): Config {
  return validateConfigWith(configSchema, raw);
}

/** A node's config from file < `DCNET_*` environment < flags. */
export function loadConfig(opts: LoadOptions): Promise<Config> {
  return loadConfigWith(configSchema, opts);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const section = process.argv[2];
  if (section === undefined) process.stdout.write(renderConfigDoc(configSchema));
  else if (Object.hasOwn(configSchema.shape, section)) process.stdout.write(renderConfigTable(configSchema.shape[section as keyof typeof configSchema.shape], section) + "\n");
  else {
    console.error(`no config section ${section}`);
    process.exitCode = 2;
  }
}
