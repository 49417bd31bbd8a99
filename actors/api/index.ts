// Public door of the HTTP API (README.md): its subtree, the server actor's messages, and the app
// builder with its sources contract (for benchmarks and tests that serve stand-in data).
export { apiTreeSpec, API } from "./api.sup.js";
export type { ApiDeps } from "./api.sup.js";
export type { ApiHttpMsg } from "./http.actor.js";
export { buildApi, filterMetrics, mesosDnsConfig, METRIC_REGISTRIES } from "./routes.js";
export type { ApiOptions, ApiSources } from "./routes.js";
