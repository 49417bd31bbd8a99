// Install and restore against real files in a temp folder (the host's /etc is never touched).
import { afterEach, beforeEach, describe, expect, it } from "@jest/globals";
import { lstatSync, mkdtempSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync, existsSync, chmodSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { installResolvConf, previousHostFile, restoreResolvConf } from "./resolv-file.js";
import { DCNET_MARK } from "./resolv-conf.js";

const OURS = `${DCNET_MARK}\nnameserver 198.51.100.1\n`;

describe("resolv.conf install and restore", () => {
  let dir: string;
  let path: string;
  let backup: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "dcnet-resolv-"));
    path = join(dir, "resolv.conf");
    backup = `${path}.dcnet-backup`;
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("keeps the host's file (content and mode), installs ours, and puts the host's back on restore", async () => {
    writeFileSync(path, "nameserver 10.0.0.2\n", { mode: 0o640 });
    chmodSync(path, 0o640);
    expect(await installResolvConf(path, backup, OURS)).toEqual({ backedUp: true });
    expect(readFileSync(path, "utf8")).toBe(OURS);
    expect(readFileSync(backup, "utf8")).toBe("nameserver 10.0.0.2\n");
    expect(statSync(backup).mode & 0o777).toBe(0o640);
    expect(await previousHostFile(path, backup)).toBe("nameserver 10.0.0.2\n");
    expect(await restoreResolvConf(path, backup)).toBe("restored");
    expect(readFileSync(path, "utf8")).toBe("nameserver 10.0.0.2\n");
    expect(existsSync(backup)).toBe(false);
  });

  it("a symlinked resolv.conf comes back as the same symlink", async () => {
    writeFileSync(join(dir, "stub"), "nameserver 127.0.0.53\n");
    symlinkSync(join(dir, "stub"), path);
    await installResolvConf(path, backup, OURS);
    expect(lstatSync(path).isSymbolicLink()).toBe(false);
    expect(readFileSync(join(dir, "stub"), "utf8")).toBe("nameserver 127.0.0.53\n");
    await restoreResolvConf(path, backup);
    expect(readlinkSync(path)).toBe(join(dir, "stub"));
  });

  it("a backup left by a crashed run is the host's file: kept at the next install, not overwritten with ours", async () => {
    writeFileSync(path, "nameserver 10.0.0.2\n");
    await installResolvConf(path, backup, OURS);
    // crash: no restore; the next start installs again
    expect(await installResolvConf(path, backup, OURS)).toEqual({ backedUp: false });
    expect(await previousHostFile(path, backup)).toBe("nameserver 10.0.0.2\n");
    await restoreResolvConf(path, backup);
    expect(readFileSync(path, "utf8")).toBe("nameserver 10.0.0.2\n");
  });

  it("a file something else wrote meanwhile is left alone at restore; no file before means none after", async () => {
    writeFileSync(path, "nameserver 10.0.0.2\n");
    await installResolvConf(path, backup, OURS);
    writeFileSync(path, "nameserver 10.9.9.9\n"); // a DHCP client
    expect(await restoreResolvConf(path, backup)).toBe("kept-other");
    expect(readFileSync(path, "utf8")).toBe("nameserver 10.9.9.9\n");
    expect(existsSync(backup)).toBe(false);

    rmSync(path);
    await installResolvConf(path, backup, OURS);
    expect(await previousHostFile(path, backup)).toBe("");
    expect(await restoreResolvConf(path, backup)).toBe("restored");
    expect(existsSync(path)).toBe(false);
    expect(await restoreResolvConf(path, backup)).toBe("no-backup");
  });

  it("a folder that does not exist is a coded error naming the problem", async () => {
    const p = join(dir, "nope", "resolv.conf");
    await expect(installResolvConf(p, `${p}.b`, OURS)).rejects.toMatchObject({ code: "DCNET_E_DNS_RESOLV_CONF", problem: "missing-directory" });
  });
});
