// Bounded waits for init, terminate and shutdown. Not for the message path: one timer per call.

type Outcome<T> =
  | { readonly kind: "ok"; readonly value: T }
  | { readonly kind: "error"; readonly error: unknown }
  | { readonly kind: "timeout" };

const MAX_TIMER_MS = 2_147_483_647;

/**
 * Runs `run` and reports how it ended within `ms` (Infinity = no bound). A sync throw is an
 * "error" outcome; after a timeout the work keeps running and its result is ignored. `signal`
 * ends the wait early as a timeout, so an abandoned actor leaves no timer holding the process.
 */
export function settleWithin<T>(run: () => T | Promise<T>, ms: number, signal?: AbortSignal): Promise<Outcome<T>> {
  return new Promise((resolve) => {
    let timer: NodeJS.Timeout | undefined;
    const expire = (): void => {
      clearTimeout(timer);
      resolve({ kind: "timeout" });
    };
    if (Number.isFinite(ms)) timer = setTimeout(expire, Math.min(Math.max(ms, 0), MAX_TIMER_MS));
    if (signal?.aborted) expire();
    signal?.addEventListener("abort", expire, { once: true });
    let work: Promise<T>;
    try {
      work = Promise.resolve(run());
    } catch (error) {
      work = Promise.reject(error);
    }
    work.then(
      (value) => {
        clearTimeout(timer);
        resolve({ kind: "ok", value });
      },
      (error: unknown) => {
        clearTimeout(timer);
        resolve({ kind: "error", error });
      },
    );
  });
}
