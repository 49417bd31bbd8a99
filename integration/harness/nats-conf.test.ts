import { describe, expect, it } from "@jest/globals";
import { renderNatsConf } from "./nats-conf.js";

describe("renderNatsConf", () => {
  it("routes every other server by alias, with 1 s pings and JetStream in /tmp", () => {
    const conf = renderNatsConf({ index: 1, size: 3 });
    expect(conf).toContain('server_name: "nats-1"');
    expect(conf).toContain('routes: [ "nats://nats-0:6222", "nats://nats-2:6222" ]');
    expect(conf).toContain('ping_interval: "1s"');
    expect(conf).toContain("ping_max: 3");
    expect(conf).toContain('store_dir: "/tmp/jetstream"');
  });

  it("has no cluster block for a single server", () => {
    expect(renderNatsConf({ index: 0, size: 1 })).not.toContain("cluster");
  });
});
