export { adminBehaviour } from "./admin.actor.js";
export type { AdminDeps, AdminMsg } from "./admin.actor.js";
export { AdminClient, AdminRequestError } from "./client.js";
export type { NodeReply } from "./client.js";
export { ADMIN_SERVICE_NAME, ADMIN_ERRORS, OP_NAMES, kinds as adminKinds, ops as adminOps } from "./protocol.js";
export type { OpName, StatusBody, PongBody, OkBody, ErrorBody, MembersBody, StateKeysBody, StateGetBody, TaskLsBody, VipLsBody, DnsRecordsBody, DnsLookupBody } from "./protocol.js";
