// Errors DNS reports across its border (node start-up, a crashed actor's last error in `ctl status`,
// config validation), one class per failure, each with a stable code (docs/errors.md). Callers branch
// on `code`, never on the message. Plain classes with no imports, so pure folders may use them too.

export const DNS_ERROR_CODES = {
  packet: "DCNET_E_DNS_PACKET",
  exchange: "DCNET_E_DNS_EXCHANGE",
  upstream: "DCNET_E_DNS_UPSTREAM",
  forwarderUnavailable: "DCNET_E_DNS_FORWARDER_UNAVAILABLE",
  forwardFailed: "DCNET_E_DNS_FORWARD_FAILED",
  udpEngine: "DCNET_E_DNS_UDP_ENGINE",
  zonePartConflict: "DCNET_E_DNS_ZONE_PART_CONFLICT",
  zoneGeneration: "DCNET_E_DNS_ZONE_GENERATION",
  resolvConf: "DCNET_E_DNS_RESOLV_CONF",
} as const;

type DnsErrorCode = (typeof DNS_ERROR_CODES)[keyof typeof DNS_ERROR_CODES];

/** Base of every DNS error, so callers can catch the family with one instanceof. */
export abstract class DnsError extends Error {
  abstract readonly code: DnsErrorCode;
}

/** A DNS message (an upstream's reply, a forwarded query) is malformed where the forwarder reads it. */
export class PacketError extends DnsError {
  override readonly name = "PacketError";
  readonly code = DNS_ERROR_CODES.packet;
}

type ExchangeFailureReason = "timeout" | "error" | "aborted";

/** One exchange with one upstream resolver failed: no reply in time, a socket error, or aborted. */
export class ExchangeError extends DnsError {
  override readonly name = "ExchangeError";
  readonly code = DNS_ERROR_CODES.exchange;
  constructor(
    readonly reason: ExchangeFailureReason,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** An upstream resolver address (`dns.upstreams`, `dns.forwardZones`, `dns.mesos.resolvers`) is invalid. */
export class UpstreamParseError extends DnsError {
  override readonly name = "UpstreamParseError";
  readonly code = DNS_ERROR_CODES.upstream;
}

/** A query needs the forwarder actor while it is not running (restarting); the client gets SERVFAIL. */
export class ForwarderUnavailableError extends DnsError {
  override readonly name = "ForwarderUnavailableError";
  readonly code = DNS_ERROR_CODES.forwarderUnavailable;
  constructor() {
    super("the forwarder is restarting");
  }
}

/** The forwarder could not answer a query at all (not even with its own SERVFAIL); the client gets SERVFAIL. */
export class ForwardFailedError extends DnsError {
  override readonly name = "ForwardFailedError";
  readonly code = DNS_ERROR_CODES.forwardFailed;
}

/** `dns.udpEngine: batch` on a machine where the native batch engine cannot load: the node does not start. */
export class UdpEngineUnavailableError extends DnsError {
  override readonly name = "UdpEngineUnavailableError";
  readonly code = DNS_ERROR_CODES.udpEngine;
}

/** Two zone parts claim the same origin (or the same part name): the node does not start. */
export class ZonePartConflictError extends DnsError {
  override readonly name = "ZonePartConflictError";
  readonly code = DNS_ERROR_CODES.zonePartConflict;
}

/** A zone set was published with a generation not above the current one (a bug: the board only moves forward). */
export class ZoneGenerationError extends DnsError {
  override readonly name = "ZoneGenerationError";
  readonly code = DNS_ERROR_CODES.zoneGeneration;
}

/** Why the host's resolv.conf could not be installed or restored (dns.manageResolvConf). */
export type ResolvConfProblem = "read-only" | "not-permitted" | "missing-directory" | "failed";

/** The host's resolv.conf could not be installed or restored; the host keeps the file it has. */
export class ResolvConfError extends DnsError {
  override readonly name = "ResolvConfError";
  readonly code = DNS_ERROR_CODES.resolvConf;
  constructor(
    message: string,
    readonly problem: ResolvConfProblem,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
