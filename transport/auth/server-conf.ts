// The nats-server config of a secured dcnet server: TLS with client certificates mapped to users
// (verify_and_map), the users fragment included, routes over TLS that accept only server certificates.
// `dcnet up`, the test harness and docs/security.md all use this one shape.
import { routesUser } from "./identity.js";

export interface SecureServerConfig {
  /** server_name (required by clustered JetStream). */
  readonly name: string;
  /** Client listen address, `host:port`. */
  readonly listen: string;
  /** Files of this server's certificate, its key, and the cluster CA. */
  readonly tls: { readonly cert: string; readonly key: string; readonly ca: string };
  /**
   * The users fragment (`nats-auth.conf`, `dcnet creds nats-conf`), relative to the config file's
   * folder: nats-server joins an include path to that folder, even an absolute one.
   */
  readonly usersFile: string;
  /** The dcnet cluster: the route user every server certificate carries (identity.ts routesUser). */
  readonly dcnetCluster: string;
  /** A NATS cluster of several servers: its name, the route listener and the other servers' route URLs. */
  readonly routes?: { readonly name: string; readonly listen: string; readonly urls: readonly string[] };
  /** JetStream store directory; no JetStream when absent. */
  readonly jetstreamDir?: string;
  /** Monitoring listener, `host:port` (plain HTTP, no client data; keep it on loopback). */
  readonly http?: string;
  /** Lines appended as they are (ping intervals in tests, limits). */
  readonly extra?: readonly string[];
}

const q = (s: string): string => JSON.stringify(s);

function tlsBlock(t: SecureServerConfig["tls"], indent: string): string[] {
  return [
    `${indent}tls {`,
    `${indent}  cert_file: ${q(t.cert)}`,
    `${indent}  key_file: ${q(t.key)}`,
    `${indent}  ca_file: ${q(t.ca)}`,
    // Require a client certificate from the CA, and take the NATS user from its subject DN.
    `${indent}  verify_and_map: true`,
    `${indent}  timeout: 2`,
    `${indent}}`,
  ];
}

export function renderServerConfig(c: SecureServerConfig): string {
  if (c.usersFile.startsWith("/")) throw new TypeError(`usersFile ${c.usersFile} must be relative to the config file's folder (nats-server joins include paths to it)`);
  const lines = [`server_name: ${q(c.name)}`, `listen: ${q(c.listen)}`, ...tlsBlock(c.tls, ""), `include ${q(c.usersFile)}`];
  if (c.http !== undefined) lines.push(`http: ${q(c.http)}`);
  if (c.jetstreamDir !== undefined) lines.push(`jetstream { store_dir: ${q(c.jetstreamDir)} }`);
  if (c.routes !== undefined) {
    lines.push(
      "cluster {",
      `  name: ${q(c.routes.name)}`,
      `  listen: ${q(c.routes.listen)}`,
      ...tlsBlock(c.tls, "  "),
      // Only a certificate carrying the cluster's route name (every server certificate, none other) may
      // connect as a route: a route is not subject to any user's permissions.
      `  authorization { user: ${q(routesUser(c.dcnetCluster))} }`,
      `  routes: [${c.routes.urls.map(q).join(", ")}]`,
      "}",
    );
  }
  lines.push(...(c.extra ?? []));
  return lines.join("\n") + "\n";
}
