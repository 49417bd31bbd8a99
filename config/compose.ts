// Joins the base keys and the sections a caller hands over into one strict schema. Composition is
// explicit: no section registers itself anywhere, so a test can compose any subset, and the node's
// one list (actors/node/config.ts) is the only place that says which sections a node has.
import { z } from "zod";
import { baseConfigShape } from "./schema.js";

/** Section name → its schema (usually a `z.strictObject({...}).prefault({})`). */
export type ConfigSectionSchemas = Readonly<Record<string, z.ZodType>>;

/** The composed schema: strict at every level, so an unknown key anywhere is an error. */
export type ComposedConfigSchema<S extends ConfigSectionSchemas> = z.ZodObject<typeof baseConfigShape & S, z.core.$strict>;

export function composeConfigSchema<S extends ConfigSectionSchemas>(sections: S): ComposedConfigSchema<S> {
  for (const name of Object.keys(sections)) {
    // A programming error, not a user's: two owners for one key would silently drop one of them.
    if (Object.hasOwn(baseConfigShape, name)) throw new Error(`config section "${name}" is a base key of config/schema.ts`);
  }
  return z.strictObject({ ...baseConfigShape, ...sections });
}
