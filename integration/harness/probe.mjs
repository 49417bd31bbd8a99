// Test fixture: fetches each URL (1 s timeout each, all at once) and prints one JSON object
// { url: "<body>" | "ERR <reason>" }. Runs anywhere the host's node runs (containers, netns).
//   node probe.mjs URL...
/* global fetch, AbortSignal */
const urls = process.argv.slice(2);
const results = await Promise.all(
  urls.map(async (u) => {
    try {
      const r = await fetch(u, { signal: AbortSignal.timeout(1000) });
      return [u, (await r.text()).trim()];
    } catch (e) {
      return [u, `ERR ${e?.cause?.code ?? e?.name ?? e}`];
    }
  }),
);
// Exit at once: an aborted fetch to a dropped peer would keep its SYN retries (and us) alive.
process.stdout.write(`${JSON.stringify(Object.fromEntries(results))}\n`, () => process.exit(0));
