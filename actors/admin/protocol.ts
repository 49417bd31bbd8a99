// The admin protocol's fixed part: the service name, the error reply every op may give, the
// confirmation reply most writes give (error codes: errors.ts). Each op's own request and reply
// schemas live with the op, in the `ops.ts` of the subsystem that owns it (see README.md).
// Programs other than the CLI speak exactly this (msgpack envelopes, see transport/README.md).
import { z } from "zod";
import { kind } from "./op.js";

export const ADMIN_SERVICE_NAME = "dcnet-admin";

export const errorBody = z.strictObject({ node: z.string(), code: z.string(), message: z.string() });
export type ErrorBody = z.infer<typeof errorBody>;
/** The reply of a refused or failed request, next to the service error headers (status, message). */
export const ERROR_KIND = kind("admin.error", errorBody);

const okBody = z.strictObject({ node: z.string(), message: z.string() });
export type OkBody = z.infer<typeof okBody>;

/** Reply, kind and formatting of an op that only confirms (`admin.ok`): spread into `defineOp`. */
export const OK_REPLY = {
  reply: okBody,
  replyKind: "admin.ok",
  human: (o: OkBody): string => `${o.node}: ${o.message}`,
  summary: (o: OkBody): string => o.message,
} as const;
