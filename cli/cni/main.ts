// `dcnet-cni`, the CNI plugin's entry (bin/dcnet-cni.js runs its bundle): environment and stdin in,
// the result (or the spec's error object) on stdout, exit 0 or 1. A container runtime starts it once
// per container start, so it loads only this folder and builtins: no zod, NATS, nact or logger.
import { readFileSync } from "node:fs";
import { isObject, LATEST_VERSION, parseRequest, SUPPORTED_VERSIONS } from "./config.js";
import { CniIoError, toErrorObject } from "./errors.js";
import { handle, systemKernel } from "./plugin.js";
import { systemRun } from "./run.js";

let stdin: string | undefined;
const readStdin = (): string => {
  try {
    stdin = readFileSync(0, "utf8");
    return stdin;
  } catch (e) {
    throw new CniIoError("error reading the network config from stdin", e instanceof Error ? e.message : String(e));
  }
};

try {
  const out = handle(parseRequest(process.env, readStdin), systemKernel(systemRun()));
  if (out) process.stdout.write(`${JSON.stringify(out)}\n`);
} catch (e) {
  const err = toErrorObject(e, versionInUse(stdin));
  process.stdout.write(`${JSON.stringify(err)}\n`);
  process.stderr.write(`dcnet-cni: ${err.msg}${err.details ? ` (${err.details.split("\n")[0]})` : ""}\n`);
  if (!process.env.CNI_COMMAND) process.stderr.write(`dcnet-cni: the CNI plugin of dcnet; CNI protocol versions supported: ${SUPPORTED_VERSIONS.join(", ")}\n`);
  process.exitCode = 1;
}

/** The error object's cniVersion: the config's if this plugin speaks it, else the latest it does. */
function versionInUse(text: string | undefined): string {
  try {
    const v: unknown = text ? JSON.parse(text) : undefined;
    const said = isObject(v) ? v.cniVersion : undefined;
    return typeof said === "string" && (SUPPORTED_VERSIONS as readonly string[]).includes(said) ? said : LATEST_VERSION;
  } catch {
    return LATEST_VERSION;
  }
}
