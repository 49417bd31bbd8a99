// Public door of the DNS wire layer: parse, answer from our zones, encode, cache. Pure, no sockets.
export { parseQuery, errorResponse } from "./query.js";
export { answerQuery } from "./answer.js";
export { ResponseCache } from "./response-cache.js";
export { renderVariants, MAX_VARIANTS } from "./variants.js";
export type { ErrorRcode, ParsedQuery, DnsTransport } from "./types.js";
