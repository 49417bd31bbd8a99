// Errors the overlay reports across its border, one class per failure, each with a stable code
// (docs/errors.md). Callers branch on `code`, never on the message.

export abstract class OverlayError extends Error {
  abstract readonly code: string;
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
  }
}

/** The overlay section of the config cannot be used (a range that is not a CIDR of its family). */
export class OverlayConfigError extends OverlayError {
  override readonly name = "OverlayConfigError";
  readonly code = "DCNET_E_OVERLAY_CONFIG";
}

/**
 * This node's own overlay facts (or the options they are rendered with) cannot be programmed: a
 * subnet of the wrong size, an address that does not parse, a multicast MAC. Nothing is rendered.
 */
export class OverlayOwnInvalidError extends OverlayError {
  override readonly name = "OverlayOwnInvalidError";
  readonly code = "DCNET_E_OVERLAY_OWN_INVALID";
}

/** `ip` or `bridge` is absent or not executable (run directly or through a command prefix). */
export class IpToolMissingError extends OverlayError {
  override readonly name = "IpToolMissingError";
  readonly code = "DCNET_E_OVERLAY_IP_MISSING";
  constructor(
    readonly tool: string,
    options?: ErrorOptions,
  ) {
    super(`${tool} cannot be run (not installed or not executable): install iproute2 (Debian: apt-get install iproute2)`, options);
  }
}

/** One line of a batch the kernel refused, with the tool's words for it. */
export interface BatchFailure {
  /** 1-based line of the batch. */
  readonly line: number;
  readonly command: string;
  readonly message: string;
}

/**
 * `ip -force -batch` / `bridge -force -batch` refused lines (other than "already so": an add of
 * what exists, a delete of what is gone). The other lines ran; `aborted` says the tool stopped
 * early (iproute2 exits from inside a failed `neigh` command even with -force), so lines after the
 * last one reported may not have run.
 */
export class IpBatchError extends OverlayError {
  override readonly name = "IpBatchError";
  readonly code = "DCNET_E_OVERLAY_BATCH_FAILED";
  constructor(
    readonly tool: "ip" | "bridge",
    readonly failures: readonly BatchFailure[],
    readonly aborted: string | undefined,
    readonly exitCode: number,
  ) {
    const first = failures[0];
    const what = first ? `line ${first.line} (${first.command}): ${first.message}` : `stopped: ${aborted ?? "(no message)"}`;
    const more = failures.length > 1 ? ` (+${failures.length - 1} more line(s))` : "";
    super(`${tool} batch exited ${exitCode}: ${what}${more}${first && aborted ? `; then stopped: ${aborted}` : ""}`);
  }
}

/** `ip`/`bridge` ran past its deadline and was killed with its process group; part of a batch may have run. */
export class IpTimeoutError extends OverlayError {
  override readonly name = "IpTimeoutError";
  readonly code = "DCNET_E_OVERLAY_IP_TIMEOUT";
  constructor(
    readonly tool: string,
    readonly timeoutMs: number,
  ) {
    super(`${tool} did not finish within ${timeoutMs} ms and was killed`);
  }
}

/** A read-back listing (`ip -j …`, `bridge -j fdb show`) failed or printed something that is not JSON. */
export class IpListingError extends OverlayError {
  override readonly name = "IpListingError";
  readonly code = "DCNET_E_OVERLAY_LISTING";
  constructor(
    readonly listing: string,
    detail: string,
    options?: ErrorOptions,
  ) {
    super(`\`${listing}\` ${detail}`, options);
  }
}

/** Another process answers on the CNI socket path (another node on this host, or one not yet stopped). */
export class CniSocketBusyError extends OverlayError {
  override readonly name = "CniSocketBusyError";
  readonly code = "DCNET_E_OVERLAY_CNI_SOCKET_BUSY";
  constructor(readonly path: string) {
    super(`another process answers on the CNI socket ${path}: is another dcnet node running on this host? Stop it, or give this node its own overlay.cniSocket`);
  }
}
