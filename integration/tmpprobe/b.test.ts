import { test, expect } from "@jest/globals";
test("env", () => { console.log("A DOCKER_HOST=", process.env.DOCKER_HOST, process.pid); expect(process.env.DOCKER_HOST).toMatch(/^unix:/); });
