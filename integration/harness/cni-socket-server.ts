// The CNI socket without a node, for tests and the CNI bench: run inside a lab "host" namespace
// (`ip netns exec NS node --import tsx integration/harness/cni-socket-server.ts PATH`), it answers the
// compiled front end's calls as a node's overlay would. Prints "ready" once listening; SIGTERM stops it.
import { listenCniSocket } from "../../cli/cni/socket-server.js";

const path = process.argv[2];
if (!path) throw new Error("usage: cni-socket-server.ts SOCKET_PATH");
let calls = 0;
const server = await listenCniSocket(path, {
  onCall: (o) => {
    calls += 1;
    if (!o.ok) console.error(`call ${calls} not answered: ${o.reason}`);
  },
  onDeath: (err) => {
    console.error(`worker thread died: ${err.message}`);
    process.exit(1);
  },
});
console.log("ready");
process.on("SIGTERM", () => void server.close().then(() => process.exit(0)));
