// Door of the transport's authentication: identities, NATS permissions, credentials (openssl) and
// their loading. `load.ts` alone is the light way in (node:fs, node:crypto), for `dcnet ctl`.
export { USER_ROLES, inboxPrefix } from "./identity.js";
export type { CertIdentity, Identity, IdentityRole, UserRole } from "./identity.js";
export type { Permissions, PermissionOptions, UsersFragmentOptions } from "./permissions.js";
export { renderServerConfig } from "./server-conf.js";
export type { SecureServerConfig } from "./server-conf.js";
export { loadCredential, checkNodeCredential } from "./load.js";
export type { Credential } from "./load.js";
export { CREDS_FILES, DEFAULT_DAYS, initCredsDir, issue, revoke, readIssued, writeUsersFile } from "./store.js";
export type { IssuedCert, IssuedList, IssueRequest, RevokedCert } from "./store.js";
export { AuthError, NatsUnauthenticatedError } from "./errors.js";
export type { AuthErrorCode } from "./errors.js";
