// Listen addresses as the config writes them (`ip:port`, `[ip6]:port`), split for net/dgram/http,
// and formatted back from a bound socket's address() (which has the real port when 0 was asked).
export function splitListen(listen: string): { host: string; port: number } {
  const at = listen.lastIndexOf(":");
  const host = listen.slice(0, at).replace(/^\[(.*)\]$/, "$1");
  return { host, port: Number(listen.slice(at + 1)) };
}

export function formatAddress(a: { address: string; family: string; port: number }): string {
  return `${a.family === "IPv6" ? `[${a.address}]` : a.address}:${a.port}`;
}
