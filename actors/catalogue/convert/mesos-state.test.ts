import { describe, it, expect } from "@jest/globals";
import { applyEvent, EMPTY_STATE, latestStatus, mapTaskState, mesosStateFromGetState } from "./mesos-state.js";

const task = (id: string, state = "TASK_STAGING", extra: object = {}) => ({
  task_id: { value: id }, framework_id: { value: "F" }, agent_id: { value: "S" }, name: id, state, statuses: [], ...extra,
});
const update = (id: string, state: string, status: object = {}) => ({
  type: "TASK_UPDATED",
  task_updated: { framework_id: { value: "F" }, state, status: { task_id: { value: id }, state, ...status } },
});

describe("mesosStateFromGetState", () => {
  it("reads GET_STATE, SUBSCRIBED and bare get_state; tasks, else launched_tasks", () => {
    const gs = { get_agents: { agents: [1] }, get_frameworks: { frameworks: [2] }, get_tasks: { launched_tasks: [3] } };
    expect(mesosStateFromGetState({ type: "GET_STATE", get_state: gs })).toEqual({ agents: [1], frameworks: [2], tasks: [3] });
    expect(mesosStateFromGetState({ type: "SUBSCRIBED", subscribed: { get_state: gs } }).tasks).toEqual([3]);
    expect(mesosStateFromGetState({ get_tasks: { tasks: [4], launched_tasks: [3] } }).tasks).toEqual([4]);
    expect(mesosStateFromGetState(null)).toEqual(EMPTY_STATE);
    expect(mesosStateFromGetState({ get_state: { get_agents: "x" } })).toEqual(EMPTY_STATE);
  });
});

describe("mapTaskState", () => {
  it.each([
    ["TASK_RUNNING", "running"], ["TASK_KILLING", "killing"], ["TASK_STAGING", "preparing"], ["TASK_STARTING", "preparing"],
    ["TASK_UNREACHABLE", "preparing"], ["TASK_FINISHED", "terminal"], ["TASK_FAILED", "terminal"], ["TASK_KILLED", "terminal"],
    ["TASK_LOST", "terminal"], ["TASK_ERROR", "terminal"], ["TASK_DROPPED", "terminal"], ["TASK_GONE", "terminal"],
    ["TASK_GONE_BY_OPERATOR", "terminal"], [undefined, "preparing"],
  ])("%s → %s", (s, m) => expect(mapTaskState(s)).toBe(m));
});

describe("applyEvent", () => {
  it("TASK_ADDED then TASK_UPDATED: event state wins, latest status kept, IPs and health inherited", () => {
    let st = applyEvent(EMPTY_STATE, { type: "TASK_ADDED", task_added: { task: task("a") } }).state;
    const cs = { network_infos: [{ ip_addresses: [{ ip_address: "9.0.0.2" }] }] };
    st = applyEvent(st, update("a", "TASK_RUNNING", { timestamp: 2, healthy: true, container_status: cs })).state;
    const r = applyEvent(st, update("a", "TASK_KILLING", { timestamp: 3 }));
    const t = r.state.tasks[0];
    expect(r.task).toBe(t);
    expect(t).toMatchObject({ state: "TASK_KILLING", name: "a" });
    expect(latestStatus(t)).toEqual({ task_id: { value: "a" }, state: "TASK_KILLING", timestamp: 3, healthy: true, container_status: cs });
  });
  it("an older status arriving late does not replace the newer one", () => {
    let st = applyEvent(EMPTY_STATE, { type: "TASK_ADDED", task_added: { task: task("a") } }).state;
    st = applyEvent(st, update("a", "TASK_RUNNING", { timestamp: 5 })).state;
    st = applyEvent(st, update("a", "TASK_RUNNING", { timestamp: 4, healthy: false })).state;
    expect(latestStatus(st.tasks[0])).toMatchObject({ timestamp: 5 });
  });
  it("a terminal update drops the task but returns it so the caller can publish the removal", () => {
    const st = applyEvent(EMPTY_STATE, { type: "TASK_ADDED", task_added: { task: task("a", "TASK_RUNNING") } }).state;
    const r = applyEvent(st, update("a", "TASK_KILLED", { timestamp: 9 }));
    expect(r.state.tasks).toEqual([]);
    expect(r.task).toMatchObject({ state: "TASK_KILLED" });
  });
  it("agents and frameworks are added, updated and removed by id", () => {
    const agent = { agent_info: { id: { value: "S" }, hostname: "10.0.0.1" } };
    const fw = (name: string) => ({ framework_info: { id: { value: "F" }, name } });
    let st = applyEvent(EMPTY_STATE, { type: "AGENT_ADDED", agent_added: { agent } }).state;
    st = applyEvent(st, { type: "FRAMEWORK_ADDED", framework_added: { framework: fw("a") } }).state;
    st = applyEvent(st, { type: "FRAMEWORK_UPDATED", framework_updated: { framework: fw("b") } }).state;
    expect(st).toEqual({ agents: [agent], frameworks: [fw("b")], tasks: [] });
    st = applyEvent(st, { type: "FRAMEWORK_REMOVED", framework_removed: { framework_info: { id: { value: "F" } } } }).state;
    st = applyEvent(st, { type: "AGENT_REMOVED", agent_removed: { agent_id: { value: "S" } } }).state;
    expect(st).toEqual(EMPTY_STATE);
  });
  it("HEARTBEAT, unknown and malformed events leave the state unchanged (same object)", () => {
    for (const ev of [{ type: "HEARTBEAT" }, { type: "NOPE" }, null, 7, { type: "TASK_UPDATED" }, { type: "AGENT_ADDED" }]) {
      expect(applyEvent(EMPTY_STATE, ev).state.tasks).toBe(EMPTY_STATE.tasks);
    }
  });
});
