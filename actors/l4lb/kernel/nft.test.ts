import { describe, it, expect } from "@jest/globals";
import { NftMissingError, NftOutputError, NftRejectedError, NftTimeoutError } from "../errors.js";
import { nftApply, nftBackendsInUse, nftListTable, nftPlan } from "./nft.js";

// No kernel here: `sh -c SCRIPT nft` stands in for nft (the renderer's args arrive as $1, $2, …),
// so each failure nft can show is reproduced exactly. The real nft runs in integration/l4lb-kernel.test.ts.
const fake = (script: string) => ({ command: ["sh", "-c", script, "nft"] });

describe("nftApply", () => {
  it("feeds the transaction on stdin to `nft -f -`", async () => {
    await expect(nftApply("add table ip t\n", fake('[ "$1 $2" = "-f -" ] && [ "$(cat)" = "add table ip t" ]'))).resolves.toBeUndefined();
  });

  it("a refused transaction is NftRejectedError carrying nft's first lines", async () => {
    const err = await nftApply("x", fake('cat >/dev/null; printf "Error: Could not process rule: File exists\\nadd element ip dcnet-l4lb vips { 11.0.0.1 . tcp . 80 : goto nb-1 }\\n   ^^^^\\nmore\\n" >&2; exit 1')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NftRejectedError);
    expect(err).toMatchObject({ code: "DCNET_E_L4LB_NFT_REJECTED", exitCode: 1 });
    expect((err as Error).message).toBe("nft exited 1: Error: Could not process rule: File exists / add element ip dcnet-l4lb vips { 11.0.0.1 . tcp . 80 : goto nb-1 } / ^^^^");
  });

  it("a missing binary is NftMissingError saying to install nftables, run directly or through ip netns exec", async () => {
    const direct = await nftApply("x", { command: ["/nonexistent/nft"] }).catch((e: unknown) => e);
    expect(direct).toBeInstanceOf(NftMissingError);
    expect((direct as Error).message).toMatch(/\/nonexistent\/nft cannot be run .*install nftables/);
    const wrapped = await nftApply("x", fake('echo \'exec of "nft" failed: No such file or directory\' >&2; exit 255')).catch((e: unknown) => e);
    expect(wrapped).toMatchObject({ code: "DCNET_E_L4LB_NFT_MISSING" });
  });

  it("a hung nft is killed at the deadline: NftTimeoutError", async () => {
    const t0 = Date.now();
    const err = await nftApply("x", { ...fake("sleep 5"), timeoutMs: 200 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NftTimeoutError);
    expect(Date.now() - t0).toBeLessThan(4_000);
  });
});

describe("nftListTable", () => {
  it("runs `nft -j list table <family> <table>` and parses the JSON", async () => {
    const json = await nftListTable("ip6", "dcnet-l4lb", fake('[ "$*" = "-j list table ip6 dcnet-l4lb" ] && echo \'{"nftables":[{"table":{"family":"ip6"}}]}\''));
    expect(json).toEqual({ nftables: [{ table: { family: "ip6" } }] });
  });

  it("an absent table is undefined, not an error", async () => {
    await expect(nftListTable("ip", "dcnet-l4lb", fake("echo 'Error: No such file or directory' >&2; exit 1"))).resolves.toBeUndefined();
  });

  it("output that is not JSON is NftOutputError; other failures NftRejectedError", async () => {
    await expect(nftListTable("ip", "t", fake("echo '{\"nftables\": ['"))).rejects.toBeInstanceOf(NftOutputError);
    await expect(nftListTable("ip", "t", fake("echo 'Error: Operation not permitted' >&2; exit 1"))).rejects.toMatchObject({ code: "DCNET_E_L4LB_NFT_REJECTED" });
  });
});

describe("backend choice", () => {
  it("auto, plain nft: transactions in process first, read-backs through the binary first, each falling back to the other", () => {
    expect(nftPlan("apply", {})).toEqual(["lib", "cli"]);
    expect(nftPlan("apply", { command: ["nft"], backend: "auto" })).toEqual(["lib", "cli"]);
    expect(nftPlan("list", { command: ["nft"] })).toEqual(["cli", "lib"]);
  });

  it("auto with a prefix or another binary runs that command only", () => {
    expect(nftPlan("apply", { command: ["ip", "netns", "exec", "ns1", "nft"] })).toEqual(["cli"]);
    expect(nftPlan("apply", { command: ["/opt/nft-wrapper"] })).toEqual(["cli"]);
    expect(nftPlan("list", { command: ["/opt/nft-wrapper"] })).toEqual(["cli"]);
  });

  it("lib is in process only, for any binary name, but never with a prefix: the library cannot follow `ip netns exec`", () => {
    expect(nftPlan("apply", { backend: "lib", command: ["/usr/sbin/nft"] })).toEqual(["lib"]);
    expect(nftPlan("list", { backend: "lib" })).toEqual(["lib"]);
    expect(nftPlan("apply", { backend: "lib", command: ["ip", "netns", "exec", "ns1", "nft"] })).toEqual(["cli"]);
    expect(nftPlan("list", { backend: "cli" })).toEqual(["cli"]);
  });

  it("says which backend answers each verb; a prefix never loads the library", async () => {
    await expect(nftBackendsInUse({ command: ["ip", "netns", "exec", "ns1", "nft"], backend: "lib" })).resolves.toEqual({ apply: "cli", list: "cli" });
    await expect(nftBackendsInUse({ backend: "cli" })).resolves.toEqual({ apply: "cli", list: "cli" });
  });

  it("a prefixed command runs the command even when lib is asked for", async () => {
    await expect(nftApply("add table ip t\n", { ...fake('[ "$1 $2" = "-f -" ] && [ "$(cat)" = "add table ip t" ]'), backend: "lib" })).resolves.toBeUndefined();
  });
});
