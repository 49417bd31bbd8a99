// The resolver host actor with its tools faked (no kernel): which addresses it puts on lo, which it
// leaves alone, how it names a port-53 holder, and what it removes at stop.
import { describe, expect, it } from "@jest/globals";
import pino from "pino";
import { Registry } from "prom-client";
import type { ActorContext, ActorRef } from "../../../supervisors/index.js";
import { validateConfig } from "../../node/config.js";
import type { DnsListenerMsg } from "../listen/listener.js";
import { resolverHostBehaviour, type ResolverHostMsg, type ResolverHostStatus, type ResolverListener } from "./resolver-host.actor.js";

const IP_JSON = JSON.stringify([
  { ifname: "lo", addr_info: [{ local: "127.0.0.1", prefixlen: 8, label: "lo" }, { local: "198.51.100.2", prefixlen: 32, label: "lo:dcnet" }] },
  { ifname: "eth0", addr_info: [{ local: "198.51.100.3", prefixlen: 24, label: "eth0" }] },
]);
const SS = 'UNCONN 0 0 198.51.100.2:53 0.0.0.0:* users:(("dnsmasq",pid=977,fd=4))';

function fakeRun(calls: string[][]) {
  return async (argv: readonly string[]) => {
    calls.push([...argv]);
    const ok = (stdout = "") => ({ code: 0, stdout, stderr: "", timedOut: false });
    if (argv.join(" ") === "ip -j addr show") return ok(IP_JSON);
    if (argv[0] === "ss") return ok(SS);
    if (argv.includes("198.51.100.4/32") && argv.includes("add")) return { code: 2, stdout: "", stderr: "RTNETLINK answers: Operation not permitted", timedOut: false };
    return ok();
  };
}

function listener(address: string, transport: "udp" | "tcp", bound: string): ResolverListener {
  const ref = { ask: async () => bound } as unknown as ActorRef<DnsListenerMsg>;
  return { address, transport, ref: () => ref };
}

describe("resolver host actor", () => {
  it("adds the missing addresses, keeps its own, leaves a conflicting one, reports a refused one and a taken port, removes only its own at stop", async () => {
    const dns = validateConfig({ id: "n1", dns: { resolver: { enabled: true, addresses: ["198.51.100.1", "198.51.100.2", "198.51.100.3", "198.51.100.4"] } } }).dns;
    const calls: string[][] = [];
    const metrics = new Registry();
    const listeners = [listener("198.51.100.1:53", "udp", "198.51.100.1:53"), listener("198.51.100.1:53", "tcp", "198.51.100.1:53"), listener("198.51.100.2:53", "udp", ""), listener("198.51.100.2:53", "tcp", "198.51.100.2:53")];
    const b = resolverHostBehaviour({ dns, listeners, logger: pino({ level: "silent" }), metrics, run: fakeRun(calls) });
    const ctx = { self: { tell: () => undefined } } as unknown as ActorContext<ResolverHostMsg>;
    let s = await b.init(ctx);
    s = await b.handle(s, { type: "check" }, ctx);
    let status: ResolverHostStatus | undefined;
    await b.handle(s, { type: "status", reply: (r) => (status = r) }, ctx);
    expect(status?.addresses.map((a) => [a.address, a.state, a.udp, a.tcp])).toEqual([
      ["198.51.100.1", "added", true, true],
      ["198.51.100.2", "owned", false, true],
      ["198.51.100.3", "conflict", false, false],
      ["198.51.100.4", "failed", false, false],
    ]);
    expect(status?.addresses[1]?.problem).toContain("port 53/udp on resolver address 198.51.100.2 is taken by dnsmasq (pid 977)");
    expect(status?.addresses[2]?.detail).toContain("198.51.100.3 is already on eth0 (/24)");
    expect(status?.addresses[3]?.detail).toContain("Operation not permitted");
    expect(status?.resolvConf.state).toBe("off");
    expect(calls.filter((c) => c.includes("add")).map((c) => c[3])).toEqual(["198.51.100.1/32", "198.51.100.4/32"]);
    const problems = (await metrics.getSingleMetric("dcnet_dns_resolver_problems_total")?.get())?.values.map((v) => [v.labels.reason, v.value]);
    expect(problems).toEqual(expect.arrayContaining([["address-conflict", 1], ["address-failed", 1], ["port-taken", 1]]));
    // a second check while the port is still taken reports nothing new
    s = await b.handle(s, { type: "check" }, ctx);
    expect((await metrics.getSingleMetric("dcnet_dns_resolver_problems_total")?.get())?.values.find((v) => v.labels.reason === "port-taken")?.value).toBe(1);
    calls.length = 0;
    await b.terminate?.(s, "shutdown" as never, ctx);
    expect(calls.map((c) => c.join(" "))).toEqual(["ip addr del 198.51.100.1/32 dev lo", "ip addr del 198.51.100.2/32 dev lo"]);
  });
});
