import { test, jest } from "@jest/globals";
import { NodeHost } from "../harness/node-host.js";
import { createTestNetwork } from "../harness/test-network.js";
jest.setTimeout(60_000);
test("failing start", async () => {
  const net = await createTestNetwork();
  try {
    await new NodeHost({ name: "bad", network: net.name, ip: net.ip(9), command: "echo boom >&2; exit 3" }).start();
  } catch (e) { console.log("MSG", (e as Error).message); }
  finally { await net.remove(); }
});
