// A worker thread for thread.test.ts: echoes, fails on request, or dies.
import { serveThread } from "../supervisors/thread.js";

export type TestRequest = { readonly op: "echo"; readonly value: string } | { readonly op: "fail" } | { readonly op: "die" } | { readonly op: "hang" };

serveThread<TestRequest, string>(async (req) => {
  switch (req.op) {
    case "echo":
      return `echo:${req.value}`;
    case "fail":
      throw new Error("asked to fail");
    case "die":
      process.exit(3);
      return "";
    case "hang":
      return new Promise<string>(() => undefined);
  }
});
