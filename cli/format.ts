// Human-readable output for `dcnet ctl` that no single op owns: the one-line-per-node table of
// `--all`. Each op formats its own reply (`human`, `summary` in its declaration).
import { table, type NodeReply } from "../actors/admin/ops.js";

/** `dcnet ctl --all <op>`: node, outcome, and the op's one-line summary or the node's error. */
export function formatAll<R>(op: { summary(reply: R): string }, replies: ReadonlyArray<NodeReply<R>>): string {
  const rows = replies.map((r) => [r.node, r.ok ? "ok" : "error", r.ok && r.body !== undefined ? op.summary(r.body) : (r.error ?? "")]);
  return table(["NODE", "RESULT", "DETAIL"], rows);
}
