#!/usr/bin/env node
// Installs what a fresh Debian machine lacks before `npm start` / `npm test`, so the README's two
// commands work as they are, and (re)builds dist/ when it is missing or older than the sources, so they
// never run stale code. Plain JavaScript on purpose: it runs before node_modules exists.
//   node scripts/ensure-deps.mjs          → npm packages + nats-server, openssl, g++/make/python3 (to launch a node)
//   node scripts/ensure-deps.mjs --test   → also docker.io, nftables, conntrack, iproute2, tini, dig/kdig, unbound, nsd, knot, zonemaster-cli, dnsperf, haproxy, wrk
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const forTests = process.argv.includes("--test");

const debian = [
  ["nats-server", ["/usr/sbin/nats-server", "/usr/bin/nats-server"]],
  // `dcnet up` makes its throwaway CA and certificates with it, `dcnet creds` the cluster's.
  ["openssl", ["/usr/bin/openssl"]],
  // npm ci builds native/udp-batch (the DNS server's batched UDP engine) with node-gyp.
  ["g++", ["/usr/bin/g++"]],
  ["make", ["/usr/bin/make"]],
  ["python3", ["/usr/bin/python3"]],
  ...(forTests
    ? [
        ["docker.io", ["/usr/sbin/dockerd", "/usr/bin/dockerd"]],
        ["nftables", ["/usr/sbin/nft"]],
        ["conntrack", ["/usr/sbin/conntrack"]],
        ["containernetworking-plugins", ["/usr/lib/cni/portmap"]],
        ["podman", ["/usr/bin/podman"]],
        ["iproute2", ["/usr/sbin/ip", "/usr/bin/ip"]],
        ["tini", ["/usr/bin/tini"]],
        ["dnsutils", ["/usr/bin/dig"]],
        ["knot-dnsutils", ["/usr/bin/kdig"]],
        ["unbound", ["/usr/sbin/unbound"]],
        ["dnsperf", ["/usr/bin/dnsperf"]],
        ["nsd", ["/usr/sbin/nsd"]],
        ["knot", ["/usr/sbin/knotd"]],
        ["zonemaster-cli", ["/usr/bin/zonemaster-cli"]],
        ["haproxy", ["/usr/sbin/haproxy"]],
        ["wrk", ["/usr/bin/wrk"]],
        // the image, compose and alert-rule tests (issue 15): a local Debian base, Debian's compose, promtool
        ["mmdebstrap", ["/usr/bin/mmdebstrap"]],
        ["docker-compose", ["/usr/bin/docker-compose"]],
        ["prometheus", ["/usr/bin/promtool"]],
      ]
    : []),
];

const missing = debian.filter(([, paths]) => !paths.some((p) => existsSync(p))).map(([pkg]) => pkg);
if (missing.length > 0) {
  if (process.getuid?.() !== 0) {
    console.error(`dcnet: missing Debian packages: ${missing.join(" ")}\n  install them with: sudo apt-get install -y ${missing.join(" ")}`);
    process.exit(1);
  }
  console.error(`dcnet: installing ${missing.join(" ")} (apt-get)`);
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  // The tests start their own dockerd and unbound: keep the packages from starting system services
  // (a system unbound would take port 53, a system dockerd its own docker0).
  const guard = "/usr/sbin/policy-rc.d";
  const guarded = !existsSync(guard);
  if (guarded) writeFileSync(guard, "#!/bin/sh\nexit 101\n", { mode: 0o755 });
  try {
    execFileSync("apt-get", ["update", "-q"], { stdio: "inherit", env });
    execFileSync("apt-get", ["install", "-y", "-q", "--no-install-recommends", ...missing], { stdio: "inherit", env });
  } finally {
    if (guarded) rmSync(guard, { force: true });
  }
}

// npm ci when node_modules is missing or older than the lockfile.
const lock = join(root, "package-lock.json");
const marker = join(root, "node_modules", ".package-lock.json");
if (!existsSync(marker) || (existsSync(lock) && statSync(lock).mtimeMs > statSync(marker).mtimeMs)) {
  console.error("dcnet: installing npm packages (npm ci)");
  const r = spawnSync("npm", ["ci", "--no-audit", "--no-fund"], { cwd: root, stdio: "inherit" });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

// The compiled build, when dist/ is missing or older than a source (scripts/ensure-build.mjs).
await import("./ensure-build.mjs");
