import { describe, expect, it } from "@jest/globals";
import { pluginCall } from "./call.js";

describe("pluginCall (the process and the node's socket answer alike)", () => {
  it("VERSION: the versions it speaks, exit 0", async () => {
    const r = await pluginCall({ CNI_COMMAND: "VERSION" }, () => '{"cniVersion":"1.0.0"}');
    expect(r.exit).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ cniVersion: "1.0.0", supportedVersions: expect.arrayContaining(["1.0.0"]) });
  });

  it("bad input: the spec's error object on stdout in the config's version, a line on stderr, exit 1", async () => {
    const r = await pluginCall({ CNI_COMMAND: "ADD" }, () => "{not json");
    expect(r.exit).toBe(1);
    expect(JSON.parse(r.stdout)).toMatchObject({ code: expect.any(Number), msg: expect.any(String) });
    expect(r.stderr).toMatch(/^dcnet-cni: /);
    const noCommand = await pluginCall({}, () => "{}");
    expect(noCommand.stderr).toMatch(/protocol versions supported/);
  });
});
