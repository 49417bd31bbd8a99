// Typed errors of credentials and authenticated transport. A node that meets one of the start-up ones
// (missing, invalid, expired or mismatched credential; an unauthenticated server) refuses to run: the
// CLI exits 2, as for a config error. Messages name the file and never quote key material.

export const AUTH_ERROR_CODES = {
  credentialMissing: "DCNET_E_CREDENTIAL_MISSING",
  credentialInvalid: "DCNET_E_CREDENTIAL_INVALID",
  credentialExpired: "DCNET_E_CREDENTIAL_EXPIRED",
  credentialMismatch: "DCNET_E_CREDENTIAL_MISMATCH",
  unauthenticated: "DCNET_E_NATS_UNAUTHENTICATED",
  openssl: "DCNET_E_OPENSSL",
  credsStore: "DCNET_E_CREDS_STORE",
} as const;

export type AuthErrorCode = (typeof AUTH_ERROR_CODES)[keyof typeof AUTH_ERROR_CODES];

/** Base of every error here, so the CLI can turn the family into exit code 2 with one instanceof. */
export abstract class AuthError extends Error {
  abstract readonly code: AuthErrorCode;
}

/** The credential file does not exist or cannot be read. */
export class CredentialMissingError extends AuthError {
  override readonly name = "CredentialMissingError";
  readonly code = AUTH_ERROR_CODES.credentialMissing;
  constructor(
    readonly file: string,
    options?: ErrorOptions,
  ) {
    const cause: unknown = options?.cause;
    const why = typeof cause === "object" && cause !== null && "code" in cause && cause.code === "ENOENT" ? "no such file" : "cannot be read";
    super(`NATS credential ${file}: ${why} (make one with: dcnet creds node <id> | dcnet creds user <name> --role <role>)`, options);
  }
}

/** The file is not a dcnet credential: PEM blocks missing, key and certificate do not match, a foreign subject. */
export class CredentialInvalidError extends AuthError {
  override readonly name = "CredentialInvalidError";
  readonly code = AUTH_ERROR_CODES.credentialInvalid;
  constructor(
    readonly file: string,
    readonly problem: string,
  ) {
    super(`NATS credential ${file} is not a dcnet credential: ${problem}`);
  }
}

/** The certificate's validity does not include now (expired, or not valid yet). */
export class CredentialExpiredError extends AuthError {
  override readonly name = "CredentialExpiredError";
  readonly code = AUTH_ERROR_CODES.credentialExpired;
  constructor(
    readonly file: string,
    readonly notBefore: Date,
    readonly notAfter: Date,
    now: Date,
  ) {
    super(
      now > notAfter
        ? `NATS credential ${file} expired on ${notAfter.toISOString()}: issue a new one (dcnet creds node|user …) and revoke this one`
        : `NATS credential ${file} is not valid before ${notBefore.toISOString()} (check this machine's clock)`,
    );
  }
}

/** The credential is a good one, for someone else: another cluster, another node, or not a node at all. */
export class CredentialMismatchError extends AuthError {
  override readonly name = "CredentialMismatchError";
  readonly code = AUTH_ERROR_CODES.credentialMismatch;
  constructor(
    readonly file: string,
    problem: string,
  ) {
    super(`NATS credential ${file} ${problem}`);
  }
}

/** The NATS server lets anyone in; a node refuses to run there unless told it is fine (nats.insecure). */
export class NatsUnauthenticatedError extends AuthError {
  override readonly name = "NatsUnauthenticatedError";
  readonly code = AUTH_ERROR_CODES.unauthenticated;
  constructor(readonly server: string) {
    super(
      `NATS server ${server} does not require authentication: anyone who reaches it can impersonate any node and run admin operations. ` +
        `Secure it (docs/security.md) and give this node its credential (--creds, nats.credentials), or pass --insecure (nats.insecure: true) to run anyway`,
    );
  }
}

/** The openssl command failed or is missing; its last stderr line is in the message (it never prints key material). */
export class OpensslError extends AuthError {
  override readonly name = "OpensslError";
  readonly code = AUTH_ERROR_CODES.openssl;
  constructor(
    readonly step: string,
    detail: string,
    options?: ErrorOptions,
  ) {
    super(`openssl failed to ${step}: ${detail}`, options);
  }
}

/** The credentials folder cannot do what was asked: not initialised, already initialised, unknown name, a name taken by another role. */
export class CredsStoreError extends AuthError {
  override readonly name = "CredsStoreError";
  readonly code = AUTH_ERROR_CODES.credsStore;
}
