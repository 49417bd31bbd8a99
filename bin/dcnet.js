#!/usr/bin/env node
// The sources are TypeScript run through tsx's loader: one toolchain, no build step to forget,
// so `npx dcnet …` works straight after `npm ci`.
import { register } from "tsx/esm/api";
register();
await import("../cli/main.ts");
