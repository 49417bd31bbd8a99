// Typed supervision errors. Callers and tests branch on `code` (stable, listed in README.md),
// never on message text.

export const SUPERVISOR_ERROR_CODES = {
  handlerDeadline: "DCNET_E_HANDLER_DEADLINE",
  askTimeout: "DCNET_E_ASK_TIMEOUT",
  actorStopped: "DCNET_E_ACTOR_STOPPED",
  injectedCrash: "DCNET_E_INJECTED_CRASH",
  restartIntensity: "DCNET_E_RESTART_INTENSITY",
  thrownValue: "DCNET_E_THROWN_VALUE",
  invalidSpec: "DCNET_E_INVALID_SPEC",
} as const;

export type SupervisorErrorCode = (typeof SUPERVISOR_ERROR_CODES)[keyof typeof SUPERVISOR_ERROR_CODES];

/** Base of every supervision error, so callers can catch the family with one instanceof. */
export abstract class SupervisorError extends Error {
  abstract readonly code: SupervisorErrorCode;
}

/** A handler (or init) did not finish within its deadline; counted as a crash of the actor. */
export class HandlerDeadlineError extends SupervisorError {
  override readonly name = "HandlerDeadlineError";
  readonly code = SUPERVISOR_ERROR_CODES.handlerDeadline;
  constructor(
    readonly path: string,
    readonly what: string,
    readonly deadlineMs: number,
  ) {
    super(`${path}: ${what} exceeded its deadline of ${deadlineMs} ms`);
  }
}

/** `ref.ask` got no reply within its timeout. */
export class AskTimeoutError extends SupervisorError {
  override readonly name = "AskTimeoutError";
  readonly code = SUPERVISOR_ERROR_CODES.askTimeout;
  constructor(
    readonly path: string,
    readonly timeoutMs: number,
  ) {
    super(`ask to ${path} timed out after ${timeoutMs} ms`);
  }
}

/** `ref.ask` to an actor that is stopped for good: the message would only be dropped. */
export class ActorStoppedError extends SupervisorError {
  override readonly name = "ActorStoppedError";
  readonly code = SUPERVISOR_ERROR_CODES.actorStopped;
  constructor(readonly path: string) {
    super(`actor ${path} is stopped`);
  }
}

/** Fault injection through `tree.crash(path, reason)`. */
export class InjectedCrashError extends SupervisorError {
  override readonly name = "InjectedCrashError";
  readonly code = SUPERVISOR_ERROR_CODES.injectedCrash;
  constructor(
    readonly path: string,
    reason: string,
  ) {
    super(`${path}: ${reason}`);
  }
}

/** A supervisor exceeded its restart intensity; `origin` is the actor whose crashes caused it. */
export class RestartIntensityError extends SupervisorError {
  override readonly name = "RestartIntensityError";
  readonly code = SUPERVISOR_ERROR_CODES.restartIntensity;
  constructor(
    readonly path: string,
    readonly origin: string,
    intensity: number,
    periodMs: number,
    options?: ErrorOptions,
  ) {
    super(`${path}: more than ${intensity} restarts in ${periodMs} ms (crash-looping actor ${origin})`, options);
  }
}

/** Something that is not an Error was thrown or rejected; kept as `value`. */
export class ThrownValueError extends SupervisorError {
  override readonly name = "ThrownValueError";
  readonly code = SUPERVISOR_ERROR_CODES.thrownValue;
  constructor(readonly value: unknown) {
    super(`non-Error value thrown: ${describe(value)}`);
  }
}

/** A tree spec is malformed (duplicate or invalid names, negative limits). */
export class InvalidSpecError extends SupervisorError {
  override readonly name = "InvalidSpecError";
  readonly code = SUPERVISOR_ERROR_CODES.invalidSpec;
  constructor(
    readonly path: string,
    problem: string,
  ) {
    super(`invalid tree spec at ${path}: ${problem}`);
  }
}

export function toError(value: unknown): Error {
  return value instanceof Error ? value : new ThrownValueError(value);
}

function describe(value: unknown): string {
  try {
    return typeof value === "string" ? value : (JSON.stringify(value) ?? String(value));
  } catch {
    return String(value);
  }
}
