// One SWIM membership instance in its own process (integration/membership.test.ts): the test
// SIGSTOPs it (a paused node) or tells it to load its own event loop (a slow node).
//   node --import tsx member-child.ts <nats-url> <cluster> <id> [<gossip settings as JSON>]
// IPC: → {type:"ready", incarnation} once started; ← {type:"load", forMs, busyMs, everyMs}.
import { startMember } from "../../testkit/gossip/members.js";

const [url, cluster, id, gossip] = process.argv.slice(2) as [string, string, string, string | undefined];
const member = await startMember(url, cluster, id, { detector: "swim", ...(gossip === undefined ? {} : (JSON.parse(gossip) as object)) });
process.send?.({ type: "ready", incarnation: member.incarnation });
process.on("message", (raw) => {
  const m = raw as { type: string; forMs: number; busyMs: number; everyMs: number };
  if (m.type !== "load") return;
  // Blocks the event loop busyMs out of every everyMs: what a node on a saturated machine sees.
  const end = Date.now() + m.forMs;
  const burn = setInterval(() => {
    const until = Date.now() + m.busyMs;
    while (Date.now() < until) {
      /* spin */
    }
    if (Date.now() >= end) {
      clearInterval(burn);
      process.send?.({ type: "loaded" });
    }
  }, m.everyMs);
});
process.on("disconnect", () => void member.stop().finally(() => process.exit(0)));
