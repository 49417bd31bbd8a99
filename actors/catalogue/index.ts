// Public door of the catalogue (README.md): the subtree, the task model and its store keys, the VIP
// table's messages, and the Mesos helpers the .mesos records source shares. Nothing else in
// catalogue/ may be imported from outside it.
export { catalogueTreeSpec, CATALOGUE } from "./catalogue.sup.js";
export type { CatalogueDeps } from "./catalogue.sup.js";
export { taskSchema, TASK_STATES, PROTOCOLS } from "./model.js";
export type { Task, TaskPort, TaskState, Protocol, Backend, VipKey } from "./model.js";
export { TASKS_PREFIX, LEADER_KEY, TASK_SOURCES, taskKey, sourcePrefix, parseTaskKey } from "./keys.js";
export type { TaskSource } from "./keys.js";
export { storeWriter, writeAll } from "./store-writer.js";
export type { WriteFn } from "./store-writer.js";
export { registrationsBehaviour } from "./registrations.actor.js";
export type { RegistrationMsg, RegistrationResult } from "./registrations.actor.js";
export type { VipsMsg, VipTable } from "./vips.actor.js";
export { backendsOf, vipTable, vipDnsName } from "./vips.js";
export { mesosGetText } from "./mesos/stream.js";
export { encodeRecord } from "./mesos/recordio.js";
export { tasksFromMesosState } from "./mesos/convert.js";
export { applyEvent, EMPTY_STATE, mesosStateFromGetState } from "./mesos/state.js";
export type { MesosState } from "./mesos/state.js";
