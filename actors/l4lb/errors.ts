// Errors the L4LB reports across its border, one class per failure, each with a stable code
// (docs/errors.md). Callers branch on `code`, never on the message.

export abstract class L4lbError extends Error {
  abstract readonly code: string;
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
  }
}

/** The nft binary is absent or not executable: nothing can be programmed. */
export class NftMissingError extends L4lbError {
  override readonly name = "NftMissingError";
  readonly code = "DCNET_E_L4LB_NFT_MISSING";
  constructor(
    readonly binary: string,
    options?: ErrorOptions,
  ) {
    super(`${binary} cannot be run (not installed or not executable): install nftables (Debian: apt-get install nftables) or set l4lb.nft`, options);
  }
}

/** nft exited non-zero: the transaction was refused as a whole and the kernel is unchanged. */
export class NftRejectedError extends L4lbError {
  override readonly name = "NftRejectedError";
  readonly code = "DCNET_E_L4LB_NFT_REJECTED";
  constructor(
    readonly exitCode: number,
    /** nft's stderr, bounded. */
    readonly stderr: string,
  ) {
    super(`nft exited ${exitCode}: ${firstLines(stderr) || "(no message)"}`);
  }
}

/** nft ran past its deadline and was killed; a transaction it was applying may or may not have committed. */
export class NftTimeoutError extends L4lbError {
  override readonly name = "NftTimeoutError";
  readonly code = "DCNET_E_L4LB_NFT_TIMEOUT";
  constructor(readonly timeoutMs: number) {
    super(`nft did not finish within ${timeoutMs} ms and was killed`);
  }
}

/** `nft -j list` printed something that is not JSON (a truncated or foreign listing). */
export class NftOutputError extends L4lbError {
  override readonly name = "NftOutputError";
  readonly code = "DCNET_E_L4LB_NFT_OUTPUT";
  constructor(what: string, options?: ErrorOptions) {
    super(`nft printed ${what} that is not JSON`, options);
  }
}

/** The first lines of a tool's stderr: nft names the failing command and marks the spot below it. */
export function firstLines(text: string, lines = 3, chars = 600): string {
  return text
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l.length > 0)
    .slice(0, lines)
    .join(" / ")
    .slice(0, chars);
}

/** The applier started without an actor it reads from (the catalogue's VIP table): a broken composition. */
export class L4lbDependencyError extends L4lbError {
  override readonly name = "L4lbDependencyError";
  readonly code = "DCNET_E_L4LB_DEPENDENCY";
}
