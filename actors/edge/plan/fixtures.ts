// Test vocabulary for the edge's pure modules (tasks, options), shared by their tests and the bench.
import type { DesiredOptions } from "./desired.js";
import type { RenderOptions } from "./render.js";
import type { EdgeTask } from "./types.js";

export const DESIRED_OPTS: DesiredOptions = {
  groups: ["external"],
  strict: false,
  httpPort: 80,
  httpsPort: 443,
  bindAddr: "*",
  reservedPorts: [9090],
  certExists: (p) => p.startsWith("/certs/"),
  check: { interMs: 2000, fall: 2, rise: 1 },
};

export const RENDER_OPTS: RenderOptions = {
  adminSocket: "/run/edge/admin.sock",
  hardStopAfterMs: 30_000,
  maxReloads: 50,
  health: { addr: "*", port: 9090 },
  healthUri: "/_haproxy_health_check",
  timeouts: { connectMs: 5000, clientMs: 60_000, serverMs: 60_000, tunnelMs: 3_600_000 },
  cookieKey: "k",
};

let n = 0;
/** A running task of app `name` on 10.0.0.<agent> with one host port (or container port when `container`). */
export function task(name: string, labels: Record<string, string>, over: Partial<EdgeTask> & { hostPort?: number; containerIp?: string; port?: number } = {}): EdgeTask {
  n++;
  const { hostPort, containerIp, port, ...rest } = over;
  return {
    id: `${name}.${n}`,
    name,
    framework: "marathon",
    agentIp: "10.0.0.1",
    taskIps: containerIp ? [containerIp] : ["10.0.0.1"],
    state: "running",
    labels,
    ports: [{ name: "http", protocol: "tcp", ...(port !== undefined ? { port } : {}), ...(hostPort !== undefined ? { hostPort } : {}) }],
    ...rest,
  };
}
