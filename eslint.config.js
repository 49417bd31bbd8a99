import { readdirSync } from "node:fs";
import js from "@eslint/js";
import tseslint from "typescript-eslint";

// ---- Import boundaries (actors/README.md, docs/architecture.md) ----
// Each actors/<subsystem>/ is entered only through its index.ts; lower layers never import actors;
// pure folders never touch sockets, files, processes, NATS or actors; production code never imports
// test kits. Written as no-restricted-imports patterns (regexes on the import string) because every
// import here is relative, so the string says where it points.
const SUBSYSTEMS = readdirSync(new URL("./actors/", import.meta.url), { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name);
/** Folders of plain functions: tested without NATS or the kernel, and kept that way by lint. */
export const PURE_FOLDERS = ["actors/dns/wire", "actors/dns/zones", "actors/dns/mesos-dns", "actors/gossip/crdt", "actors/catalogue/convert", "actors/l4lb/render", "actors/l4lb/names", "actors/overlay/render", "actors/edge/plan"];
const LOWER_LAYERS = ["config", "transport", "supervisors", "observability", "host"];

// Up to four doors: index.js (the runtime: subtree, messages, types), and three light ones that load
// without the runtime — ops.js (its admin operations: the CLI is a fresh process per command),
// config.js (its config section, validated before any actor loads) and model.js (pure vocabulary
// other subsystems' pure code shares: the task model, store keys, label mangling).
const door = (t) => ({ regex: `^(\\.\\./)+(actors/)?${t}/(?!(index|ops|config|model)\\.js$)`, message: `import ${t}/ through its door (${t}/index.js, ${t}/ops.js for admin ops, ${t}/config.js for its config section, ${t}/model.js for its pure model), not its internals` });
const doorsFor = (self) => SUBSYSTEMS.filter((t) => t !== self).map(door);
const anyDoor = { regex: "^(\\.\\./)+actors/[^/]+/(?!(index|ops|config|model)\\.js$)", message: "import a subsystem through its door (actors/<subsystem>/index.js), not its internals" };
const noActors = { regex: "^(\\.\\./)+actors/", message: "lower layers (config, transport, supervisors, observability, host) never import actors/: data flows one way" };
const noTestkit = { regex: "^(\\.\\./)+(\\.\\./)*testkit/", message: "production code never imports test kits (testkit/)" };
const impure = [
  { regex: "^(node:)?(dgram|net|tls|http|https|http2|fs|fs/promises|child_process|worker_threads|cluster)$", message: "a pure folder does no I/O: no sockets, files or processes" },
  { regex: "^(@nats-io/|nact$)", message: "a pure folder does not talk to NATS or actors" },
  { regex: "(\\.actor|\\.sup)\\.js$|(^|/)(supervisors|transport)/", message: "a pure folder does not import actors, supervisors or the transport" },
];
// An ops module is loaded by every `dcnet ctl`: values from the runtime (actors, subtrees, doors)
// only as types; anything heavy a handler needs is imported inside the handler.
const lightOps = { regex: "(\\.actor|\\.sup|/index)\\.js$|^\\./index\\.js$", allowTypeImports: true, message: "an ops module stays light: import actors, subtrees and doors as types only (await import() inside a handler for the rest)" };
// A config module (a subsystem's section) is loaded to validate config before the runtime: zod,
// config/ and its own pure helpers only; no actor, subtree or door, no NATS, nact or sockets.
const lightConfig = {
  regex: "^(?!(\\.\\./)+config/)(.*(\\.actor|\\.sup)|.*/(index|ops))\\.js$|(^|/)(supervisors|transport)/|^(@nats-io/|nact$)|^(node:)?(dgram|net|tls|http|https|http2|fs|fs/promises|child_process|worker_threads|cluster)$",
  message: "a config module stays light: zod, config/ and pure helpers only (no actors, subtrees, doors, NATS, nact or I/O)",
};
// Pure code uses another subsystem's pure model (model.js), not its runtime door, as a value.
const runtimeDoorsFor = (self) => ({ regex: `^(\\.\\./)+(actors/)?(${SUBSYSTEMS.filter((t) => t !== self).join("|")})/index\\.js$`, allowTypeImports: true, message: "pure code takes values from another subsystem's model.js, not its runtime door (index.js); types are fine" });
const restrict = (files, patterns, ignores) => ({ files, ...(ignores ? { ignores } : {}), rules: { "no-restricted-imports": ["error", { patterns }] } });
const TESTS = ["**/*.test.ts"];
export const boundaries = [
  ...SUBSYSTEMS.flatMap((s) => [
    restrict([`actors/${s}/**/*.ts`], [...doorsFor(s), noTestkit], TESTS),
    restrict([`actors/${s}/**/*.test.ts`], doorsFor(s)),
  ]),
  ...PURE_FOLDERS.map((p) => restrict([`${p}/**/*.ts`], [...doorsFor(p.split("/")[1]), noTestkit, ...impure, runtimeDoorsFor(p.split("/")[1])], TESTS)),
  ...LOWER_LAYERS.map((l) => restrict([`${l}/**/*.ts`], [noActors, noTestkit], TESTS)),
  ...LOWER_LAYERS.map((l) => restrict([`${l}/**/*.test.ts`], [noActors])),
  ...SUBSYSTEMS.map((s) => restrict([`actors/${s}/ops.ts`], [...doorsFor(s), noTestkit, lightOps])),
  ...SUBSYSTEMS.map((s) => restrict([`actors/${s}/config.ts`, `actors/${s}/model.ts`], [...doorsFor(s), noTestkit, lightConfig])),
  restrict(["cli/**/*.ts"], [anyDoor, noTestkit], TESTS),
  restrict(["bench/**/*.ts", "integration/**/*.ts", "cli/**/*.test.ts"], [anyDoor]),
];

export default tseslint.config(
  { ignores: ["node_modules/**", "dist/**", "coverage/**", "**/*.d.ts", "**/*.d.cts", ".tmp*/**", "native/*/build/**"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: "readonly", console: "readonly", setTimeout: "readonly", clearTimeout: "readonly", setInterval: "readonly", clearInterval: "readonly", setImmediate: "readonly", Buffer: "readonly", URL: "readonly" } },
    rules: {
      "@typescript-eslint/no-explicit-any": "error",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/consistent-type-imports": "error",
      "no-console": ["error", { allow: ["error"] }],
    },
  },
  {
    // The addon's CommonJS loader (a native module is loaded with require).
    files: ["native/**/*.cjs"],
    languageOptions: { sourceType: "commonjs", globals: { require: "readonly", module: "writable", __dirname: "readonly" } },
    rules: { "@typescript-eslint/no-require-imports": "off" },
  },
  {
    // CLI, benchmarks and tests print to the terminal on purpose.
    files: ["cli/**", "bench/**", "scripts/**", "bin/**", "**/*.test.ts", "integration/**"],
    rules: { "no-console": "off" },
  },
  ...boundaries,
);
