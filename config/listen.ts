// Listen addresses as the config writes them (`ip:port`, `[ip6]:port`): their schema (shared by every
// section that opens a listener), split for net/dgram/http, and formatted back from a bound socket's
// address() (which has the real port when 0 was asked).
import { z } from "zod";

/** `ip:port` or `[ip6]:port`, for a section's listener keys. */
export const listenAddress = z.string().regex(/^(\d{1,3}(\.\d{1,3}){3}|\[[0-9A-Fa-f:.]+\]):\d{1,5}$/, "ip:port or [ipv6]:port");

export function splitListen(listen: string): { host: string; port: number } {
  const at = listen.lastIndexOf(":");
  const host = listen.slice(0, at).replace(/^\[(.*)\]$/, "$1");
  return { host, port: Number(listen.slice(at + 1)) };
}

export function formatAddress(a: { address: string; family: string; port: number }): string {
  return `${a.family === "IPv6" ? `[${a.address}]` : a.address}:${a.port}`;
}
