import { describe, expect, it } from "@jest/globals";
import { parseAppLabels, type LabelResult } from "./labels.js";

const opts = { groups: ["external"], strict: false };
const parse = (labels: Record<string, string>, ports = 2, o = opts): LabelResult[] => parseAppLabels("marathon/shop", { HAPROXY_GROUP: "external", ...labels }, ports, o);
const one = (labels: Record<string, string>, ports = 2) => {
  const r = parse(labels, ports);
  expect(r).toHaveLength(1);
  return r[0] as LabelResult;
};
const spec = (labels: Record<string, string>) => {
  const r = one(labels);
  if (!r.ok) throw new Error(r.reason);
  return r.spec;
};
const reason = (labels: Record<string, string>, ports = 2) => {
  const r = one(labels, ports);
  if (r.ok) throw new Error("accepted");
  return r.reason;
};

describe("Marathon-LB labels", () => {
  it("parses a vhost service: hosts lowercased and comma split, http inferred, defaults", () => {
    expect(spec({ HAPROXY_0_VHOST: "Shop.Example.com, www.shop.example.com" })).toEqual({
      service: "marathon/shop",
      index: 0,
      mode: "http",
      bindAddr: "*",
      vhosts: ["shop.example.com", "www.shop.example.com"],
      paths: [],
      balance: "roundrobin",
      sticky: false,
      redirectToHttps: false,
      hsts: false,
      weight: 0,
      allow: [],
    });
  });

  it("parses every supported per-port label", () => {
    const s = spec({
      HAPROXY_0_VHOST: "a.example.com",
      HAPROXY_0_PATH: "-i /api /v2",
      HAPROXY_0_PORT: "10001",
      HAPROXY_0_BIND_ADDR: "10.0.0.42",
      HAPROXY_0_BALANCE: "LeastConn",
      HAPROXY_0_STICKY: "true",
      HAPROXY_0_REDIRECT_TO_HTTPS: "true",
      HAPROXY_0_SSL_CERT: "/etc/ssl/a.pem",
      HAPROXY_0_USE_HSTS: "true",
      HAPROXY_0_BACKEND_WEIGHT: "10",
      HAPROXY_0_BACKEND_NETWORK_ALLOWED_ACL: "10.1.40.0/24 10.1.55.43",
      HAPROXY_0_HEALTHCHECK_PATH: "/health",
    });
    expect(s).toMatchObject({ paths: ["-i", "/api", "/v2"], port: 10001, bindAddr: "10.0.0.42", balance: "leastconn", sticky: true, redirectToHttps: true, sslCert: "/etc/ssl/a.pem", hsts: true, weight: 10, allow: ["10.1.40.0/24", "10.1.55.43"], healthPath: "/health" });
  });

  it("a PATH raises the weight from 0 to 1 (Marathon-LB)", () => {
    expect(spec({ HAPROXY_0_VHOST: "a.b", HAPROXY_0_PATH: "/x" }).weight).toBe(1);
  });

  it("MODE: explicit label > VHOST > health check path > tcp", () => {
    expect(spec({ HAPROXY_0_PORT: "10000" }).mode).toBe("tcp");
    expect(spec({ HAPROXY_0_PORT: "10000", HAPROXY_0_HEALTHCHECK_PATH: "/h" }).mode).toBe("http");
    expect(spec({ HAPROXY_0_PORT: "10000", HAPROXY_0_HEALTHCHECK_PATH: "/h", HAPROXY_0_MODE: "TCP" }).mode).toBe("tcp");
    expect(spec({ HAPROXY_0_VHOST: "a.b", HAPROXY_0_MODE: "http" }).mode).toBe("http");
    expect(reason({ HAPROXY_0_VHOST: "a.b", HAPROXY_0_MODE: "tcp" })).toMatch(/HAPROXY_0_MODE=tcp with HAPROXY_0_VHOST/);
  });

  it("per-port GROUP overrides the app group; other groups are not this LB's", () => {
    expect(parse({ HAPROXY_0_PORT: "10000", HAPROXY_0_GROUP: "internal" })).toEqual([]);
    expect(parseAppLabels("m/x", { HAPROXY_GROUP: "internal", HAPROXY_0_PORT: "10000", HAPROXY_0_GROUP: "external" }, 1, opts)).toHaveLength(1);
    expect(parseAppLabels("m/x", { HAPROXY_0_PORT: "10000" }, 1, opts)).toEqual([]);
    expect(parseAppLabels("m/x", { HAPROXY_0_PORT: "10000" }, 1, { groups: ["*"], strict: false })).toHaveLength(1);
  });

  it("ENABLED: only with strict mode it is needed; false turns a port off", () => {
    expect(parse({ HAPROXY_0_PORT: "10000" }, 2, { groups: ["external"], strict: true })).toEqual([]);
    expect(parse({ HAPROXY_0_PORT: "10000", HAPROXY_0_ENABLED: "true" }, 2, { groups: ["external"], strict: true })).toHaveLength(1);
    expect(parse({ HAPROXY_0_PORT: "10000", HAPROXY_0_ENABLED: "false" })).toEqual([]);
  });

  it("each port on its own: a bad port 1 leaves port 0 served", () => {
    const r = parse({ HAPROXY_0_VHOST: "a.b", HAPROXY_1_PORT: "http" });
    expect(r.map((x) => x.ok)).toEqual([true, false]);
  });

  it.each([
    [{ HAPROXY_0_VHOST: "bad host!" }, /HAPROXY_0_VHOST: "bad host!" is not a host name/],
    [{ HAPROXY_0_VHOST: "a.b", HAPROXY_0_PATH: "api" }, /HAPROXY_0_PATH: "api" is not a path prefix/],
    [{ HAPROXY_0_PATH: "/api" }, /PATH: needs HAPROXY_0_VHOST/],
    [{ HAPROXY_0_PORT: "99999" }, /HAPROXY_0_PORT=99999: out of range/],
    [{ HAPROXY_0_PORT: "80x" }, /expected an integer/],
    [{ HAPROXY_0_MODE: "udp", HAPROXY_0_PORT: "1" }, /expected http or tcp/],
    [{ HAPROXY_0_MODE: "tcp" }, /a tcp service needs a service port/],
    [{ HAPROXY_0_MODE: "http" }, /an http service needs one/],
    [{ HAPROXY_0_VHOST: "a.b", HAPROXY_0_BALANCE: "hash" }, /BALANCE="hash": expected one of/],
    [{ HAPROXY_0_VHOST: "a.b", HAPROXY_0_STICKY: "maybe" }, /STICKY="maybe": expected true or false/],
    [{ HAPROXY_0_PORT: "1", HAPROXY_0_STICKY: "true" }, /STICKY: needs http mode/],
    [{ HAPROXY_0_PORT: "1", HAPROXY_0_REDIRECT_TO_HTTPS: "true" }, /REDIRECT_TO_HTTPS: needs HAPROXY_0_VHOST/],
    [{ HAPROXY_0_VHOST: "a.b", HAPROXY_0_SSL_CERT: "rel.pem" }, /absolute path/],
    [{ HAPROXY_0_VHOST: "a.b", HAPROXY_0_BACKEND_NETWORK_ALLOWED_ACL: "10.0.0.0/33" }, /is not an address or CIDR/],
    [{ HAPROXY_0_VHOST: "a.b", HAPROXY_0_BIND_ADDR: "eth0" }, /BIND_ADDR="eth0"/],
    [{ HAPROXY_0_VHOST: "a.b", HAPROXY_0_BACKEND_SERVER_OPTIONS: "check\ninter 1s" }, /HAPROXY_0_BACKEND_SERVER_OPTIONS: not supported .*raw HAProxy template overrides are off/],
  ])("rejects %j with a reason naming the label", (labels, re) => {
    expect(reason(labels)).toMatch(re);
  });

  it("rejects a port index the task does not have", () => {
    expect(reason({ HAPROXY_3_VHOST: "a.b" })).toMatch(/port index 3 but the task has 2 ports/);
  });
});
