// Pure: the reconnect delay of the Mesos listener and poller — jittered exponential backoff,
// 2 s doubling to a 30 s ceiling (dcos_net_mesos_listener), back to the start after a success.
// No timers here: the caller asks for the next delay and schedules it itself.

interface BackoffOptions {
  /** First delay, ms. Default 2000. */
  readonly initialMs?: number;
  /** Ceiling, ms. Default 30000. */
  readonly maxMs?: number;
  /** Growth per failed attempt. Default 2. */
  readonly factor?: number;
  /** Fraction of the delay that is random: delay ∈ [base × (1 − jitter), base]. Default 0.5. */
  readonly jitter?: number;
  /** Source of randomness in [0, 1); injected so tests are deterministic. Default Math.random. */
  readonly random?: () => number;
}

const BACKOFF_DEFAULTS = { initialMs: 2000, maxMs: 30_000, factor: 2, jitter: 0.5 } as const;

/** The un-jittered delay before retry number `attempt` (0 = first retry). */
export function backoffBase(attempt: number, options: BackoffOptions = {}): number {
  const initial = options.initialMs ?? BACKOFF_DEFAULTS.initialMs;
  const max = options.maxMs ?? BACKOFF_DEFAULTS.maxMs;
  const factor = options.factor ?? BACKOFF_DEFAULTS.factor;
  // Capping the exponent keeps factor ** attempt finite for any attempt count.
  const steps = Math.min(Math.max(0, Math.floor(attempt)), 64);
  return Math.min(max, initial * factor ** steps);
}

/** Successive failures lengthen the delay; `reset()` after a success (a stream that reached SUBSCRIBED). */
export class Backoff {
  private attempt = 0;

  constructor(private readonly options: BackoffOptions = {}) {
    const initialMs = options.initialMs ?? BACKOFF_DEFAULTS.initialMs;
    const maxMs = options.maxMs ?? BACKOFF_DEFAULTS.maxMs;
    const factor = options.factor ?? BACKOFF_DEFAULTS.factor;
    const jitter = options.jitter ?? BACKOFF_DEFAULTS.jitter;
    if (!(initialMs > 0 && maxMs >= initialMs && factor >= 1 && jitter >= 0 && jitter <= 1)) {
      throw new RangeError(`backoff: need 0 < initialMs ≤ maxMs, factor ≥ 1, 0 ≤ jitter ≤ 1 (got ${initialMs}, ${maxMs}, ${factor}, ${jitter})`);
    }
  }

  /** Failures since the last reset. */
  get failures(): number {
    return this.attempt;
  }

  /** The delay (ms, integer) to wait before the next attempt; counts one more failure. */
  next(): number {
    const base = backoffBase(this.attempt, this.options);
    this.attempt += 1;
    const jitter = this.options.jitter ?? BACKOFF_DEFAULTS.jitter;
    const r = Math.min(Math.max((this.options.random ?? Math.random)(), 0), 1);
    return Math.round(base * (1 - jitter * r));
  }

  reset(): void {
    this.attempt = 0;
  }
}
