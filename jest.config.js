// ESM + swc: the OTLP exporter does a dynamic import('http') that only works under
// --experimental-vm-modules (../shared/reference/stack.md §3.2, §5), so the npm scripts set it.
const transform = {
  "^.+\\.ts$": ["@swc/jest", { jsc: { parser: { syntax: "typescript" }, target: "es2022" }, module: { type: "es6" } }],
};
const common = {
  testEnvironment: "node",
  extensionsToTreatAsEsm: [".ts"],
  moduleNameMapper: { "^(\\.{1,2}/.*)\\.js$": "$1" },
  transform,
};
export default {
  projects: [
    { ...common, displayName: "unit", testMatch: ["<rootDir>/{actors,supervisors,transport,config,observability,cli,docs,native,bench,host}/**/*.test.ts"] },
    {
      ...common,
      displayName: "integration",
      testMatch: ["<rootDir>/integration/**/*.test.ts"],
      globalSetup: "<rootDir>/integration/harness/global-setup.ts",
      globalTeardown: "<rootDir>/integration/harness/global-teardown.ts",
    },
  ],
};
