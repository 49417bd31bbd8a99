// The mesos-records actor's worker thread: one readMesosRecords per request (mesos-records.read.ts).
import { serveThread } from "../../../supervisors/thread.js";
import { readMesosRecords, type ReadOutcome, type ReadRequest } from "./read.js";

serveThread<ReadRequest, ReadOutcome>(readMesosRecords);
