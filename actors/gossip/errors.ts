// Errors gossip reports across its border, one class per failure, each with a stable code
// (docs/errors.md). Callers branch on `code`, never on the message.

export abstract class GossipError extends Error {
  abstract readonly code: string;
}

/** The store actor an operation needs is not running (starting, or restarting after a crash). */
export class StoreUnavailableError extends GossipError {
  override readonly name = "StoreUnavailableError";
  readonly code = "DCNET_E_STORE_UNAVAILABLE";
  constructor(what = "the gossip store") {
    super(`${what} is not running`);
  }
}
