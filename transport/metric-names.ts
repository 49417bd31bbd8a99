// The transport's metric names, apart from the metrics themselves: modules that only need a name do
// not load prom-client (a CLI process never registers metrics; see connection.ts).
export const METRIC_NAMES = {
  rejected: "dcnet_transport_rejected_messages_total",
  reconnects: "dcnet_transport_reconnects_total",
  connected: "dcnet_transport_connected",
} as const;
