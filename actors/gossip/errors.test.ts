import { describe, expect, it } from "@jest/globals";
import { GossipError, MembershipUnavailableError, StoreUnavailableError, UpdateRefusedError, WrongResponderError } from "./errors.js";

describe("gossip errors", () => {
  it.each([
    [new StoreUnavailableError(), "StoreUnavailableError", "DCNET_E_STORE_UNAVAILABLE", "the gossip store is not running"],
    [new MembershipUnavailableError(), "MembershipUnavailableError", "DCNET_E_MEMBERSHIP_UNAVAILABLE", "the membership actor is not running"],
    [new UpdateRefusedError("tasks/a/native/x", "bad key: too long"), "UpdateRefusedError", "DCNET_E_STORE_UPDATE_REFUSED", "the gossip store refused the update of tasks/a/native/x: bad key: too long"],
    [new WrongResponderError("node-b", "node-c"), "WrongResponderError", "DCNET_E_GOSSIP_WRONG_RESPONDER", "bucket reply from node-c, but node-b was asked"],
  ])("%p has a name, a stable code and a message naming the case", (err, name, code, message) => {
    expect(err).toBeInstanceOf(GossipError);
    expect(err).toBeInstanceOf(Error);
    expect(err.name).toBe(name);
    expect(err.code).toBe(code);
    expect(err.message).toBe(message);
  });

  it("keeps what a caller needs besides the text", () => {
    const refused = new UpdateRefusedError("k", "why");
    expect([refused.key, refused.reason]).toEqual(["k", "why"]);
    const wrong = new WrongResponderError("asked", "answered");
    expect([wrong.asked, wrong.answered]).toEqual(["asked", "answered"]);
  });
});
