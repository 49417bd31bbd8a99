// nats-server configuration for the containerised test cluster (pure). Routes use the network
// aliases, so a restarted server is found again under the same name.

export interface NatsServerPlan {
  /** Index of this server; its alias is `nats-<index>`. */
  index: number;
  /** How many servers the cluster has; 1 means no cluster block. */
  size: number;
}

export const NATS_CLIENT_PORT = 4222;
export const NATS_ROUTE_PORT = 6222;
export const NATS_MONITOR_PORT = 8222;

export function natsAlias(i: number): string {
  return `nats-${i}`;
}

export function renderNatsConf({ index, size }: NatsServerPlan): string {
  const routes = Array.from({ length: size }, (_, j) => j)
    .filter((j) => j !== index)
    .map((j) => `"nats://${natsAlias(j)}:${NATS_ROUTE_PORT}"`);
  const lines = [
    `server_name: "${natsAlias(index)}"`,
    `listen: "0.0.0.0:${NATS_CLIENT_PORT}"`,
    `http: "0.0.0.0:${NATS_MONITOR_PORT}"`,
    // Fast failure detection: a dead peer or client is noticed after about 3 s, not 4 min.
    `ping_interval: "1s"`,
    "ping_max: 3",
    // /tmp is a tmpfs: the store lives in memory and is gone after a restart.
    `jetstream { store_dir: "/tmp/jetstream", max_memory_store: 256MB, max_file_store: 256MB }`,
  ];
  if (size > 1) {
    lines.push(`cluster { name: "dcnet-test", listen: "0.0.0.0:${NATS_ROUTE_PORT}", routes: [ ${routes.join(", ")} ] }`);
  }
  return `${lines.join("\n")}\n`;
}
