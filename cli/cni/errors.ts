// The plugin's failures, one class per failure. Each carries dcnet's stable `code` (docs/errors.md)
// and the CNI error code the runtime sees (SPEC.md §5 "Error": 1–99 reserved by the spec, 100+ the
// plugin's own). main.ts turns any of them into the spec's error object on stdout.

/** CNI's reserved error codes (SPEC.md §5) and the plugin's own (100+; 999 as libcni's ErrInternal). */
export const CNI_CODE = {
  incompatibleVersion: 1,
  unsupportedField: 2,
  unknownContainer: 3,
  invalidEnv: 4,
  io: 5,
  decode: 6,
  invalidConfig: 7,
  tryAgainLater: 11,
  notAvailable: 50,
  attachmentExists: 100,
  portConflict: 101,
  checkFailed: 102,
  kernel: 103,
  internal: 999,
} as const;

export abstract class CniError extends Error {
  abstract readonly code: string;
  abstract readonly cniCode: number;
  /** The spec's `details`: the longer explanation (the message is the short `msg`). */
  readonly details: string | undefined;
  constructor(message: string, details?: string, options?: ErrorOptions) {
    super(message, options);
    this.details = details;
  }
}

/** The config's cniVersion is missing or not one this plugin speaks. */
export class CniVersionError extends CniError {
  override readonly name = "CniVersionError";
  readonly code = "DCNET_E_CNI_VERSION";
  readonly cniCode = CNI_CODE.incompatibleVersion;
}

/** The config carries a field this plugin refuses (e.g. `ipam`: it does its own address management). */
export class CniUnsupportedFieldError extends CniError {
  override readonly name = "CniUnsupportedFieldError";
  readonly code = "DCNET_E_CNI_UNSUPPORTED_FIELD";
  readonly cniCode = CNI_CODE.unsupportedField;
}

/** CNI_NETNS names no network namespace (ADD, CHECK): nothing was created, no DEL is needed. */
export class CniNoNetnsError extends CniError {
  override readonly name = "CniNoNetnsError";
  readonly code = "DCNET_E_CNI_NO_NETNS";
  readonly cniCode = CNI_CODE.unknownContainer;
}

/** A required CNI_* variable is missing or malformed; the message names it. */
export class CniEnvError extends CniError {
  override readonly name = "CniEnvError";
  readonly code = "DCNET_E_CNI_ENV";
  readonly cniCode = CNI_CODE.invalidEnv;
}

/** The network config could not be read from stdin, or the lease directory could not be read or written. */
export class CniIoError extends CniError {
  override readonly name = "CniIoError";
  readonly code = "DCNET_E_CNI_IO";
  readonly cniCode = CNI_CODE.io;
}

/** Stdin is not a JSON object. */
export class CniDecodeError extends CniError {
  override readonly name = "CniDecodeError";
  readonly code = "DCNET_E_CNI_DECODE";
  readonly cniCode = CNI_CODE.decode;
}

/** The network config is invalid (name, subnet, gateway, mtu, portMappings, prevResult …); the message names the key. */
export class CniConfigError extends CniError {
  override readonly name = "CniConfigError";
  readonly code = "DCNET_E_CNI_CONFIG";
  readonly cniCode = CNI_CODE.invalidConfig;
}

/** The bridge (m-dcos) is not there: the node's overlay owns it and has not made it (yet). Retry later. */
export class CniBridgeMissingError extends CniError {
  override readonly name = "CniBridgeMissingError";
  readonly code = "DCNET_E_CNI_NO_BRIDGE";
  readonly cniCode = CNI_CODE.tryAgainLater;
}

/** Every address of the subnet is leased. Retry later: a DEL frees one. */
export class CniExhaustedError extends CniError {
  override readonly name = "CniExhaustedError";
  readonly code = "DCNET_E_CNI_EXHAUSTED";
  readonly cniCode = CNI_CODE.tryAgainLater;
}

/** ADD for a (container, ifname) that is attached already, or whose interface exists in the netns. */
export class CniAttachmentExistsError extends CniError {
  override readonly name = "CniAttachmentExistsError";
  readonly code = "DCNET_E_CNI_EXISTS";
  readonly cniCode = CNI_CODE.attachmentExists;
}

/** A requested host port is mapped to another container already. */
export class CniPortConflictError extends CniError {
  override readonly name = "CniPortConflictError";
  readonly code = "DCNET_E_CNI_PORT_CONFLICT";
  readonly cniCode = CNI_CODE.portConflict;
}

/** CHECK found the attachment differing from its prevResult (interface, address, route, lease, port map). */
export class CniCheckFailedError extends CniError {
  override readonly name = "CniCheckFailedError";
  readonly code = "DCNET_E_CNI_CHECK";
  readonly cniCode = CNI_CODE.checkFailed;
}

/** `ip`, `nsenter` or `nft` failed or is missing; the tool's stderr is in the details. Rolled back. */
export class CniKernelError extends CniError {
  override readonly name = "CniKernelError";
  readonly code = "DCNET_E_CNI_KERNEL";
  readonly cniCode = CNI_CODE.kernel;
}

/** STATUS: the plugin cannot serve ADD now (bridge missing, subnet exhausted). */
export class CniUnavailableError extends CniError {
  override readonly name = "CniUnavailableError";
  readonly code = "DCNET_E_CNI_UNAVAILABLE";
  readonly cniCode = CNI_CODE.notAvailable;
}

/** The spec's error object (SPEC.md §5 "Error"). */
export interface CniErrorObject {
  readonly cniVersion: string;
  readonly code: number;
  readonly msg: string;
  readonly details?: string;
}

/** Any thrown value as the spec's error object; what is not a CniError is a bug, reported as 999. */
export function toErrorObject(e: unknown, cniVersion: string): CniErrorObject {
  if (e instanceof CniError) return { cniVersion, code: e.cniCode, msg: e.message, ...(e.details ? { details: e.details } : {}) };
  const msg = e instanceof Error ? e.message : String(e);
  return { cniVersion, code: CNI_CODE.internal, msg: `internal error: ${msg}`, ...(e instanceof Error && e.stack ? { details: e.stack } : {}) };
}
