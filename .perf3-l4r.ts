import { desiredState } from "./actors/l4lb/render/desired.ts";
import { backend as be, input } from "./actors/l4lb/render/testkit.ts";
const mk = (mode: string) => { const table = new Map<string, any[]>(); const addresses = new Map<string, string>();
for (let i = 0; i < 10_000; i++) { const b = [0, 1, 2].map((k) => be(`n${k}`, `10.77.${k}.1`, `9.${k}.${(i >> 8) & 255}.${i & 255}`, 8080));
  if (mode === "ip" || (mode === "mixed" && i % 2 === 0)) table.set(`tcp:11.${1 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}:80`, b);
  else { table.set(`tcp:/group/app-${i}:80@marathon`, b); addresses.set(`v4:groupapp-${i}.marathon`, `11.200.${(i >> 8) & 255}.${i & 255}`); } }
  return input({}, { table, addresses }); };
const time = (name: string, f: () => void) => { const r: number[] = []; const w: number[] = []; for (let k = 0; k < 25; k++) { const t0 = performance.now(); const c0 = process.cpuUsage(); f(); const c = process.cpuUsage(c0); w.push(performance.now() - t0); r.push((c.user + c.system) / 1000); } r.sort((a, b) => a - b); w.sort((a, b) => a - b); console.log(name, "cpu", r[12]!.toFixed(1), "wall", w[12]!.toFixed(1), "min wall", w[0]!.toFixed(1)); };
for (const m of ["ip", "named", "mixed"]) { const i = mk(m); time(m, () => desiredState(i)); }
