// Human-readable output for `dcnet ctl`. A column table is a dozen lines; not worth a dependency.
import type { StatusBody, PongBody, OkBody, NodeReply, OpName, MembersBody, StateKeysBody, StateGetBody, TaskLsBody, VipLsBody, DnsRecordsBody, DnsLookupBody } from "../actors/admin/index.js";

export function table(headers: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join("  ")
      .trimEnd();
  return [line(headers), ...rows.map(line)].join("\n");
}

export function duration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${s % 60}s`;
  const h = Math.floor(m / 60);
  return h < 48 ? `${h}h${m % 60}m` : `${Math.floor(h / 24)}d${h % 24}h`;
}

export function formatPong(p: PongBody, rttMs: number): string {
  return `pong from ${p.node} (dcnet ${p.version}, up ${duration(p.uptimeMs)}) in ${rttMs.toFixed(2)} ms`;
}

export function formatStatus(s: StatusBody): string {
  const head = [
    `node ${s.node}  cluster ${s.cluster}  dcnet ${s.version}  pid ${s.pid}  up ${duration(s.uptimeMs)}  log ${s.logLevel}`,
    `nats ${s.nats.state}${s.nats.server ? ` ${s.nats.server}` : ""} since ${new Date(s.nats.since).toISOString()}`,
    "",
  ];
  const actors = table(
    ["ACTOR", "KIND", "STATUS", "RESTARTS", "UPTIME", "MAILBOX", "DROPPED", "LAST ERROR"],
    s.actors.map((a) => [a.path, a.kind, a.status, String(a.restarts), duration(a.uptimeMs), String(a.mailbox), String(a.dropped), a.lastError ? `${a.lastError.message} (${new Date(a.lastError.at).toISOString()})` : "-"]),
  );
  const gossip = s.gossip
    ? [
        "",
        `gossip: ${s.gossip.keys} keys, ${s.gossip.synced ? "synced" : "syncing"}; deltas out ${s.gossip.deltasOut} (${s.gossip.bytesOut} B) in ${s.gossip.deltasIn} (${s.gossip.bytesIn} B); repaired ${s.gossip.keysRepaired}; digests in ${s.gossip.digestsIn}; rejected ${s.gossip.rejected}`,
      ]
    : [];
  const rejected = s.rejected.length
    ? ["", table(["REJECTED KIND", "REASON", "COUNT"], s.rejected.map((r) => [r.kind, r.reason, String(r.count)]))]
    : [];
  return [...head, actors, ...gossip, ...rejected].join("\n");
}

export function formatOk(o: OkBody): string {
  return `${o.node}: ${o.message}`;
}

export function formatAll<O extends OpName>(op: O, replies: ReadonlyArray<NodeReply<O>>): string {
  const rows = replies.map((r) => [r.node, r.ok ? "ok" : "error", r.ok ? summary(op, r.body) : (r.error ?? "")]);
  return table(["NODE", "RESULT", "DETAIL"], rows);
}

function summary(op: OpName, body: unknown): string {
  if (op === "ping") {
    const p = body as PongBody;
    return `dcnet ${p.version}, up ${duration(p.uptimeMs)}`;
  }
  if (op === "members") return (body as MembersBody).members.map((m) => `${m.node}:${m.state}`).join(" ");
  if (op === "state-keys") return `${(body as StateKeysBody).keys.length} keys`;
  if (op === "state-get") return JSON.stringify((body as StateGetBody).value);
  if (op === "vip-ls") return `${(body as VipLsBody).vips.length} VIPs`;
  if (op === "task-ls") return `${(body as TaskLsBody).tasks.length} tasks`;
  if (op === "status") {
    const s = body as StatusBody;
    const restarts = s.actors.reduce((n, a) => n + a.restarts, 0);
    return `nats ${s.nats.state}, ${s.actors.length} actors, ${restarts} restarts, up ${duration(s.uptimeMs)}`;
  }
  return (body as OkBody).message;
}

export function formatMembers(m: MembersBody): string {
  const now = Date.now();
  return table(
    ["NODE", "STATE", "INCARNATION", "LAST HEARD", "SINCE"],
    m.members.map((x) => [x.self ? `${x.node} (self)` : x.node, x.state, String(x.incarnation), x.self ? "-" : `${duration(now - x.lastHeardAt)} ago`, duration(now - x.since)]),
  );
}

export function formatKeys(k: StateKeysBody): string {
  return k.keys.length ? k.keys.join("\n") : `(no keys on ${k.node})`;
}

export function formatGet(g: StateGetBody): string {
  return JSON.stringify(g.value, null, 2);
}

export function formatTasks(t: TaskLsBody): string {
  if (t.tasks.length === 0) return `(no tasks in the catalogue of ${t.node})`;
  return table(
    ["ID", "NAME", "FRAMEWORK", "OWNER", "STATE", "HEALTHY", "IPS", "PORTS"],
    t.tasks.map(({ owner, task }) => [
      task.id,
      task.name,
      task.framework,
      owner,
      task.state,
      task.healthy === undefined ? "-" : String(task.healthy),
      task.taskIps.join(","),
      task.ports.map((p) => `${p.name}:${p.port ?? "-"}/${p.hostPort ?? "-"}/${p.protocol}${p.vips.length ? ` vip=${p.vips.join("+")}` : ""}`).join(" "),
    ]),
  );
}

export function formatVips(v: VipLsBody): string {
  if (v.vips.length === 0) return `(no VIPs in the catalogue of ${v.node})`;
  const rows = v.vips.flatMap(({ vip, backends }) => backends.map((b, i) => [i === 0 ? vip : "", `${b.ip}:${b.port}`, String(b.weight), b.owner, b.taskId]));
  return table(["VIP", "BACKEND", "WEIGHT", "OWNER", "TASK"], rows);
}

/** Zone file presentation: `name. TTL IN TYPE data`, the way dig prints records. */
function zoneLines(rows: DnsRecordsBody["rows"]): string[] {
  return rows.map((r) => `${r.name.replace(/\.?$/, ".")}\t${r.ttl}\tIN\t${r.type}\t${r.data}`);
}

export function formatDnsRecords(d: DnsRecordsBody): string {
  if (d.rows.length === 0) return `(no records; zones on ${d.node}: ${d.zones.join(", ")})`;
  return zoneLines(d.rows).join("\n");
}

export function formatDnsLookup(d: DnsLookupBody): string {
  const section = (title: string, rows: DnsLookupBody["answers"]) => (rows.length ? [`;; ${title}`, ...zoneLines(rows)] : []);
  return [
    `;; ${d.rcode}${d.flags.length ? ` (${d.flags.join(" ")})` : ""} from ${d.server} on ${d.node} in ${d.ms} ms`,
    ...section("ANSWER", d.answers),
    ...section("AUTHORITY", d.authority),
    ...section("ADDITIONAL", d.additional),
  ].join("\n");
}
