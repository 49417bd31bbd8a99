/** Stable error codes in admin error replies (docs/errors.md lists them). */
export const ADMIN_ERRORS = {
  badRequest: "DCNET_E_ADMIN_BAD_REQUEST",
  crashDisabled: "DCNET_E_ADMIN_CRASH_DISABLED",
  permissionDenied: "DCNET_E_ADMIN_PERMISSION_DENIED",
  noSuchActor: "DCNET_E_ADMIN_NO_SUCH_ACTOR",
  unavailable: "DCNET_E_ADMIN_UNAVAILABLE",
  internal: "DCNET_E_ADMIN_INTERNAL",
} as const;

/** An admin operation refused or failed on the node; becomes an error reply with this status and code. */
export class AdminOpError extends Error {
  override readonly name = "AdminOpError";
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

/** An admin request that did not produce a reply body (client side); `message` is what the CLI prints. */
export class AdminRequestError extends Error {
  override readonly name = "AdminRequestError";
  constructor(
    readonly code: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}
