// The `dcos.thisdcos.directory` zone part: every task of every source (`tasks/`), the nodes' facts
// (`nodes/`: which are masters, at which address) and which node holds the Mesos leader's stream
// (`mesos/leader`), folded into maps and built with ../dcos.ts.
import type { WatchEvent } from "../../../gossip/index.js";
import { LEADER_KEY, TASKS_PREFIX, type Task } from "../../../catalogue/model.js";
import { DCOS_ORIGIN, dcosZone } from "../dcos.js";
import type { ZonePart } from "../part.js";
import { NODES_PREFIX, parseLeaderNode, parseNodeFacts, parseTask, type NodeFacts } from "./inputs.js";

export interface DcosInputs {
  /** Every task of every source, by store key (records are sets: two sources of one task give one name). */
  readonly tasks: Map<string, Task>;
  readonly nodes: Map<string, NodeFacts>;
  leaderNode: string | undefined;
}

/** Folds one store event into the inputs; true when it changed them. */
export function foldDcos(inputs: DcosInputs, ev: WatchEvent): boolean {
  const { key } = ev;
  if (key.startsWith(TASKS_PREFIX)) {
    const task = parseTask(ev.value);
    if (task) inputs.tasks.set(key, task);
    else if (!inputs.tasks.delete(key)) return false;
    return true;
  }
  if (key.startsWith(NODES_PREFIX)) {
    const facts = parseNodeFacts(ev.value);
    const id = key.slice(NODES_PREFIX.length);
    if (facts) inputs.nodes.set(id, facts);
    else if (!inputs.nodes.delete(id)) return false;
    return true;
  }
  if (key === LEADER_KEY) {
    inputs.leaderNode = parseLeaderNode(ev.value);
    return true;
  }
  return false;
}

export function dcosPart(): ZonePart<DcosInputs> {
  return {
    name: "dcos",
    origins: [DCOS_ORIGIN],
    watch: [TASKS_PREFIX, NODES_PREFIX, LEADER_KEY],
    init: () => ({ tasks: new Map(), nodes: new Map(), leaderNode: undefined }),
    fold: foldDcos,
    build(inputs, ctx) {
      const ipOf = (id: string | undefined) => (id ? inputs.nodes.get(id)?.ip : undefined);
      const masters = [...inputs.nodes.values()].filter((n) => n.roles.includes("master") && n.ip).map((n) => n.ip as string);
      const leader = ipOf(inputs.leaderNode);
      return [dcosZone({ tasks: [...inputs.tasks.values()], masters: [...new Set(masters)].sort(), ...(leader ? { leader } : {}) }, ctx.defaults)];
    },
  };
}
