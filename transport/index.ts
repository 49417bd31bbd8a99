// Public door of the transport. Everything other folders may use is listed here, by name.
export { Transport } from "./connection.js";
export type { RequestManyOptions, RequestOptions, StatusListener } from "./connection.js";
export type { Handler, SubscribeOptions, TransportSubscription } from "./subscribe.js";
export { connectionName, nodeOfConnection, parseAdvisory, ADVISORY_KIND, ADVISORY_SUBJECTS } from "./advisories.js";
export type { AdvisoryParse, ClientAdvisory } from "./advisories.js";
export { subjects, validateId, validateNodeId, senderOf, isAdminRole, ALL_NODES, ANY, ADMIN_ROLES, ID_PATTERN, OP_PATTERN } from "./subjects.js";
export type { AdminRole, SenderToken, Subjects } from "./subjects.js";
export { defineKind, ENVELOPE_VERSION, UNKNOWN_KIND } from "./envelope.js";
export type { BodyOf } from "./envelope.js";
export { encode, decode, DEFAULT_MAX_BYTES } from "./codec.js";
export type { DecodeOptions } from "./codec.js";
export { RejectCounter } from "./rejects.js";
export type { Rejection, RejectCount } from "./rejects.js";
export { METRIC_NAMES } from "./metrics.js";
export { extractContext, injectContext, withServerSpan, injectCarrier, extractCarrier, carrierSpanContext, messagingAttrs } from "./trace-headers.js";
export type { TraceCarrier } from "./trace-headers.js";
export {
  TRANSPORT_ERROR_CODES,
  TransportError,
  InvalidIdError,
  InvalidKindError,
  TimeoutError,
  NoRespondersError,
  BadReplyError,
  ServiceError,
  TransportClosedError,
  ConnectError,
  RequestFailedError,
} from "./errors.js";
export type { TransportErrorCode } from "./errors.js";
export type { ConnState, ConnStatus, DecodeResult, Envelope, KindDef, RejectReason, ServerSecurity, TransportOptions } from "./types.js";
export { KvAllocator, ALLOCATION_ERROR_CODES, AllocationError, AllocationExhaustedError, AllocationUnavailableError, MAX_ALLOCATION_CHARS } from "./kv-allocator.js";
export type { Allocation, AllocationErrorCode, AllocationEvent, AllocationWatch, KvAllocatorOptions } from "./kv-allocator.js";
