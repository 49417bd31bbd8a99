// Public door of the supervision layer: OTP supervisor semantics on top of nact.
export { startTree } from "./tree.js";
export { worker, supervisor, validateSpec } from "./spec.js";
export { recordRestart } from "./intensity.js";
export type { IntensityLimit, IntensityVerdict } from "./intensity.js";
export { DEFAULTS } from "./defaults.js";
export {
  SUPERVISOR_ERROR_CODES,
  SupervisorError,
  HandlerDeadlineError,
  AskTimeoutError,
  ActorStoppedError,
  InjectedCrashError,
  RestartIntensityError,
  ThrownValueError,
  InvalidSpecError,
} from "./errors.js";
export type { SupervisorErrorCode } from "./errors.js";
export type {
  Strategy,
  RestartType,
  ExitReason,
  ReplyTo,
  ActorRef,
  ActorContext,
  Behaviour,
  WorkerSpec,
  SupervisorSpec,
  ChildSpec,
  ActorStats,
  TreeOptions,
  TreeEvent,
  Tree,
} from "./types.js";
