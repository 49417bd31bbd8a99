import { describe, it, expect } from "@jest/globals";
import { afterSubscribed, agentAdded, tick, recoveredAgentIds, addedAgentId } from "./readiness.js";

const C = { agentsReadinessMs: 10_000, tasksReadinessMs: 1000 };

describe("listener readiness phases", () => {
  it("no recovered agents: wait for tasks, then serve", () => {
    const p = afterSubscribed([], 0, C);
    expect(p).toEqual({ kind: "await-tasks", until: 1000 });
    expect(tick(p, 999, C).kind).toBe("await-tasks");
    expect(tick(p, 1000, C)).toEqual({ kind: "serve" });
  });

  it("recovered agents: serve only after each re-registered and the task window passed", () => {
    let p = afterSubscribed(["a", "b"], 0, C);
    p = agentAdded(p, "a", 100, C);
    expect(p.kind).toBe("await-agents");
    p = agentAdded(p, "x", 150, C);
    expect(p.kind).toBe("await-agents");
    p = agentAdded(p, "b", 200, C);
    expect(p).toEqual({ kind: "await-tasks", until: 1200 });
    expect(tick(p, 1200, C)).toEqual({ kind: "serve" });
  });

  it("agents that never come back stop blocking at the agents deadline", () => {
    const p = tick(afterSubscribed(["gone"], 0, C), 10_000, C);
    expect(p).toEqual({ kind: "await-tasks", until: 11_000 });
  });

  it("reads recovered agent ids and AGENT_ADDED ids, tolerating junk", () => {
    expect(recoveredAgentIds({ subscribed: { get_state: { get_agents: { recovered_agents: [{ agent_info: { id: { value: "s1" } } }, { id: { value: "s2" } }, 5, null] } } } })).toEqual(["s1", "s2"]);
    expect(recoveredAgentIds({ subscribed: {} })).toEqual([]);
    expect(recoveredAgentIds(null)).toEqual([]);
    expect(addedAgentId({ agent_added: { agent: { agent_info: { id: { value: "s1" } } } } })).toBe("s1");
    expect(addedAgentId({ agent_added: 3 })).toBeUndefined();
  });
});
