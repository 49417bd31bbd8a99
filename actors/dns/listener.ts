// What the UDP and TCP listener actors share: their messages, their state, and which bind errors
// are retried rather than crashed on.
export const BIND_RETRY_MS = 2000;

export type ListenerMsg =
  | { readonly type: "address"; readonly reply: (addr: string) => void }
  | { readonly type: "socket-error"; readonly error: Error }
  | { readonly type: "bind" };

export interface ListenerState<H> {
  handle?: H;
  /** `ip:port` actually bound (port 0 resolved); undefined while unbound. */
  address?: string;
  retry?: NodeJS.Timeout;
  failures: number;
}

/** Address in use, not (yet) configured on this host, or a privileged port: wait and retry. */
export function isBindProblem(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  return code === "EADDRINUSE" || code === "EADDRNOTAVAIL" || code === "EACCES";
}
