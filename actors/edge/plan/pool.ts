// Edge-LB style pool documents (V2 pool API, ref l7.md §4), applied over admin and kept in the
// replicated store so every edge node serves the same pools. The schema is strict: an unknown field
// is an error naming it (a typo in an operator's document must not silently do nothing). Placement
// fields of Edge-LB (count, cpus, role, ...) are accepted and ignored: here the pool runs on every
// node with edge.enabled.
import { z } from "zod";
import { BALANCES } from "./types.js";
import { cidrOk, ipFamily } from "./labels.js";

const regex = z
  .string()
  .min(1)
  .max(512)
  .superRefine((s, ctx) => {
    if (/\s/.test(s)) ctx.addIssue({ code: "custom", message: "a regex may not contain whitespace (use \\s)" });
    try {
      new RegExp(s);
    } catch (err) {
      ctx.addIssue({ code: "custom", message: `bad regex: ${(err as Error).message}` });
    }
  });
const word = z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, "letters, digits, . _ - (1–64)");
const host = z
  .string()
  .max(253)
  .regex(/^[A-Za-z0-9.-]+$/, "a host name")
  .transform((h) => h.toLowerCase());
const pathBeg = z.string().regex(/^\/[^\s"'\\]*$/, "a path starting with / (no spaces or quotes)");
const pemPath = z.string().regex(/^\/[^\s"'\\]+$/, "an absolute path to a PEM file");
const ignored = z.unknown().optional();
/** A named L4LB VIP's DNS name: its address comes from this node's L4LB (the names it has programmed). */
export const NAMED_VIP = /^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+l4lb\.thisdcos\.directory$/;

const frontend = z.strictObject({
  name: word.optional(),
  bindAddress: z.string().refine((a) => a === "*" || a === "0.0.0.0" || ipFamily(a) !== 0, "an IP address or *").optional(),
  bindPort: z.number().int().min(1).max(65535),
  bindModifier: ignored,
  protocol: z.enum(["HTTP", "HTTPS", "TCP", "TLS"]),
  certificates: z.array(pemPath).max(64).optional(),
  redirectToHttps: z.strictObject({ except: z.array(z.strictObject({ host: host.optional(), pathBeg: pathBeg.optional() })).max(256).optional() }).optional(),
  miscStrs: z.array(z.string()).max(0, "miscStrs (raw HAProxy text) is not supported").optional(),
  linkBackend: z
    .strictObject({
      defaultBackend: word.optional(),
      map: z
        .array(
          z.strictObject({
            backend: word,
            hostEq: host.optional(),
            hostReg: regex.optional(),
            pathBeg: pathBeg.optional(),
            pathEnd: z.string().regex(/^[^\s"'\\]+$/).optional(),
            pathReg: regex.optional(),
          }),
        )
        .max(1024)
        .optional(),
    })
    .optional(),
});

const selector = (what: string) => ({ [what]: z.string().min(1).max(512).optional(), [`${what}Pattern`]: regex.optional() });
const service = z.strictObject({
  marathon: z.strictObject({ ...selector("serviceID"), ...selector("containerName") }).optional(),
  mesos: z.strictObject({ ...selector("frameworkName"), ...selector("frameworkID"), ...selector("taskName"), ...selector("taskID") }).optional(),
  endpoint: z
    .strictObject({
      type: z.enum(["AUTO_IP", "AGENT_IP", "CONTAINER_IP", "ADDRESS"]).default("AUTO_IP"),
      port: z.number().int().min(1).max(65535).optional(),
      portName: z.string().min(1).max(63).optional(),
      allPorts: z.boolean().optional(),
      address: z.string().optional(),
      check: z.strictObject({ enabled: z.boolean().optional(), customStr: z.string().max(0, "check.customStr (raw HAProxy text) is not supported").optional() }).optional(),
      miscStr: z.string().max(0, "miscStr (raw HAProxy text) is not supported").optional(),
    })
    .superRefine((e, ctx) => {
      if (e.type === "ADDRESS") {
        if (e.address === undefined || (ipFamily(e.address) === 0 && !NAMED_VIP.test(e.address)))
          ctx.addIssue({ code: "custom", path: ["address"], message: "type ADDRESS needs an IP address or a named VIP's name (<name>.<framework>.l4lb.thisdcos.directory)" });
        if (e.port === undefined) ctx.addIssue({ code: "custom", path: ["port"], message: "type ADDRESS needs a port" });
      } else if (e.address !== undefined) ctx.addIssue({ code: "custom", path: ["address"], message: "address is only for type ADDRESS" });
    })
    .prefault({}),
});

const backend = z.strictObject({
  name: word,
  protocol: z.enum(["HTTP", "HTTPS", "TCP", "TLS"]),
  balance: z.enum(BALANCES).default("roundrobin"),
  customCheck: z.strictObject({ httpchk: z.boolean().optional(), httpchkMiscStr: z.string().regex(/^\/\S*$/, "a path for GET").optional() }).optional(),
  miscStrs: z.array(z.string()).max(0, "miscStrs (raw HAProxy text) is not supported").optional(),
  allowedCidrs: z.array(z.string().refine(cidrOk, "an address or CIDR")).max(256).optional(),
  rewriteHttp: z
    .strictObject({
      path: z.strictObject({ fromPath: pathBeg, toPath: pathBeg }).optional(),
      sticky: z.strictObject({ enabled: z.boolean().optional(), customStr: z.string().max(0, "sticky.customStr is not supported").optional() }).optional(),
      request: ignored,
      response: ignored,
      host: ignored,
    })
    .optional(),
  services: z.array(service).min(1).max(256),
});

export const poolSchema = z
  .strictObject({
    apiVersion: z.enum(["V2"]).default("V2"),
    name: z.string().regex(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/, "lowercase letters, digits and - (1–63)"),
    namespace: ignored,
    role: ignored,
    constraints: ignored,
    count: ignored,
    cpus: ignored,
    mem: ignored,
    disk: ignored,
    ports: ignored,
    secrets: ignored,
    environmentVariables: ignored,
    autoCertificate: ignored,
    virtualNetworks: ignored,
    principal: ignored,
    secretName: ignored,
    poolHealthcheck: ignored,
    description: ignored,
    haproxy: z.strictObject({
      stats: ignored,
      frontends: z.array(frontend).min(1).max(64),
      backends: z.array(backend).max(256),
    }),
  })
  .superRefine((p, ctx) => {
    const names = new Set<string>();
    p.haproxy.backends.forEach((b, i) => {
      if (names.has(b.name)) ctx.addIssue({ code: "custom", path: ["haproxy", "backends", i, "name"], message: `backend ${b.name} defined twice` });
      names.add(b.name);
    });
    p.haproxy.frontends.forEach((f, i) => {
      const refs = [f.linkBackend?.defaultBackend, ...(f.linkBackend?.map ?? []).map((m) => m.backend)].filter((x): x is string => x !== undefined);
      for (const r of refs) if (!names.has(r)) ctx.addIssue({ code: "custom", path: ["haproxy", "frontends", i, "linkBackend"], message: `backend ${r} is not defined in this pool` });
      if ((f.protocol === "HTTPS" || f.protocol === "TLS") && (f.certificates ?? []).length === 0) ctx.addIssue({ code: "custom", path: ["haproxy", "frontends", i, "certificates"], message: `${f.protocol} needs certificates` });
    });
  });

export type Pool = z.output<typeof poolSchema>;
export type PoolInput = z.input<typeof poolSchema>;

/** Reads a pool document (admin input, a store value). Never throws: the reason names the field. */
export function readPool(value: unknown): { ok: true; pool: Pool } | { ok: false; reason: string } {
  const r = poolSchema.safeParse(value);
  if (r.success) return { ok: true, pool: r.data };
  return { ok: false, reason: r.error.issues.map((i) => `${i.path.length > 0 ? i.path.join(".") : "(pool)"}: ${i.message}`).join("; ") };
}
