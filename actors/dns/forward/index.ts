// Public surface of the forwarder: what the actor (../forwarder.actor.ts) and the query path (../listen/) use.
export { Forwarder, type ForwardEvent, type ForwardRequest, type ForwardResult } from "./forwarder.js";
