// The one normalised shape of a task, whatever its source (Mesos Operator API, Mesos agent state,
// native registration over NATS). DNS and the L4LB read only this (through the catalogue).
import { z } from "zod";

export const TASK_STATES = ["preparing", "running", "killing", "terminal"] as const;
export type TaskState = (typeof TASK_STATES)[number];

export const PROTOCOLS = ["tcp", "udp"] as const;
export type Protocol = (typeof PROTOCOLS)[number];

const name = z.string().min(1).max(253);
const ip = z.union([z.ipv4(), z.ipv6()]);
const portNumber = z.number().int().min(1).max(65535);

export const portSchema = z.strictObject({
  /** Port name (Mesos discovery name; "default" when unnamed). */
  name: z.string().min(1).max(63),
  protocol: z.enum(PROTOCOLS),
  /** Port inside the task's network namespace (container port), when known. */
  port: portNumber.optional(),
  /** Port on the agent (host port), when mapped or on the host network. */
  hostPort: portNumber.optional(),
  /** Raw VIP labels on this port, e.g. "/myapp:80", "name:80", "11.1.1.1:80". */
  vips: z.array(z.string().min(3).max(300)).max(32),
});
export type TaskPort = z.infer<typeof portSchema>;

export const taskSchema = z.strictObject({
  /** Unique within its source: Mesos "<framework-id>/<task-id>", or the registration id. */
  id: z.string().min(1).max(512),
  name,
  /** Mesos framework name (e.g. "marathon"), or the namespace of a native registration. */
  framework: name,
  /** "mesos" | "docker" for Mesos containerizers, "native" for NATS registrations, or free text. */
  runtime: z.string().min(1).max(32),
  /** IP of the agent/host running the task. */
  agentIp: ip,
  /** The task's own IPs (v4 and v6); equal to [agentIp] on the host network. */
  taskIps: z.array(ip).max(16),
  state: z.enum(TASK_STATES),
  /** undefined: no health check; false also while a defined check has no result yet. */
  healthy: z.boolean().optional(),
  ports: z.array(portSchema).max(256),
});
export type Task = z.infer<typeof taskSchema>;

/** One backend of a VIP as the catalogue publishes it. */
export interface Backend {
  /** Node (dcnet node id) that owns the fact. */
  readonly owner: string;
  readonly taskId: string;
  readonly agentIp: string;
  readonly ip: string;
  readonly port: number;
  /** 1 serving; 0 draining (killing or unhealthy: existing connections kept, no new ones). */
  readonly weight: 0 | 1;
}

/** A VIP key: protocol, the label's name part (or IP) and port, plus the framework for named VIPs. */
export interface VipKey {
  readonly protocol: Protocol;
  /** "/myapp" or "name" for named VIPs; an IP literal for IP VIPs. */
  readonly name: string;
  readonly port: number;
  readonly framework: string;
  readonly kind: "named" | "ip";
}
