// The JetStream KV bucket of named-VIP addresses. One name for the whole cluster: a node's NATS
// credential must be granted it (transport/auth/permissions.ts, kvBuckets) or the node cannot allocate.
export const NAMED_VIP_BUCKET = "dcnet-l4lb-vips";
