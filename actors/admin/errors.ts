/** An admin operation refused or failed; becomes an error reply with this status and code. */
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
