import { describe, expect, it } from "@jest/globals";
import { buildModel } from "./desired.js";
import { readPool, type Pool } from "./pool.js";
import { DESIRED_OPTS as O, RENDER_OPTS, task } from "./fixtures.js";
import { plan } from "./planner.js";
import { render } from "./render.js";

const G = { HAPROXY_GROUP: "external" };
const pool = (doc: unknown): Pool => {
  const r = readPool(doc);
  if (!r.ok) throw new Error(r.reason);
  return r.pool;
};

describe("the edge model from labels", () => {
  it("one backend per exposed port, endpoints sorted, killing and unhealthy tasks drain, preparing ones absent", () => {
    const l = { ...G, HAPROXY_0_VHOST: "shop.example.com" };
    const m = buildModel(
      [
        task("shop", l, { id: "b", hostPort: 31002 }),
        task("shop", l, { id: "a", hostPort: 31001 }),
        task("shop", l, { id: "c", hostPort: 31003, state: "killing" }),
        task("shop", l, { id: "d", hostPort: 31004, healthy: false }),
        task("shop", l, { id: "e", hostPort: 31005, state: "preparing" }),
      ],
      [],
      O,
    );
    expect(m.rejected).toEqual([]);
    expect(m.backends).toHaveLength(1);
    expect(m.backends[0]?.endpoints.map((e) => [e.id, e.port, e.state])).toEqual([
      ["a#0", 31001, "ready"],
      ["b#0", 31002, "ready"],
      ["c#0", 31003, "drain"],
      ["d#0", 31004, "drain"],
    ]);
    expect(m.frontends.map((f) => [f.name, f.port])).toEqual([["labels_http_in", 80]]);
  });

  it("a container port on its own IP when there is no host port (AUTO_IP)", () => {
    const m = buildModel([task("api", { ...G, HAPROXY_0_PORT: "10001" }, { containerIp: "9.0.1.5", port: 8080 })], [], O);
    expect(m.backends[0]?.endpoints[0]).toMatchObject({ addr: "9.0.1.5", port: 8080 });
    expect(m.frontends[0]).toMatchObject({ name: "marathon_api_0_10001", port: 10001, mode: "tcp", defaultBackend: "marathon_api_0" });
  });

  it("a broken app is rejected with its reason; the others are served", () => {
    const m = buildModel([task("bad", { ...G, HAPROXY_0_VHOST: "no spaces allowed" }), task("good", { ...G, HAPROXY_0_VHOST: "good.example.com" })], [], O);
    expect(m.backends.map((b) => b.name)).toEqual(["marathon_good_0"]);
    expect(m.rejected).toEqual([{ source: "labels", name: "marathon/bad:0", reason: expect.stringContaining("HAPROXY_0_VHOST") }]);
  });

  it("duplicate claims: the second app claiming a port or a vhost is rejected, by app order (Marathon-LB #125)", () => {
    const m = buildModel(
      [
        task("a", { ...G, HAPROXY_0_PORT: "10000" }),
        task("b", { ...G, HAPROXY_0_PORT: "10000" }),
        task("c", { ...G, HAPROXY_0_VHOST: "x.example.com" }),
        task("d", { ...G, HAPROXY_0_VHOST: "x.example.com" }),
        task("e", { ...G, HAPROXY_0_VHOST: "x.example.com", HAPROXY_0_PATH: "/api" }),
        task("f", { ...G, HAPROXY_0_PORT: "80", HAPROXY_0_MODE: "http" }),
        task("g", { ...G, HAPROXY_0_PORT: "9090" }),
      ],
      [],
      O,
    );
    expect(m.backends.map((b) => b.name)).toEqual(["marathon_a_0", "marathon_c_0", "marathon_e_0"]);
    expect(Object.fromEntries(m.rejected.map((r) => [r.name, r.reason]))).toEqual({
      "marathon/b:0": "HAPROXY_0_PORT=10000: port already used by marathon/a",
      "marathon/d:0": "HAPROXY_0_VHOST: x.example.com already routed to marathon/c",
      "marathon/f:0": "HAPROXY_0_PORT=80: port already used by the shared vhost frontends",
      "marathon/g:0": "HAPROXY_0_PORT=9090: port already used by the edge's health listener",
    });
  });

  it("Marathon's service ports (the Marathon source): a frontend per port unless HAPROXY_{n}_PORT says otherwise; a grouped app's unlabelled port is exposed as tcp", () => {
    const sp = (name: string, labels: Record<string, string>, servicePort: number, hostPort: number) => {
      const t = task(name, labels, { hostPort });
      return { ...t, ports: t.ports.map((p) => ({ ...p, servicePort })) };
    };
    const m = buildModel(
      [
        sp("web", { ...G, HAPROXY_0_VHOST: "web.example.com" }, 10001, 31001),
        sp("echo", G, 10002, 31002),
        sp("pinned", { ...G, HAPROXY_0_PORT: "10100" }, 10003, 31003),
        sp("clash", G, 10002, 31004),
        sp("other", { HAPROXY_GROUP: "internal" }, 10005, 31005),
      ],
      [],
      O,
    );
    expect(m.frontends.map((f) => `${f.name} ${f.mode} ${f.port}`)).toEqual(["labels_http_in http 80", "marathon_clash_0_10002 tcp 10002", "marathon_pinned_0_10100 tcp 10100", "marathon_web_0_10001 http 10001"]);
    expect(m.backends.find((b) => b.name === "marathon_clash_0")?.endpoints.map((e) => `${e.addr}:${e.port}`)).toEqual(["10.0.0.1:31004"]);
    // Apps in id order: the later claimant of a service port loses, with a reason naming it.
    expect(m.rejected).toEqual([{ source: "labels", name: "marathon/echo:0", reason: "service port 10002 (Marathon): port already used by marathon/clash" }]);
  });

  it("a missing certificate rejects that service only; present ones make the :443 frontend", () => {
    const m = buildModel(
      [task("a", { ...G, HAPROXY_0_VHOST: "a.example.com", HAPROXY_0_SSL_CERT: "/nope/a.pem" }), task("b", { ...G, HAPROXY_0_VHOST: "b.example.com", HAPROXY_0_SSL_CERT: "/certs/b.pem" })],
      [],
      O,
    );
    expect(m.rejected.map((r) => r.reason)).toEqual(["HAPROXY_0_SSL_CERT=/nope/a.pem: no such file on this node"]);
    expect(m.frontends.find((f) => f.name === "labels_https_in")?.certs).toEqual(["/certs/b.pem"]);
  });

  it("routes: larger weight first, then routes with paths, then by backend", () => {
    const m = buildModel(
      [
        task("a", { ...G, HAPROXY_0_VHOST: "x.example.com" }),
        task("b", { ...G, HAPROXY_0_VHOST: "x.example.com", HAPROXY_0_PATH: "/api" }),
        task("c", { ...G, HAPROXY_0_VHOST: "y.example.com", HAPROXY_0_BACKEND_WEIGHT: "5" }),
      ],
      [],
      O,
    );
    expect(m.frontends[0]?.routes.map((r) => r.backend)).toEqual(["marathon_c_0", "marathon_b_0", "marathon_a_0"]);
  });

  it("the label set most tasks carry wins during a rolling change", () => {
    const old = { ...G, HAPROXY_0_VHOST: "old.example.com" };
    const m = buildModel([task("a", old, { id: "1", hostPort: 1 }), task("a", old, { id: "2", hostPort: 2 }), task("a", { ...G, HAPROXY_0_VHOST: "new.example.com" }, { id: "0", hostPort: 3 })], [], O);
    expect(m.frontends[0]?.routes[0]?.hosts).toEqual(["old.example.com"]);
    expect(m.backends[0]?.endpoints).toHaveLength(3);
  });
});

