// Structured JSON logs (pino). One child logger per subsystem; the level can change at runtime
// (`dcnet ctl log-level`), which pino does not propagate to existing children, hence the hub.
import { pino, type Logger, type DestinationStream } from "pino";
import type { LogLevel } from "../config/index.js";

export interface LogHub {
  readonly root: Logger;
  /** Child logger tagged `sub=<name>`; follows later level changes. */
  child(sub: string): Logger;
  setLevel(level: LogLevel): void;
  level(): LogLevel;
}

interface LogHubOptions {
  readonly level: LogLevel;
  readonly bindings?: Record<string, string>;
  /** Defaults to synchronous stdout so the last line before an exit is never lost. */
  readonly destination?: DestinationStream;
}

export function createLogHub(opts: LogHubOptions): LogHub {
  const root = pino(
    { level: opts.level, base: { ...(opts.bindings ?? {}) }, timestamp: pino.stdTimeFunctions.isoTime, formatters: { level: (label) => ({ level: label }) } },
    opts.destination ?? pino.destination({ fd: 1, sync: true }),
  );
  const children = new Set<Logger>();
  let current: LogLevel = opts.level;
  return {
    root,
    child(sub) {
      const c = root.child({ sub });
      c.level = current;
      children.add(c);
      return c;
    },
    setLevel(level) {
      current = level;
      root.level = level;
      for (const c of children) c.level = level;
    },
    level: () => current,
  };
}
