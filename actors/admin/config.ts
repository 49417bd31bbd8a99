// The `admin` section of a node's config: owned here, composed by actors/node/config.ts. A light
// module (zod only), never the admin runtime. Each key's `.describe()` is its line in docs/config.md.
import { z } from "zod";

export const adminConfigSection = z
  .strictObject({
    allowCrash: z.boolean().default(false).meta({ env: "DCNET_ADMIN_ALLOW_CRASH" }).describe("Allow fault injection with `dcnet ctl crash` (env DCNET_ADMIN_ALLOW_CRASH)."),
  })
  .prefault({});

declare module "../../config/index.js" {
  interface ConfigSections {
    admin: z.output<typeof adminConfigSection>;
  }
}
