// The `edge` section of a node's config: owned here, composed by actors/node/config.ts. A light
// module (zod only). Each key's `.describe()` is its line in docs/config.md.
import { z } from "zod";

export const edgeConfigSection = z
  .strictObject({
    enabled: z
      .boolean()
      .default(false)
      .meta({ env: "DCNET_EDGE_ENABLED" })
      .describe("Run the L7 north-south edge on this node (HAProxy driven by Marathon-LB labels and pools; typically public agents; env DCNET_EDGE_ENABLED). Needs the haproxy binary (Debian haproxy, 2.6)."),
    groups: z.array(z.string().min(1)).min(1).default(["external"]).describe("Marathon-LB groups this edge serves (HAPROXY_GROUP / HAPROXY_{n}_GROUP); `*` serves every app with HAPROXY_{n}_ port labels."),
    strictMode: z.boolean().default(false).describe("Marathon-LB --strict-mode: expose only ports labelled HAPROXY_{n}_ENABLED=true."),
    bindAddress: z.string().min(1).default("*").describe("Address the frontends bind (`*` = every address) unless a label or pool names one."),
    httpPort: z.number().int().min(1).max(65535).default(80).describe("Port of the shared HTTP frontend that routes HAPROXY_{n}_VHOST / _PATH (Marathon-LB's :80)."),
    httpsPort: z.number().int().min(1).max(65535).default(443).describe("Port of the shared HTTPS frontend (SNI, certificates from HAPROXY_{n}_SSL_CERT), present when a vhost has a certificate."),
    healthListen: z
      .string()
      .regex(/^(\*|[0-9a-fA-F.:]+):\d{1,5}$/, "ip:port or *:port")
      .default("*:9090")
      .describe("HAProxy's own listener for outer load balancers: the health URI, `/haproxy?stats` and HAProxy's Prometheus exporter at `/metrics` (Marathon-LB's :9090)."),
    healthUri: z.string().regex(/^\/\S*$/).default("/_haproxy_health_check").describe("Health URI answering 200 while HAProxy runs (HAProxy monitor-uri)."),
    haproxy: z.string().min(1).default("haproxy").describe("The haproxy binary (HAProxy 2.6: Debian 12's)."),
    commandPrefix: z.array(z.string().min(1)).default([]).describe("argv prefix for haproxy (e.g. `[ip, netns, exec, edge]` to serve from another network namespace)."),
    runDir: z.string().min(1).default("/run/dcnet/edge").describe("Where the rendered config and HAProxy's sockets live (master CLI `master.sock`, Runtime API `admin.sock`, mode 600)."),
    minSlots: z.number().int().min(1).max(4096).default(8).describe("Server slots each backend starts with; a backend outgrowing its slots doubles them (one reload). Membership changes within the slots never reload."),
    debounceMs: z.number().int().min(0).max(10_000).default(10).describe("Catalogue changes within this window (ms) are planned together."),
    minReloadIntervalMs: z.number().int().min(0).max(600_000).default(2000).describe("At most one reload per interval (ms); structural changes wait for it, membership changes never do (Edge-LB: 3 s)."),
    hardStopAfterMs: z.number().int().min(1000).max(86_400_000).default(30_000).describe("An old worker still holding connections after a reload is stopped this long (ms) after it (HAProxy hard-stop-after; Marathon-LB #519)."),
    maxReloads: z.number().int().min(1).max(10_000).default(50).describe("HAProxy mworker-max-reloads: a worker that survived this many reloads is killed."),
    check: z
      .strictObject({
        interMs: z.number().int().min(100).default(2000).describe("Health check interval (ms)."),
        fall: z.number().int().min(1).default(2).describe("Failed checks before a server is down."),
        rise: z.number().int().min(1).default(1).describe("Passed checks before a server is up again."),
      })
      .prefault({})
      .describe("HAProxy health checks of backends that ask for one (HAPROXY_{n}_HEALTHCHECK_PATH, pool customCheck)."),
    timeouts: z
      .strictObject({
        connectMs: z.number().int().min(1).default(5000).describe("timeout connect (ms)."),
        clientMs: z.number().int().min(1).default(60_000).describe("timeout client (ms)."),
        serverMs: z.number().int().min(1).default(60_000).describe("timeout server (ms)."),
        tunnelMs: z.number().int().min(1).default(3_600_000).describe("timeout tunnel (ms): WebSocket and TCP streams."),
      })
      .prefault({})
      .describe("HAProxy timeouts."),
    cookieKey: z.string().min(1).default("dcnet").describe("Seed of sticky-session cookies (HAProxy dynamic-cookie-key), equal on every edge node so any of them honours a cookie."),
  })
  .prefault({});

declare module "../../config/index.js" {
  interface ConfigSections {
    edge: z.output<typeof edgeConfigSection>;
  }
}
