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
    marathon: z
      .strictObject({
        servers: z
          .array(httpUrl)
          .default([])
          .describe("Marathon servers (e.g. http://master.mesos:8080): the catalogue's Marathon source reads /v2/apps?embed=apps.tasks and follows /v2/events, writing tasks with every app label and each port's service port (what the edge uses). Empty: no Marathon source (the default). A standby redirects to the leader; on failure the next server is tried."),
        token: z.string().min(1).optional().describe("Sent as `Authorization: token=<token>` to Marathon (DC/OS strict mode)."),
        resyncMs: z.number().int().min(1000).default(60_000).describe("The whole app list is fetched again this often (ms), events or not (Marathon-LB refetched after 300 s of silence)."),
        timeoutMs: z.number().int().positive().default(10_000).describe("Timeout of one Marathon call, and of the event stream's headers (ms)."),
        maxBackoffMs: z.number().int().positive().default(30_000).describe("After failures the reconnect delay doubles from 1 s, with jitter, up to this (ms); the last good tasks stay published meanwhile."),
        debounceMs: z.number().int().min(0).max(10_000).default(50).describe("Events that ask for a refetch (a deployment, an app change) within this window (ms) make one /v2/apps call."),
      })
      .prefault({})
      .describe("The Marathon source (off unless servers are given)."),
  })
  .prefault({});

declare module "../../config/index.js" {
  interface ConfigSections {
    mesos: z.output<typeof mesosConfigSection>;
  }
}
