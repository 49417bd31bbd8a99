// Public door of the catalogue (README.md): the subtree, the task model (its tolerant reader and
// record version) and its store keys, the store writer the sources share, the label mangling DNS
// and VIP names share, and the Mesos helpers the .mesos records source shares. Nothing else in
// catalogue/ may be imported from outside it (admin operations: ops.ts).
export { catalogueTreeSpec } from "./catalogue.sup.js";
export type { CatalogueDeps } from "./catalogue.sup.js";
export { taskSchema, readTask, TASK_RECORD_VERSION } from "./model.js";
export type { Task, TaskRead } from "./model.js";
export { TASKS_PREFIX, LEADER_KEY, sourcePrefix } from "./keys.js";
export { storeWriter, writeAll } from "./store-writer.js";
export { registrationsBehaviour } from "./registrations.actor.js";
export type { RegistrationMsg, RegistrationResult } from "./registrations.actor.js";
export type { VipsMsg, VipTable, VipsSubscriber } from "./vips.actor.js";
export { dcosLabel } from "./convert/labels.js";
export { backendsOf, vipTable, VipTableBuilder } from "./convert/vips.js";
export { mesosGetText } from "./mesos/stream.js";
export { encodeRecord } from "./mesos/recordio.js";
export { tasksFromMesosState } from "./convert/mesos-tasks.js";
export { applyEvent, EMPTY_STATE, mesosStateFromGetState } from "./convert/mesos-state.js";
export type { MesosState } from "./convert/mesos-state.js";
