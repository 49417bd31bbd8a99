// The `mesos` section of a node's config: where the catalogue's Mesos sources (operator-stream
// listener, agent poller) find Mesos. Owned here, composed by actors/node/config.ts. A light module
// (zod only), never the catalogue runtime. Each key's `.describe()` is its line in docs/config.md.
import { z } from "zod";

const httpUrl = z.string().regex(/^https?:\/\/[^\s,]+$/, "an http:// or https:// URL");

export const mesosConfigSection = z
  .strictObject({
    masters: z
      .array(httpUrl)
      .default([])
      .describe("Mesos masters whose Operator API stream this node follows (on master nodes: the local master; flag --mesos, comma separated). Empty: no listener."),
    agentsReadinessMs: z.number().int().positive().default(600_000).describe("After a (re)subscription, wait at most this long (ms) for recovered agents to re-register before publishing."),
    tasksReadinessMs: z.number().int().nonnegative().default(10_000).describe("Then wait this long (ms) for their tasks before publishing the table."),
    agent: httpUrl
      .optional()
      .meta({ env: "DCNET_MESOS_AGENT" })
      .describe("This node's Mesos agent (e.g. http://127.0.0.1:5051): polled for the tasks it runs (flag --mesos-agent, env DCNET_MESOS_AGENT). Unset: no agent poller."),
    token: z.string().min(1).optional().meta({ env: "DCNET_MESOS_TOKEN" }).describe("Sent as `Authorization: token=<token>` to Mesos (env DCNET_MESOS_TOKEN)."),
    pollMs: z.number().int().positive().default(2000).describe("Agent poll interval, ms."),
    maxBackoffMs: z.number().int().positive().default(60_000).describe("After failures the poll interval doubles, with jitter, up to this (ms)."),
    timeoutMs: z.number().int().positive().default(10_000).describe("Timeout of one Mesos call, ms."),
  })
  .prefault({});

declare module "../../config/index.js" {
  interface ConfigSections {
    mesos: z.output<typeof mesosConfigSection>;
  }
}
