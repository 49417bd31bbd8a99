// The only module that touches nact. It narrows nact's loose typings to the four calls the
// supervision layer uses, so `any` stays out of the rest of the folder.
import nact from "nact";
import type { Ref } from "nact";

/** Opaque handle of a nact actor or system. */
export type NactRef = Ref<unknown>;

/** What our wrapper gives nact as the actor function: nact awaits the result before the next message. */
type NactHandler = (msg: unknown) => void | Promise<void>;

export function startSystem(): NactRef {
  return nact.start();
}

/**
 * Spawns a nact actor whose state nact never sees (we keep it ourselves, so nact's reuse of
 * `initialState` objects cannot leak state across restarts). `onFault` must not throw: an error
 * escaping nact's onCrash is an unhandled rejection that kills the process.
 */
export function spawnActor(parent: NactRef, name: string, handler: NactHandler, onFault: (err: unknown) => void): NactRef {
  return nact.spawn(parent, (_state: undefined, msg: unknown) => handler(msg), name, {
    onCrash: (_msg, err, ctx) => {
      try {
        onFault(err);
      } catch {
        // nothing may escape onCrash (see above)
      }
      return ctx.resume;
    },
  });
}

export function dispatchTo(ref: NactRef, msg: unknown): void {
  nact.dispatch(ref, msg);
}

/** Stops one actor only: nact's stop does not reach children (stack.md §1.2), callers go deepest first. */
export function stopActor(ref: NactRef): void {
  nact.stop(ref);
}
