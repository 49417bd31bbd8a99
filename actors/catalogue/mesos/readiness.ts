// Listener readiness phases (dcos-net PR #179, DCOS_OSS-5463): after a (re)subscription nothing is
// published until the master has re-registered its recovered agents and had a moment to re-add
// their tasks — so a failover never publishes an empty or partial table. Pure.

export type Phase =
  | { readonly kind: "connecting" }
  | { readonly kind: "await-agents"; readonly missing: ReadonlySet<string>; readonly until: number }
  | { readonly kind: "await-tasks"; readonly until: number }
  | { readonly kind: "serve" };

interface ReadinessConfig {
  readonly agentsReadinessMs: number;
  readonly tasksReadinessMs: number;
}

/** Phase right after SUBSCRIBED, given the ids of its `recovered_agents`. */
export function afterSubscribed(recovered: readonly string[], now: number, c: ReadinessConfig): Phase {
  if (recovered.length > 0) return { kind: "await-agents", missing: new Set(recovered), until: now + c.agentsReadinessMs };
  return { kind: "await-tasks", until: now + c.tasksReadinessMs };
}

/** An agent (re-)registered: one less to wait for. */
export function agentAdded(phase: Phase, agentId: string, now: number, c: ReadinessConfig): Phase {
  if (phase.kind !== "await-agents" || !phase.missing.has(agentId)) return phase;
  const missing = new Set(phase.missing);
  missing.delete(agentId);
  return missing.size === 0 ? { kind: "await-tasks", until: now + c.tasksReadinessMs } : { ...phase, missing };
}

/** Time passing: waiting phases end at their deadline. */
export function tick(phase: Phase, now: number, c: ReadinessConfig): Phase {
  if (phase.kind === "await-agents" && now >= phase.until) return { kind: "await-tasks", until: now + c.tasksReadinessMs };
  if (phase.kind === "await-tasks" && now >= phase.until) return { kind: "serve" };
  return phase;
}

/** `get_state.get_agents.recovered_agents[].agent_info.id.value` of a SUBSCRIBED event. */
export function recoveredAgentIds(subscribed: unknown): string[] {
  const list = (subscribed as { subscribed?: { get_state?: { get_agents?: { recovered_agents?: unknown } } } })?.subscribed?.get_state?.get_agents?.recovered_agents;
  if (!Array.isArray(list)) return [];
  return list.flatMap((a) => {
    const id = (a as { agent_info?: { id?: { value?: unknown } }; id?: { value?: unknown } })?.agent_info?.id?.value ?? (a as { id?: { value?: unknown } })?.id?.value;
    return typeof id === "string" && id.length > 0 ? [id] : [];
  });
}

/** The agent id of an AGENT_ADDED event. */
export function addedAgentId(event: unknown): string | undefined {
  const id = (event as { agent_added?: { agent?: { agent_info?: { id?: { value?: unknown } } } } })?.agent_added?.agent?.agent_info?.id?.value;
  return typeof id === "string" ? id : undefined;
}
