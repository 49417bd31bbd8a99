// The defaults stated in README.md. OTP's own supervisor default is intensity 1 / period 5 s; dcnet
// allows a few more restarts so that a flapping NATS connection does not take a node down at once.
export const DEFAULTS = {
  intensity: 3,
  periodMs: 5000,
  /** Per worker: time allowed for an in-flight handler plus terminate() on stop. */
  workerShutdownMs: 5000,
  /** Supervisors wait for their subtree like OTP's `infinity`; each worker inside is bounded. */
  supervisorShutdownMs: Number.POSITIVE_INFINITY,
  handlerDeadlineMs: 30000,
} as const;
