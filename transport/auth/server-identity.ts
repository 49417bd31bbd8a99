// How a client with a dcnet credential checks the server it reached. nats.js upgrades a connection to
// TLS without telling Node the host it dialled, so Node checks the server certificate against the name
// "localhost" whenever the URL holds an IP (nats://10.0.0.1:4222): every real server would fail.
// The check that matters holds without the host: the chain ends at this cluster's own CA (the only
// trust anchor given), and the certificate carries the cluster's route name, which `dcnet creds`
// writes into server certificates only. Any other certificate still gets Node's usual host check.
import { checkServerIdentity, type PeerCertificate } from "node:tls";
import { routesUser } from "./identity.js";

export type ServerIdentityCheck = (host: string, cert: PeerCertificate) => Error | undefined;

/** A `checkServerIdentity` for TLS options: accepts any server certificate of `cluster`'s CA, else checks the host. */
export function clusterServerCheck(cluster: string): ServerIdentityCheck {
  const routes = `DNS:${routesUser(cluster)}`;
  return (host, cert) => {
    const names = (cert.subjectaltname ?? "").split(",").map((s) => s.trim());
    return names.includes(routes) ? undefined : checkServerIdentity(host, cert);
  };
}
