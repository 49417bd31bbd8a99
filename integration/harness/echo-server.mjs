// Test fixture run inside node containers and netns hosts: answers every HTTP request with
// "<name> <peer address>" and logs "<name> ready" once listening.
//   node echo-server.mjs NAME [PORT]
import http from "node:http";

const name = process.argv[2] ?? "node";
const port = Number(process.argv[3] ?? 8080);
http
  .createServer((req, res) => res.end(`${name} ${req.socket.remoteAddress}\n`))
  .listen(port, "0.0.0.0", () => console.log(`${name} ready on ${port}`));
// Exit 0 on SIGTERM so a test can tell a graceful stop (0) from a kill (137).
process.on("SIGTERM", () => {
  console.log(`${name} stopping`);
  process.exit(0);
});
