import { test, expect } from "@jest/globals";
test("env", async () => { await new Promise(r=>setTimeout(r,1500)); console.log("A DOCKER_HOST=", process.env.DOCKER_HOST, process.pid); expect(process.env.DOCKER_HOST).toMatch(/^unix:/); });
