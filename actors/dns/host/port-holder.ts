// Who holds port 53 on a resolver address when our listener cannot bind it: read from `ss -H -lnp`
// (iproute2), so the message names the other resolver (systemd-resolved, dnsmasq, unbound …) and
// its pid instead of a bare EADDRINUSE. Pure: the actor runs ss.

export interface PortHolder {
  /** The local address it listens on as ss prints it (`0.0.0.0:53`, `198.51.100.2:53`, `*:53`). */
  readonly local: string;
  readonly process?: string;
  readonly pid?: number;
}

/** The sockets in `ss -H -lnp` output that take `port` on `address` (bound to it, or to a wildcard). */
export function portHolders(ssOutput: string, address: string, port: number): PortHolder[] {
  const out: PortHolder[] = [];
  for (const line of ssOutput.split("\n")) {
    const cols = line.trim().split(/\s+/);
    // State Recv-Q Send-Q Local Peer [Process]
    const local = cols[3];
    if (!local) continue;
    const m = /^(.*):(\d+|\*)$/.exec(local);
    if (!m || m[2] !== String(port)) continue;
    const host = (m[1] ?? "").replace(/^\[|\]$/g, "").replace(/%.*$/, "");
    if (!(host === address || host === "*" || host === "0.0.0.0" || host === "::")) continue;
    const users = /users:\(\("([^"]+)",pid=(\d+)/.exec(line);
    out.push({ local, ...(users ? { process: users[1] as string, pid: Number(users[2]) } : {}) });
  }
  return out;
}

/** One line for the log: who holds it and what the operator can do. */
export function conflictAdvice(address: string, port: number, transport: "udp" | "tcp", holders: readonly PortHolder[]): string {
  const who = holders.length === 0 ? "another socket (not visible to this process; run `ss -lnp sport = :" + port + "` as root)" : holders.map((h) => `${h.process ?? "a process"}${h.pid ? ` (pid ${h.pid})` : ""} on ${h.local}`).join(", ");
  return `port ${port}/${transport} on resolver address ${address} is taken by ${who}. Stop that resolver, or make it listen only on its own addresses (dnsmasq: bind-interfaces or except-interface=lo; systemd-resolved: its stub is 127.0.0.53 only, DNSStubListenerExtra must not name ${address}), or remove ${address} from dns.resolver.addresses. dcnet serves the other addresses meanwhile and binds this one as soon as the port is free.`;
}
