// Desired endpoints vs the slots HAProxy holds → the next slot tables and the Runtime API commands
// that get there without a reload. An endpoint keeps its slot while it exists (stable server ids);
// a new one takes the lowest free slot; a gone one frees its slot (maintenance). A killing or
// unhealthy task's slot is drained at once: no new request goes to a task the scheduler is stopping
// (Marathon-LB #129). A backend that outgrows its slots gets twice as many, which changes the
// structure: the caller reloads once, with the file carrying every slot's contents.
import type { Endpoint, EdgeModel } from "./types.js";
import type { Slots } from "./render.js";

export interface Plan {
  readonly slots: Slots;
  /** Runtime API commands, for backends whose slot count did not change; in order. */
  readonly cmds: readonly string[];
  /** Backends whose slot count grew (a reload carries them). */
  readonly grown: readonly string[];
}

function size(n: number, min: number): number {
  let k = Math.max(1, min);
  while (k < n) k *= 2;
  return k;
}

export function plan(model: EdgeModel, current: Slots, minSlots: number): Plan {
  const next = new Map<string, (Endpoint | undefined)[]>();
  const cmds: string[] = [];
  const grown: string[] = [];
  for (const b of model.backends) {
    const prev = current.get(b.name);
    const want = new Map(b.endpoints.map((e) => [e.id, e]));
    const k = prev && prev.length >= want.size ? prev.length : size(want.size, Math.max(minSlots, prev?.length ?? 0));
    if (prev && k !== prev.length) grown.push(b.name);
    const table: (Endpoint | undefined)[] = new Array<Endpoint | undefined>(k).fill(undefined);
    const placed = new Set<string>();
    prev?.forEach((e, i) => {
      if (e && want.has(e.id) && i < k) {
        table[i] = want.get(e.id);
        placed.add(e.id);
      }
    });
    let free = 0;
    for (const e of b.endpoints) {
      if (placed.has(e.id)) continue;
      while (table[free] !== undefined) free++;
      table[free] = e;
    }
    next.set(b.name, table);
    if (!prev || prev.length !== k) continue;
    // Removals and drains first, so capacity is never over-promised; then additions and moves.
    const adds: string[] = [];
    table.forEach((e, i) => {
      const was = prev[i];
      const srv = `${b.name}/s${i + 1}`;
      if (!e) {
        if (was) cmds.push(`set server ${srv} state maint`);
        return;
      }
      const moved = !was || was.id !== e.id || was.addr !== e.addr || was.port !== e.port;
      if (moved) {
        if (was) cmds.push(`set server ${srv} state maint`);
        adds.push(`set server ${srv} addr ${e.addr} port ${e.port}`, `set server ${srv} state ${e.state}`);
      } else if (was.state !== e.state) (e.state === "drain" ? cmds : adds).push(`set server ${srv} state ${e.state}`);
    });
    cmds.push(...adds);
  }
  return { slots: next, cmds, grown };
}

