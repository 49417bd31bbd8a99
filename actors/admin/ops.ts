// The admin kit, admin's second door (the first, index.ts, is the service and loads its runtime):
// what a subsystem needs to declare its admin ops in its own `ops.ts`, and what `dcnet ctl` needs to
// send them. Light on purpose — zod and types only — because `dcnet ctl` starts a process per command.
export { defineOp, cliGroup, cliParse } from "./op.js";
export type { AnyOp, CliCommand, CliGroup, CliInput, OpContext, OpDef } from "./op.js";
export { ADMIN_SERVICE_NAME, OK_REPLY } from "./protocol.js";
export type { OkBody } from "./protocol.js";
export { ADMIN_ERRORS, AdminOpError, AdminRequestError } from "./errors.js";
export { AdminClient } from "./client.js";
export type { AdminClientOptions, CallOptions, NodeReply } from "./client.js";
export { table, duration } from "./text.js";
