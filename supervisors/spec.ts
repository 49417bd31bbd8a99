// Spec helpers and validation. The helpers only fill `kind`; validation runs once in startTree.
import { InvalidSpecError } from "./errors.js";
import type { Behaviour, ChildSpec, RestartType, Strategy, SupervisorSpec, WorkerSpec } from "./types.js";

export function worker<S, M>(
  name: string,
  behaviour: Behaviour<S, M>,
  opts: { readonly restart?: RestartType; readonly shutdownMs?: number } = {},
): WorkerSpec<S, M> {
  return { kind: "worker", name, restart: opts.restart ?? "permanent", behaviour, ...shutdown(opts.shutdownMs) };
}

export function supervisor(
  name: string,
  strategy: Strategy,
  children: readonly ChildSpec[],
  opts: { readonly restart?: RestartType; readonly intensity?: number; readonly periodMs?: number; readonly shutdownMs?: number } = {},
): SupervisorSpec {
  return {
    kind: "supervisor",
    name,
    strategy,
    restart: opts.restart ?? "permanent",
    children,
    ...(opts.intensity === undefined ? {} : { intensity: opts.intensity }),
    ...(opts.periodMs === undefined ? {} : { periodMs: opts.periodMs }),
    ...shutdown(opts.shutdownMs),
  };
}

function shutdown(ms: number | undefined): { shutdownMs?: number } {
  return ms === undefined ? {} : { shutdownMs: ms };
}

// nact's own rule for actor names (lib/paths.js); checked here so a bad name fails at startTree.
const NAME = /^[a-z0-9-$_.+!*'(),]+$/i;

/** Throws InvalidSpecError on the first problem found (depth first). */
export function validateSpec(spec: ChildSpec, parentPath = ""): void {
  const path = `${parentPath}/${spec.name}`;
  if (!NAME.test(spec.name)) throw new InvalidSpecError(path, `name must match ${NAME.source}`);
  checkNonNegative(path, "shutdownMs", spec.shutdownMs);
  if (spec.kind === "worker") {
    checkNonNegative(path, "handlerDeadlineMs", spec.behaviour.handlerDeadlineMs);
    return;
  }
  if (spec.intensity !== undefined && !(Number.isInteger(spec.intensity) && spec.intensity >= 0)) {
    throw new InvalidSpecError(path, "intensity must be an integer >= 0");
  }
  if (spec.periodMs !== undefined && !(spec.periodMs > 0)) throw new InvalidSpecError(path, "periodMs must be > 0");
  const seen = new Set<string>();
  for (const child of spec.children) {
    if (seen.has(child.name)) throw new InvalidSpecError(path, `duplicate child name ${JSON.stringify(child.name)}`);
    seen.add(child.name);
    validateSpec(child, path);
  }
}

function checkNonNegative(path: string, key: string, value: number | undefined): void {
  if (value !== undefined && !(value >= 0)) throw new InvalidSpecError(path, `${key} must be >= 0`);
}
