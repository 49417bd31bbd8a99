// Public door of the DNS wire layer: parse, answer from our zones, encode, cache. Pure, no sockets.
export { parseQuery, errorResponse, type ErrorResponseOptions } from "./query.js";
export { answerQuery, type AnswerOptions, type Answered, type AnswerResult } from "./answer.js";
export type { AnswerRcode } from "./resolve.js";
export type { Rotation } from "./rotate.js";
export { encodeResponse, sizeLimit, type EncodeOptions } from "./encode.js";
export { DCOS_RENAMES, renameQuery, renameBack, type RenameRule, type Renamed } from "./rename.js";
export { stripWildcards } from "./mesos-compat.js";
export { ResponseCache, type CacheHit, type CacheMeta, type ResponseCacheOptions } from "./response-cache.js";
export { renderVariants, type VariantOptions } from "./variants.js";
export type {
  EdnsInfo,
  ErrorRcode,
  ParsedQuery,
  ParseResult,
  QueryDrop,
  QueryError,
  QueryRejection,
  ResponsePacket,
  DnsTransport,
  WireQuestion,
} from "./types.js";
