// The `api` section of a node's config: owned here, composed by actors/node/config.ts. A light
// module (zod and config/ only), never the API runtime. Each key's `.describe()` is its line in docs/config.md.
import { z } from "zod";
import { listenAddress } from "../../config/index.js";

/** 127.0.0.0/8 or ::1: where plain HTTP without credentials is allowed (dcos-net's default bind). */
export function isLoopbackListen(listen: string): boolean {
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}:\d+$/.test(listen) || /^\[::1\]:\d+$/.test(listen);
}

export const apiConfigSection = z
  .strictObject({
    listen: z
      .union([listenAddress, z.literal("")])
      .default("127.0.0.1:62080")
      .meta({ env: "DCNET_API_LISTEN" })
      .describe(
        "HTTP API `ip:port` (dcos-net's and Mesos-DNS's read-only `/v1/...` routes; dcos-net's default 127.0.0.1:62080); empty: off. Beyond loopback it needs `api.tls` and clients present a viewer, operator or admin certificate of the cluster (env DCNET_API_LISTEN).",
      ),
    tls: z
      .strictObject({
        cert: z.string().min(1).describe("PEM certificate the API serves (e.g. `dcnet creds server <name> --ip <ip>`: it must name the address clients dial)."),
        key: z.string().min(1).describe("Its private key (PEM, mode 0600)."),
        ca: z.string().min(1).optional().describe("CA certificate(s) clients' certificates must chain to; default: the CA in this node's NATS credential (`nats.credentials`)."),
      })
      .optional()
      .describe("TLS for the HTTP API, with client certificates required (mutual TLS). Required when `api.listen` is not a loopback address."),
    maxNameLength: z.number().int().min(1).max(1024).default(253).describe("Longest host or service name a request may carry (longer: 400)."),
  })
  .prefault({})
  .superRefine((v, ctx) => {
    if (v.listen !== "" && !isLoopbackListen(v.listen) && v.tls === undefined) {
      ctx.addIssue({ code: "custom", path: ["tls"], message: `api.listen ${v.listen} is not a loopback address: set api.tls (cert, key) so clients authenticate with the cluster's certificates, or bind 127.0.0.1` });
    }
  });

declare module "../../config/index.js" {
  interface ConfigSections {
    api: z.output<typeof apiConfigSection>;
  }
}
