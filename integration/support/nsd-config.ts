// The nsd.conf of a private NSD (Debian nsd) serving one zone file from `dir`: no chroot, no user
// switch, every state file in `dir`, one server process, no remote control. Shared by the Zonemaster
// conformance test (integration/support/zonemaster.ts) and the DNS bench's reference servers (bench/dns-refs.ts).
export function nsdConfig(o: { readonly dir: string; readonly addresses: readonly string[]; readonly port: number; readonly zone: string }): string {
  const { dir } = o;
  return [
    "server:",
    ...o.addresses.map((ip) => `  ip-address: ${ip}`),
    `  port: ${o.port}`,
    '  username: ""',
    '  chroot: ""',
    '  database: ""',
    `  zonesdir: "${dir}"`,
    `  pidfile: "${dir}/nsd.pid"`,
    `  xfrdfile: "${dir}/xfrd.state"`,
    `  xfrdir: "${dir}"`,
    `  zonelistfile: "${dir}/zone.list"`,
    `  cookie-secret-file: "${dir}/cookie"`,
    "  server-count: 1",
    "  verbosity: 0",
    "  hide-version: yes",
    "remote-control:",
    "  control-enable: no",
    "zone:",
    `  name: "${o.zone}"`,
    `  zonefile: "${dir}/zone"`,
    "",
  ].join("\n");
}
