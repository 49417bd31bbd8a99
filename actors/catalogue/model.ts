// The one normalised shape of a task, whatever its source (Mesos Operator API, Mesos agent state,
// native registration over NATS). DNS and the L4LB read only this (through the catalogue).
//
// It is also the catalogue's pure door (actors/README.md): other subsystems' pure code (DNS zones, the
// coming L4LB renderer) takes the task vocabulary from here without loading the catalogue's runtime.
import { z } from "zod";

export { TASKS_PREFIX, LEADER_KEY, sourcePrefix } from "./keys.js";
export { dcosLabel, dcosDomainFrag } from "./convert/labels.js";
export { vipKeyFromString, vipKeyString, vipDnsName } from "./convert/vips.js";

const TASK_STATES = ["preparing", "running", "killing", "terminal"] as const;
export type TaskState = (typeof TASK_STATES)[number];

const PROTOCOLS = ["tcp", "udp"] as const;
export type Protocol = (typeof PROTOCOLS)[number];

/**
 * The version of the task record this code writes and fully understands. A record without `v` is
 * version 1 (every record written before versions existed); writers stamp `v` from version 2 on.
 * The compatibility rule (README.md, "Task records across versions"): add optional fields freely,
 * never change a field's meaning, bump this when a field is added.
 */
export const TASK_RECORD_VERSION = 3;

const name = z.string().min(1).max(253);
const ip = z.union([z.ipv4(), z.ipv6()]);
const portNumber = z.number().int().min(1).max(65535);

const portFields = {
  /** Port name (Mesos discovery name; "default" when unnamed). */
  name: z.string().min(1).max(63),
  protocol: z.enum(PROTOCOLS),
  /** Port inside the task's network namespace (container port), when known. */
  port: portNumber.optional(),
  /** Port on the agent (host port), when mapped or on the host network. */
  hostPort: portNumber.optional(),
  /** Raw VIP labels on this port, e.g. "/myapp:80", "name:80", "11.1.1.1:80". */
  vips: z.array(z.string().min(3).max(300)).max(32),
  /**
   * Version 3. Marathon's service port of this port (the catalogue's Marathon source): the L7
   * edge's frontend port for it when HAPROXY_{n}_PORT is absent, as Marathon-LB.
   */
  servicePort: portNumber.optional(),
};

const taskFields = {
  /** Record version (TASK_RECORD_VERSION); absent = 1. */
  v: z.number().int().min(1).max(65535).optional(),
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
  /**
   * Version 2. The task's (Mesos: the app's and the task's) labels, e.g. Marathon-LB's `HAPROXY_*`:
   * what the L7 edge reads. Absent = none known.
   */
  labels: z.record(z.string().min(1).max(255), z.string().max(4096)).optional(),
  /**
   * Version 2. The container runtime's id of the task's container (Mesos ContainerID, the CNI
   * CNI_CONTAINERID). A node fills a registered task's taskIps from the dcnet-cni attachment of
   * this container on the same node, so a program need not know the address it will get.
   */
  containerId: z.string().min(1).max(255).optional(),
};

/**
 * A task record as readers take it from the store or a peer: every known field checked (a wrong
 * type is still an error naming the field), every unknown field — a newer writer's — accepted and
 * kept, on the task and on each port, so a record read, relayed or re-written is never stripped.
 */
const portSchema = z.looseObject(portFields);
export const taskSchema = z.looseObject({ ...taskFields, ports: z.array(portSchema).max(256) });

/**
 * A task as a client registers it (admin `task-add`): the same fields, but an unknown one is an
 * error naming it — in a hand-written registration it is a typo, not a newer node's field — and
 * the record may not claim a version this node does not write.
 */
export const taskRegistrationSchema = z.strictObject({
  ...taskFields,
  v: z.number().int().min(1).max(TASK_RECORD_VERSION, `record version newer than this node writes (${TASK_RECORD_VERSION})`).optional(),
  ports: z.array(z.strictObject(portFields)).max(256),
});

/** The known fields of a task. A record read with taskSchema may carry more (kept, not typed). */
export type Task = z.infer<typeof taskRegistrationSchema>;
export type TaskPort = Task["ports"][number];

/** A task record read at a border: the task, or why it was skipped (the first issue, naming its field). */
export type TaskRead =
  | { readonly ok: true; readonly task: Task; /** Written by a newer version (`v` > TASK_RECORD_VERSION). */ readonly newer: boolean }
  | { readonly ok: false; readonly reason: string };

/**
 * Reads one task record (a store value, a peer's reply). Never throws. The task returned is `value`
 * itself, checked, not zod's copy: taskSchema only checks (no defaults, no transforms, unknown
 * fields kept), so the copy would be equal field for field, and every reader of a store key — the
 * VIP view, the DNS zone, the edge — then shares the store's one record instead of holding its own
 * (30,000 tasks: ~10 MB per copy). Records are values: no reader changes one.
 */
export function readTask(value: unknown): TaskRead {
  const r = taskSchema.safeParse(value);
  if (!r.success) return { ok: false, reason: issueText(r.error.issues) };
  return { ok: true, task: value as Task, newer: (r.data.v ?? 1) > TASK_RECORD_VERSION };
}

/** `ports.0.protocol: Invalid option: expected one of "tcp"|"udp"` — the field first, then zod's words. */
export function issueText(issues: readonly z.core.$ZodIssue[]): string {
  return issues.map((i) => `${i.path.length > 0 ? i.path.join(".") : "(task)"}: ${i.message}`).join("; ");
}

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
  /**
   * For a host-port backend of a task with its own container IP (bridge mode): the container's
   * address and port. The node running the task programs this instead of agentIp:hostPort, because
   * a connection the L4LB has already DNATed is not DNATed again by the port mapping
   * (DCOS_OSS-2070: a VIP unreachable from the task's own agent).
   */
  readonly direct?: { readonly ip: string; readonly port: number };
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
