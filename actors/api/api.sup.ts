// The API subtree: one server actor. Specs only (actors/README.md).
import { supervisor, worker, type ActorRef, type SupervisorSpec } from "../../supervisors/index.js";
import type { Config } from "../../config/index.js";
import type { Logger } from "pino";
import type { Registry } from "prom-client";
import { apiHttpBehaviour } from "./http.actor.js";

export const API = "api";

export interface ApiDeps {
  readonly config: Config;
  readonly version: string;
  readonly metrics: Registry;
  readonly child: (name: string) => Logger;
  readonly lookup: <M>(path: string) => ActorRef<M> | undefined;
}

export function apiTreeSpec(deps: ApiDeps): SupervisorSpec {
  return supervisor(API, "one_for_one", [
    worker("http", apiHttpBehaviour({ config: deps.config, version: deps.version, registry: deps.metrics, logger: deps.child("api-http"), lookup: deps.lookup }), { shutdownMs: 2000 }),
  ]);
}
