// Public door of admin (README.md): the service actor. The kit for declaring and sending admin ops
// (defineOp, AdminClient, …) is the light second door, ops.ts; programs may take the client from either.
export { adminBehaviour } from "./admin.actor.js";
export type { AdminDeps, AdminMsg } from "./admin.actor.js";
export { AdminClient } from "./ops.js";
export type { AdminClientOptions, AnyOp, NodeReply } from "./ops.js";
