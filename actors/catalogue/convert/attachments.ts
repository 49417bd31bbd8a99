// A registered task that names its container (`containerId`) takes its addresses from that container's
// dcnet-cni attachment on the registering node: the program registering it need not know the address
// the plugin will lease, and the record follows the container (ADD fills it, DEL empties it), so DNS's
// containerip names and the L4LB's container-path backends follow too.
import type { Task } from "../model.js";

/** The task as the store should hold it, given the node's attachments (containerId → addresses). */
export function withAttachment(task: Task, attachments: ReadonlyMap<string, readonly string[]>): Task {
  if (task.containerId === undefined) return task;
  return { ...task, taskIps: [...(attachments.get(task.containerId) ?? [])] };
}

/** Why a registration naming a container is refused, or undefined when it is fine. */
export function containerRegistrationProblem(task: Task, attachmentsKnown: boolean): string | undefined {
  if (task.containerId === undefined) return undefined;
  if (!attachmentsKnown) return "containerId needs the overlay on this node (overlay.enabled): the node fills taskIps from dcnet-cni's leases";
  if (task.taskIps.length > 0) return "taskIps must be empty when containerId is given: the node fills them from the container's dcnet-cni attachment";
  return undefined;
}
