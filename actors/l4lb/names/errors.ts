// Errors of named-VIP addressing, one class per failure, each with a stable code (docs/errors.md).

/** A configured named-VIP range is not two addresses of one family with min ≤ max. */
export class InvalidNamedRangeError extends Error {
  override readonly name = "InvalidNamedRangeError";
  readonly code = "DCNET_E_L4LB_NAMED_RANGE";
  constructor(
    readonly range: { readonly min: string; readonly max: string },
    readonly reason: string,
  ) {
    super(`named-VIP range ${range.min}–${range.max}: ${reason}`);
  }
}
