// `dcnet-cni`, the CNI plugin's entry (bin/dcnet-cni.js runs its bundle): environment and stdin in,
// the result (or the spec's error object) on stdout, exit 0 or 1. A container runtime starts it once
// per container start, so it loads only this folder and builtins: no zod, NATS, nact or logger.
import { readFileSync } from "node:fs";
import { pluginCall } from "./call.js";
import { CniIoError } from "./errors.js";

const out = await pluginCall(process.env, () => {
  try {
    return readFileSync(0, "utf8");
  } catch (e) {
    throw new CniIoError("error reading the network config from stdin", e instanceof Error ? e.message : String(e));
  }
});
if (out.stdout) process.stdout.write(out.stdout);
if (out.stderr) process.stderr.write(out.stderr);
process.exitCode = out.exit;
