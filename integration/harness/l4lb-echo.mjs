// Test fixture for the L4LB lab (integration/support/l4lb-lab.ts): a backend that says who it is,
// so a client can count which backend a connection reached. Every listener binds 0.0.0.0 and ::
// separately (v6-only), so v4 peers show as 9.0.1.2, not ::ffff:9.0.1.2.
//   node l4lb-echo.mjs NAME [--tcp PORT] [--udp PORT] [--http PORT]
// TCP, line protocol: the client sends one line; "hold" → the server answers "NAME" and keeps the
//   connection, answering "NAME" to every further line; any other line → "NAME", then the server
//   closes (the server closes first, so TIME_WAIT stays on the backend, not on a looping client).
// UDP: every datagram is answered with "NAME".
// HTTP: every request is answered "NAME <peer address>" (the shape of echo-server.mjs), for ab/wrk.
// Prints one JSON line {"ready":true,...} once every listener is bound.
import dgram from "node:dgram";
import http from "node:http";
import net from "node:net";

const name = process.argv[2];
if (!name || name.startsWith("--")) {
  console.error("usage: l4lb-echo.mjs NAME [--tcp PORT] [--udp PORT] [--http PORT]");
  process.exit(2);
}
const opt = (flag) => {
  const i = process.argv.indexOf(flag);
  return i > 0 ? Number(process.argv[i + 1]) : undefined;
};
const ports = { tcp: opt("--tcp"), udp: opt("--udp"), http: opt("--http") };
const reply = Buffer.from(`${name}\n`);
const listening = [];

function onTcp(sock) {
  sock.setNoDelay(true);
  sock.on("error", () => {}); // a client reset (or a conntrack flush) must not end the backend
  let buf = "";
  let held = false;
  sock.on("data", (d) => {
    buf += d.toString("utf8");
    for (let nl = buf.indexOf("\n"); nl >= 0; nl = buf.indexOf("\n")) {
      const line = buf.slice(0, nl).trim();
      buf = buf.slice(nl + 1);
      if (held) {
        sock.write(reply);
      } else if (line === "hold") {
        held = true;
        sock.write(reply);
      } else {
        sock.end(reply);
        return;
      }
    }
    if (buf.length > 4096) sock.destroy();
  });
}

function listenTcp(port, host) {
  return new Promise((resolve, reject) => {
    const srv = net.createServer(onTcp);
    srv.once("error", reject);
    srv.listen({ port, host, ipv6Only: host === "::", backlog: 1024 }, resolve);
  });
}

function listenUdp(port, type) {
  return new Promise((resolve, reject) => {
    const s = dgram.createSocket({ type, ipv6Only: type === "udp6" });
    s.on("message", (_m, peer) => s.send(reply, peer.port, peer.address));
    s.once("error", reject);
    s.bind(port, type === "udp6" ? "::" : "0.0.0.0", () => {
      s.removeListener("error", reject);
      s.on("error", () => {});
      resolve();
    });
  });
}

function listenHttp(port, host) {
  return new Promise((resolve, reject) => {
    const srv = http.createServer((req, res) => res.end(`${name} ${req.socket.remoteAddress}\n`));
    srv.keepAliveTimeout = 5000;
    srv.once("error", reject);
    srv.listen({ port, host, ipv6Only: host === "::", backlog: 1024 }, resolve);
  });
}

if (ports.tcp) listening.push(listenTcp(ports.tcp, "0.0.0.0"), listenTcp(ports.tcp, "::"));
if (ports.udp) listening.push(listenUdp(ports.udp, "udp4"), listenUdp(ports.udp, "udp6"));
if (ports.http) listening.push(listenHttp(ports.http, "0.0.0.0"), listenHttp(ports.http, "::"));
if (listening.length === 0) {
  console.error("l4lb-echo: give at least one of --tcp, --udp, --http");
  process.exit(2);
}
try {
  await Promise.all(listening);
} catch (e) {
  console.error(`l4lb-echo ${name}: ${e.message}`);
  process.exit(1);
}
console.log(JSON.stringify({ ready: true, name, pid: process.pid, ...ports }));
process.on("SIGTERM", () => process.exit(0));
