// Taking over the `.mesos` publishing starts from what the store holds, encoded as a generated set
// is, so only names whose records differ are written again (issue 16: rewriting all of them made
// every change of publisher rebuild the `.mesos` zones on every node).
import { describe, expect, it } from "@jest/globals";
import type { ActorRef } from "../../../supervisors/index.js";
import type { KeyView, StoreMsg } from "../../gossip/index.js";
import { encodeRrs, mesosRecordsKey } from "../zones/parts/inputs.js";
import { existingNames } from "./mesos-records.actor.js";

function fakeStore(keys: Record<string, KeyView>): () => ActorRef<StoreMsg> {
  const ref = {
    ask: <T>(make: (reply: (v: T) => void) => StoreMsg): Promise<T> =>
      new Promise<T>((resolve) => {
        const msg = make(resolve as (v: T) => void) as StoreMsg & { prefix?: string; key?: string };
        if (msg.type === "keys") (resolve as (v: readonly string[]) => void)(Object.keys(keys).filter((k) => k.startsWith(msg.prefix ?? "")));
        else if (msg.type === "get") (resolve as (v: KeyView | undefined) => void)(keys[msg.key ?? ""]);
      }),
  };
  return () => ref as unknown as ActorRef<StoreMsg>;
}

describe("existingNames", () => {
  it("encodes each stored set the way a generated one is, so identical names compare equal; a malformed value never does", async () => {
    const generated = JSON.stringify(encodeRrs([{ name: "web.marathon.mesos", type: "A", value: "10.0.0.2" }, { name: "web.marathon.mesos", type: "A", value: "10.0.0.1" }]));
    const lww = (value: unknown) => ({ type: "lww", value, ts: 1, node: "a" }) as unknown as KeyView[string];
    const store = fakeStore({
      [mesosRecordsKey("web.marathon.mesos")]: { rrs: lww(JSON.parse(generated)) } as KeyView,
      [mesosRecordsKey("odd.marathon.mesos")]: { rrs: lww("not a list") } as KeyView,
      "tasks/other": { rrs: lww(["A 1.2.3.4"]) } as KeyView,
    });
    const names = await existingNames(store);
    expect([...names.keys()].sort()).toEqual(["odd.marathon.mesos", "web.marathon.mesos"]);
    expect(names.get("web.marathon.mesos")).toBe(generated);
    expect(names.get("odd.marathon.mesos")).toBe("");
  });
});
