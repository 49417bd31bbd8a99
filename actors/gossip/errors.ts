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

/** The membership actor the store watches is not running (starting, or restarting after a crash). */
export class MembershipUnavailableError extends GossipError {
  override readonly name = "MembershipUnavailableError";
  readonly code = "DCNET_E_MEMBERSHIP_UNAVAILABLE";
  constructor() {
    super("the membership actor is not running");
  }
}

/**
 * The store refused a local update (bad key, a value peers would reject, a key past its limits);
 * `reason` is the store's. Thrown by writers that turn the store's `{ ok: false }` reply into an error.
 */
export class UpdateRefusedError extends GossipError {
  override readonly name = "UpdateRefusedError";
  readonly code = "DCNET_E_STORE_UPDATE_REFUSED";
  constructor(
    readonly key: string,
    readonly reason: string,
  ) {
    super(`the gossip store refused the update of ${key}: ${reason}`);
  }
}

/** A peer answered a bucket request in another node's name (identity rule); the reply is dropped. */
export class WrongResponderError extends GossipError {
  override readonly name = "WrongResponderError";
  readonly code = "DCNET_E_GOSSIP_WRONG_RESPONDER";
  constructor(
    readonly asked: string,
    readonly answered: string,
  ) {
    super(`bucket reply from ${answered}, but ${asked} was asked`);
  }
}
