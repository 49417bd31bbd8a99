// Public surface of the forwarder; the actor (../forwarder.actor.ts) and config validation import from here.
export {
  Forwarder,
  FORWARDER_DEFAULTS,
  type ForwardEvent,
  type ForwarderOptions,
  type ForwarderStats,
  type ForwardRequest,
  type ForwardResult,
  type UpstreamStats,
} from "./forwarder.js";
export { ForwardCache, CACHE_DEFAULTS, cacheKey, cacheTtl, type ForwardCacheOptions } from "./cache.js";
export { HealthChecker, type HealthOptions } from "./health.js";
export { takeUpstreams, bucketByFailures, type Candidate, type Random } from "./select.js";
export { ForwardTransport, ExchangeError, exchangeTcp, type ExchangeFailureReason, type TransportStats } from "./transport.js";
export { parseUpstream, parseUpstreams, upstreamError, isUpstream, UpstreamParseError, DEFAULT_DNS_PORT, type Upstream } from "./upstream.js";
