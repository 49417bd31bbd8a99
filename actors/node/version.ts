import { readFileSync } from "node:fs";

// Read once at start-up; package.json is the one place the version is written.
export const VERSION: string = (JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string }).version;
