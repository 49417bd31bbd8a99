// One plugin call, environment and stdin in, what the plugin prints and its exit code out: what
// main.ts does as a process, and what the node's CNI socket does for the compiled front end
// (native/cni-shim/), so both answer a call the same way.
import { isObject, LATEST_VERSION, parseRequest, SUPPORTED_VERSIONS } from "./config.js";
import { toErrorObject } from "./errors.js";
import { handle, systemKernel } from "./plugin.js";
import { systemRun, type Run } from "./run.js";

export interface CallOutcome {
  readonly exit: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** `stdin` is read only when the request needs it (parseRequest's order of checks). */
export async function pluginCall(env: NodeJS.ProcessEnv, stdin: () => string, run: Run = systemRun()): Promise<CallOutcome> {
  let text: string | undefined;
  const read = (): string => (text = stdin());
  try {
    const out = await handle(parseRequest(env, read), systemKernel(run));
    return { exit: 0, stdout: out ? `${JSON.stringify(out)}\n` : "", stderr: "" };
  } catch (e) {
    const err = toErrorObject(e, versionInUse(text));
    const usage = env.CNI_COMMAND ? "" : `dcnet-cni: the CNI plugin of dcnet; CNI protocol versions supported: ${SUPPORTED_VERSIONS.join(", ")}\n`;
    return { exit: 1, stdout: `${JSON.stringify(err)}\n`, stderr: `dcnet-cni: ${err.msg}${err.details ? ` (${err.details.split("\n")[0]})` : ""}\n${usage}` };
  }
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
