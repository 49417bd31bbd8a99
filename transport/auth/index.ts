// Door of the transport's authentication: identities, NATS permissions, credentials (openssl) and
// their loading. `load.ts` alone is the light way in (node:fs, node:crypto), for `dcnet ctl`.
export { IDENTITY_ROLES, USER_ROLES, isIdentityRole, isUserRole, checkIdentity, clusterOrg, userDn, parseSubject, inboxPrefix, routesUser } from "./identity.js";
export type { CertIdentity, Identity, IdentityRole, UserRole } from "./identity.js";
export { permissionsFor, renderUsers } from "./permissions.js";
export type { Permissions, PermissionOptions, UsersFragmentOptions } from "./permissions.js";
export { renderServerConfig } from "./server-conf.js";
export type { SecureServerConfig } from "./server-conf.js";
export { loadCredential, checkNodeCredential } from "./load.js";
export type { Credential } from "./load.js";
export { CREDS_FILES, DEFAULT_DAYS, initCredsDir, issue, revoke, readIssued, writeUsersFile } from "./store.js";
export type { IssuedCert, IssuedList, IssueRequest, RevokedCert } from "./store.js";
export {
  AUTH_ERROR_CODES,
  AuthError,
  CredentialMissingError,
  CredentialInvalidError,
  CredentialExpiredError,
  CredentialMismatchError,
  NatsUnauthenticatedError,
  OpensslError,
  CredsStoreError,
} from "./errors.js";
export type { AuthErrorCode } from "./errors.js";
