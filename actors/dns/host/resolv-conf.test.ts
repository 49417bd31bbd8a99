import { describe, expect, it } from "@jest/globals";
import { DCNET_MARK, parseResolvConf, renderResolvConf, searchList, upstreamsFrom } from "./resolv-conf.js";

describe("resolv.conf", () => {
  it("reads nameservers, the last search/domain line and options, as glibc", () => {
    const conf = parseResolvConf(["# comment", "domain old.example", "nameserver 10.0.0.2 # main", "nameserver fe80::1%eth0", "; other", "search a.example b.example", "options ndots:2 timeout:1", "options rotate", "nameserver 2001:db8::53", "sortlist 10.0.0.0"].join("\n"));
    expect(conf).toEqual({ nameservers: ["10.0.0.2", "fe80::1%eth0", "2001:db8::53"], search: ["a.example", "b.example"], options: ["ndots:2", "timeout:1", "rotate"] });
  });

  it("the host's resolvers become upstreams without the node's own addresses, zone-scoped ones or duplicates", () => {
    const conf = parseResolvConf("nameserver 198.51.100.1\nnameserver 10.0.0.2\nnameserver 10.0.0.2\nnameserver fe80::1%eth0\nnameserver 2001:db8::53\nnameserver bogus\n");
    expect(upstreamsFrom(conf, ["198.51.100.1", "198.51.100.2"])).toEqual(["10.0.0.2", "[2001:db8::53]:53"]);
  });

  it("renders at most 3 nameservers (glibc MAXNS), search and options, marked as dcnet's with the backup named", () => {
    const text = renderResolvConf({ nameservers: ["198.51.100.1", "198.51.100.2", "198.51.100.3", "198.51.100.4"], search: ["marathon.l4lb.thisdcos.directory", "corp.example"], options: ["timeout:1"], backupPath: "/etc/resolv.conf.dcnet-backup" });
    expect(text.startsWith(DCNET_MARK)).toBe(true);
    expect(text).toContain("/etc/resolv.conf.dcnet-backup");
    expect(parseResolvConf(text)).toEqual({ nameservers: ["198.51.100.1", "198.51.100.2", "198.51.100.3"], search: ["marathon.l4lb.thisdcos.directory", "corp.example"], options: ["timeout:1"] });
    expect(renderResolvConf({ nameservers: ["198.51.100.1"], search: [], options: [], backupPath: "/b" })).not.toMatch(/^(search|options)/m);
  });

  it("search: configured domains first, then the host's (unless told not to keep them), each once", () => {
    expect(searchList(["a.example"], ["corp.example", "a.example"], true)).toEqual(["a.example", "corp.example"]);
    expect(searchList(["a.example"], ["corp.example"], false)).toEqual(["a.example"]);
  });
});
