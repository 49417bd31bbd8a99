// Where `dcnet up` keeps the throwaway credentials of its local cluster, and how `dcnet ctl` finds the
// admin credential there without being told. Shared by both commands, so node:os and node:path only
// (`dcnet ctl` loads it on every run).
import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { isAbsolute, join } from "node:path";

/** The user `dcnet up` issues for `dcnet ctl`: role admin, bundle `<dir>/admin.pem`. */
export const UP_ADMIN = "admin";

/**
 * `$XDG_STATE_HOME/dcnet/up/<port>` (default `~/.local/state/dcnet/up/<port>`): one folder per client
 * port, so two `dcnet up` on different ports never overwrite each other's credentials, and a
 * `dcnet ctl --nats nats://127.0.0.1:<port>` finds the ones of the server it talks to.
 */
export function upCredsDir(port: number, env: NodeJS.ProcessEnv = process.env): string {
  const xdg = env.XDG_STATE_HOME;
  const state = xdg && isAbsolute(xdg) ? xdg : join(homedir(), ".local", "state");
  return join(state, "dcnet", "up", String(port));
}

/**
 * The credential `dcnet ctl` uses when given none: DCNET_NATS_CREDENTIALS, else the admin bundle of
 * the `dcnet up` serving the one loopback URL it talks to, if there is one. Undefined: no credential.
 */
export function defaultCtlCredential(servers: readonly string[], env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.DCNET_NATS_CREDENTIALS) return env.DCNET_NATS_CREDENTIALS;
  if (servers.length !== 1) return undefined;
  const m = /^(?:nats|tls):\/\/(?:127\.0\.0\.1|localhost)(?::(\d+))?\/?$/.exec(servers[0] ?? "");
  if (!m) return undefined;
  const file = join(upCredsDir(Number(m[1] ?? 4222), env), `${UP_ADMIN}.pem`);
  return existsSync(file) ? file : undefined;
}
