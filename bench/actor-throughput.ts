// Messages/s through one supervised worker vs a bare nact actor, same message count, same process,
// rounds alternating which goes first. Run: npx tsx bench/actor-throughput.ts [messages] [rounds]
// The ratio is the median of per-round ratios (each round runs both back to back), which cancels
// most of the drift from other load on the machine. The last line is the figure (target >= 0.8).
import nact from "nact";
import { startTree, supervisor, worker, type Behaviour } from "../supervisors/index.js";

const MESSAGES = Number(process.argv[2] ?? 200_000);
const ROUNDS = Number(process.argv[3] ?? 7);
const ROUND_LIMIT_MS = 30_000;
const MSG = { type: "inc" } as const;
type Msg = typeof MSG;
type Mode = "sync" | "async";

/** Counts to `n` and resolves `finished`; the same handler body for both contenders. */
function counter(n: number, mode: Mode) {
  let finish!: () => void;
  const finished = new Promise<void>((r) => (finish = r));
  const step = (count: number): number => {
    const next = count + 1;
    if (next === n) finish();
    return next;
  };
  const handle = mode === "sync" ? step : async (count: number) => step(count);
  return { finished, handle };
}

async function bounded(work: Promise<void>, what: string): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: round exceeded ${ROUND_LIMIT_MS} ms`)), ROUND_LIMIT_MS);
  });
  try {
    await Promise.race([work, limit]);
  } finally {
    clearTimeout(timer);
  }
}

async function bare(n: number, mode: Mode): Promise<number> {
  const { finished, handle } = counter(n, mode);
  const system = nact.start();
  const actor = nact.spawn(system, (count: number) => handle(count), "bare", { initialStateFunc: () => 0 });
  const t0 = performance.now();
  for (let i = 0; i < n; i++) nact.dispatch(actor, MSG);
  await bounded(finished, "bare");
  const ms = performance.now() - t0;
  nact.stop(actor);
  nact.stop(system);
  return n / (ms / 1000);
}

async function supervised(n: number, mode: Mode): Promise<number> {
  const { finished, handle } = counter(n, mode);
  const behaviour: Behaviour<number, Msg> = { init: () => 0, handle: (count) => handle(count) };
  const tree = await startTree(supervisor("bench", "one_for_one", [worker("w", behaviour)]));
  const ref = tree.lookup<Msg>("/bench/w");
  if (ref === undefined) throw new Error("no /bench/w");
  const t0 = performance.now();
  for (let i = 0; i < n; i++) ref.tell(MSG);
  await bounded(finished, "supervised");
  const ms = performance.now() - t0;
  await tree.shutdown();
  return n / (ms / 1000);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? 0;
}

async function compare(mode: Mode): Promise<{ sup: number; bare: number; ratio: number }> {
  const sup: number[] = [];
  const raw: number[] = [];
  const ratios: number[] = [];
  await bare(20_000, mode); // warm up both paths
  await supervised(20_000, mode);
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 === 0 ? (["bare", "sup"] as const) : (["sup", "bare"] as const);
    for (const who of order) {
      if (who === "bare") raw.push(await bare(MESSAGES, mode));
      else sup.push(await supervised(MESSAGES, mode));
    }
    ratios.push((sup.at(-1) ?? 0) / (raw.at(-1) ?? 1));
    console.log(`  ${mode} round ${round + 1}: supervised=${fmt(sup.at(-1))} bare=${fmt(raw.at(-1))} msg/s ratio=${ratios.at(-1)?.toFixed(2)}`);
  }
  return { sup: median(sup), bare: median(raw), ratio: median(ratios) };
}

const fmt = (x: number | undefined): string => Math.round(x ?? 0).toLocaleString("en-US");

async function main(): Promise<void> {
  console.log(`actor-throughput: ${MESSAGES} messages x ${ROUNDS} rounds, medians; node ${process.version}`);
  const a = await compare("async");
  console.log(`actor-throughput (async handler): supervised=${fmt(a.sup)} msg/s bare=${fmt(a.bare)} msg/s ratio=${a.ratio.toFixed(2)}`);
  const s = await compare("sync");
  console.log(`actor-throughput: supervised=${fmt(s.sup)} msg/s bare=${fmt(s.bare)} msg/s ratio=${s.ratio.toFixed(2)} (target >= 0.8)`);
}

await main();