describe("pools", () => {
  const web = {
    name: "web",
    count: 2,
    haproxy: {
      frontends: [{ bindPort: 8080, protocol: "HTTP", linkBackend: { defaultBackend: "shop", map: [{ hostEq: "API.example.com", pathBeg: "/v2", backend: "api" }] } }],
      backends: [
        { name: "shop", protocol: "HTTP", balance: "leastconn", services: [{ marathon: { serviceID: "/shop" }, endpoint: { portName: "http" } }] },
        { name: "api", protocol: "HTTP", rewriteHttp: { path: { fromPath: "/v2", toPath: "/" } }, services: [{ mesos: { frameworkName: "marathon", taskNamePattern: "^api" }, endpoint: { type: "CONTAINER_IP" } }] },
        { name: "vip", protocol: "TCP", services: [{ endpoint: { type: "ADDRESS", address: "11.0.0.7", port: 80 } }] },
      ],
    },
  };

  it("compiles frontends, selectors and endpoint types into the same model", () => {
    const m = buildModel([task("shop", {}, { hostPort: 31000 }), task("api-1", {}, { containerIp: "9.0.0.9", port: 8000, hostPort: 31001 }), task("other", {}, { hostPort: 31002 })], [pool(web)], O);
    expect(m.rejected).toEqual([]);
    const byName = Object.fromEntries(m.backends.map((b) => [b.name, b]));
    expect(byName["pool_web_shop"]?.endpoints.map((e) => `${e.addr}:${e.port}`)).toEqual(["10.0.0.1:31000"]);
    expect(byName["pool_web_api"]?.endpoints.map((e) => `${e.addr}:${e.port}`)).toEqual(["9.0.0.9:8000"]);
    expect(byName["pool_web_api"]?.rewritePath).toEqual({ from: "/v2", to: "/" });
    expect(byName["pool_web_vip"]?.endpoints.map((e) => `${e.addr}:${e.port}`)).toEqual(["11.0.0.7:80"]);
    expect(m.frontends[0]).toMatchObject({ port: 8080, defaultBackend: "pool_web_shop", routes: [{ hosts: ["api.example.com"], pathBeg: ["/v2"], backend: "pool_web_api" }] });
  });

  it("a marathon serviceID selects a nested app's tasks by the name Mesos gives them (/shop/web → web.shop), exactly or by pattern", () => {
    const doc = (service: Record<string, string>) => pool({ name: "p", haproxy: { frontends: [{ bindPort: 8090, protocol: "HTTP", linkBackend: { defaultBackend: "b" } }], backends: [{ name: "b", protocol: "HTTP", services: [{ marathon: service, endpoint: { type: "AGENT_IP" } }] }] } });
    const ts = [task("web.shop", {}, { hostPort: 31000 }), task("api.shop", {}, { hostPort: 31001 }), task("shop", {}, { hostPort: 31002 })];
    const picked = (service: Record<string, string>) => buildModel(ts, [doc(service)], O).backends[0]?.endpoints.map((e) => e.port);
    expect(picked({ serviceID: "/shop/web" })).toEqual([31000]);
    expect(picked({ serviceID: "/shop" })).toEqual([31002]);
    expect(picked({ serviceIDPattern: "^/shop/" })).toEqual([31001, 31000]);
    expect(picked({ serviceIDPattern: "^web\\." })).toEqual([31000]);
  });

  it("an ADDRESS endpoint may name an L4LB VIP: its address on this node, the same server id when it moves", () => {
    const doc = pool({ name: "vip", haproxy: { frontends: [{ bindPort: 8081, protocol: "TCP", linkBackend: { defaultBackend: "v" } }], backends: [{ name: "v", protocol: "TCP", services: [{ endpoint: { type: "ADDRESS", address: "web.marathon.l4lb.thisdcos.directory", port: 80 } }] }] } });
    const at = (ip: string | undefined) => buildModel([], [doc], { ...O, vipAddress: (n) => (n === "web.marathon" ? ip : undefined) });
    expect(at("11.0.0.3").backends[0]?.endpoints).toEqual([{ id: "addr:web.marathon.l4lb.thisdcos.directory:80", addr: "11.0.0.3", port: 80, state: "ready" }]);
    expect(at("11.0.0.4").backends[0]?.endpoints[0]?.id).toBe("addr:web.marathon.l4lb.thisdcos.directory:80");
    const none = at(undefined);
    expect(none.backends[0]?.endpoints).toEqual([]);
    expect(none.rejected).toEqual([{ source: "pool", name: "vip/v", reason: expect.stringContaining("named VIP web.marathon.l4lb.thisdcos.directory has no address on this node") }]);
  });

  it("an HTTP backend with an ADDRESS endpoint never shares server connections between clients (a VIP balances per connection)", () => {
    const doc = (protocol: "HTTP" | "TCP") => pool({ name: "vip", haproxy: { frontends: [{ bindPort: 8081, protocol, linkBackend: { defaultBackend: "v" } }], backends: [{ name: "v", protocol, services: [{ endpoint: { type: "ADDRESS", address: "web.marathon.l4lb.thisdcos.directory", port: 80 } }] }] } });
    const opts = { ...O, vipAddress: () => "11.0.0.3" };
    const http = buildModel([], [doc("HTTP")], opts);
    expect(http.backends[0]?.perConnection).toBe(true);
    expect(render(http, plan(http, new Map(), 2).slots, RENDER_OPTS).text).toMatch(/backend pool_vip_v\n( {2}.*\n)* {2}http-reuse never\n/);
    // Tasks selected by name are HAProxy's own servers: connections may be shared as usual.
    expect(buildModel([task("shop", {}, { hostPort: 31000 })], [pool(web)], O).backends.find((b) => b.name === "pool_web_shop")?.perConnection).toBeUndefined();
    // TCP: one server connection per client connection anyway.
    const tcp = buildModel([], [doc("TCP")], opts);
    expect(render(tcp, plan(tcp, new Map(), 2).slots, RENDER_OPTS).text).not.toMatch(/http-reuse/);
  });

  it.each([
    [{ ...web, extra: 1 }, /Unrecognized key.*extra/],
    [{ ...web, haproxy: { ...web.haproxy, frontends: [{ bindPort: 1, protocol: "HTTP", linkBackend: { map: [{ backend: "shop", hostReg: "([" }] } }] } }, /hostReg: bad regex/],
    [{ ...web, haproxy: { ...web.haproxy, frontends: [{ bindPort: 1, protocol: "HTTP", linkBackend: { defaultBackend: "nope" } }] } }, /backend nope is not defined/],
    [{ ...web, haproxy: { ...web.haproxy, frontends: [{ bindPort: 1, protocol: "HTTPS" }] } }, /HTTPS needs certificates/],
    [{ ...web, haproxy: { ...web.haproxy, backends: [{ name: "x", protocol: "TCP", services: [{ endpoint: { type: "ADDRESS" } }] }] } }, /type ADDRESS needs an IP address/],
    [{ ...web, haproxy: { ...web.haproxy, backends: [{ name: "x", protocol: "TCP", services: [{ endpoint: { type: "ADDRESS", address: "web.example.com", port: 80 } }] }] } }, /type ADDRESS needs an IP address or a named VIP's name/],
    [{ ...web, haproxy: { ...web.haproxy, backends: [{ name: "x", protocol: "TCP", miscStrs: ["option x"], services: [{}] }] } }, /miscStrs.*not supported/],
  ])("rejects a bad document with a reason naming the field (%#)", (doc, re) => {
    const r = readPool(doc);
    expect(r.ok).toBe(false);
    expect(r.ok ? "" : r.reason).toMatch(re);
  });

  it("a pool whose port is taken is rejected whole; labels lose a port to a pool", () => {
    const other = pool({ ...web, name: "web2" });
    const m = buildModel([task("a", { ...G, HAPROXY_0_PORT: "8080" })], [pool(web), other], O);
    expect(m.rejected).toEqual([
      { source: "labels", name: "marathon/a:0", reason: "HAPROXY_0_PORT=8080: port already used by pool web" },
      { source: "pool", name: "web2", reason: "frontend port 8080 already used by pool web" },
    ]);
  });
});
