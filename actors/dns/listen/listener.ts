// What the UDP and TCP listener actors share: their messages, their state, binding with retries
// (which bind errors are waited out rather than crashed on), and their message handling.
import type { Logger } from "pino";

const BIND_RETRY_MS = 2000;

export type DnsListenerMsg =
  | { readonly type: "address"; readonly reply: (addr: string) => void }
  | { readonly type: "socket-error"; readonly error: Error }
  | { readonly type: "bind" };

/** A bind retry comes every 2 s while the address is unavailable: background work (supervisors Behaviour.background). */
export const isBindRetry = (msg: DnsListenerMsg): boolean => msg.type === "bind";

export interface ListenerState<H> {
  handle?: H;
  /** `ip:port` actually bound (port 0 resolved); undefined while unbound. */
  address?: string;
  retry?: NodeJS.Timeout;
  failures: number;
}

/** Address in use, not (yet) configured on this host, or a privileged port: wait and retry. */
function isBindProblem(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  return code === "EADDRINUSE" || code === "EADDRNOTAVAIL" || code === "EACCES";
}

/**
 * Binds, or, for an address that cannot be bound yet, logs (every 30th failure) and asks for
 * another try in BIND_RETRY_MS through `retry` (a message to the actor, so it runs in its mailbox).
 */
export async function bindOrRetry<H>(state: ListenerState<H>, what: string, listen: string, logger: Logger, bind: () => Promise<{ handle: H; address: string }>, retry: () => void): Promise<void> {
  try {
    const bound = await bind();
    state.handle = bound.handle;
    state.address = bound.address;
    logger.info({ address: bound.address }, `${what} listener ready`);
  } catch (err) {
    if (!isBindProblem(err)) throw err;
    if (state.failures++ % 30 === 0) logger.error({ listen, err: (err as Error).message }, `cannot bind ${what} ${listen}; retrying every ${BIND_RETRY_MS / 1000} s`);
    state.retry = setTimeout(retry, BIND_RETRY_MS);
    state.retry.unref();
  }
}

/** A socket error after bind is a crash (the supervisor binds again); `bind` retries; `address` reports. */
export async function handleListenerMsg<H, S extends ListenerState<H>>(state: S, msg: DnsListenerMsg, rebind: () => Promise<void>): Promise<S> {
  switch (msg.type) {
    case "socket-error":
      throw msg.error;
    case "bind":
      await rebind();
      return state;
    case "address":
      msg.reply(state.address ?? "");
      return state;
  }
}
