// The OpenAPI documents: every route the apps really register is documented and nothing
// else is, docs/openapi.json is what scripts/openapi.ts generates (under Deno, and the same
// under Node), the document is structurally valid OpenAPI 3.1 with every $ref resolving, the
// error codes it lists are the ones the edge really answers with, and each function serves
// its own document without a token.
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import process from "node:process";
import { describe, expect, inject, it } from "vitest";
import { errorStatus } from "../../functions/_shared/errors.ts";
import {
  combinedDocument,
  type FunctionDocs,
  type OpenApiDocument,
} from "../../functions/_shared/openapi.ts";
import { DECIMAL } from "../../functions/_shared/money.ts";
import { functionModules, functionNames } from "../../functions/registry.ts";

const root = path.resolve(import.meta.dirname, "../..");
const deno = path.join(root, "node_modules/.bin/deno");

type RoutedApp = { routes: { method: string; path: string }[]; request: (path: string, init?: RequestInit) => Promise<Response> | Response };
type FunctionModule = { app: RoutedApp; docs: FunctionDocs };
const modules = functionModules as unknown as Record<string, FunctionModule>;
const METHODS = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];

/** "POST /wallets/{id}/ledger" for every route Hono really dispatches (not middleware, not CORS preflight). */
function registeredRoutes(app: RoutedApp): string[] {
  return [...new Set(app.routes
    .filter((r) => r.method !== "ALL" && r.method !== "OPTIONS" && !r.path.endsWith("*"))
    // OpenAPI has no optional path parameters: ":token?" is documented as "{token}".
    .map((r) => `${r.method} ${r.path.replace(/:([A-Za-z0-9_]+)\??/g, "{$1}")}`))].sort();
}

function documentedRoutes(document: OpenApiDocument): string[] {
  return Object.entries(document.paths).flatMap(([p, item]) =>
    Object.keys(item).filter((m) => METHODS.includes(m)).map((m) => `${m.toUpperCase()} ${p}`)
  ).sort();
}

/** Every operation with its path and method. */
function operations(document: OpenApiDocument) {
  return Object.entries(document.paths).flatMap(([p, item]) =>
    Object.entries(item).filter(([m]) => METHODS.includes(m)).map(([method, op]) => ({
      path: p,
      method,
      op: op as {
        operationId: string;
        parameters?: { name: string; in: string; required?: boolean; schema?: unknown }[];
        responses: Record<string, { content?: Record<string, { schema?: Record<string, unknown> }> }>;
        security?: Record<string, string[]>[];
        requestBody?: unknown;
      },
    }))
  );
}

function resolvePointer(document: unknown, ref: string): unknown {
  if (!ref.startsWith("#/")) return undefined;
  return ref.slice(2).split("/").map((part) => part.replaceAll("~1", "/").replaceAll("~0", "~"))
    .reduce<unknown>((node, key) => (node && typeof node === "object" ? (node as Record<string, unknown>)[key] : undefined), document);
}

function walk(node: unknown, visit: (value: Record<string, unknown>, trail: string) => void, trail = "#"): void {
  if (Array.isArray(node)) node.forEach((item, i) => walk(item, visit, `${trail}/${i}`));
  else if (node && typeof node === "object") {
    visit(node as Record<string, unknown>, trail);
    for (const [key, value] of Object.entries(node)) walk(value, visit, `${trail}/${key}`);
  }
}

describe("OpenAPI: routes and documents agree", () => {
  it.each(functionNames)("%s: every registered route is documented, and every documented route is registered", (name) => {
    const { app, docs } = modules[name];
    expect(docs, `functions/${name}/app.ts must export docs = apiDocs(...)`).toBeDefined();
    const registered = registeredRoutes(app);
    expect(registered.length).toBeGreaterThan(1);
    expect(documentedRoutes(docs.document())).toEqual(registered);
  });

  it("the combined document is exactly the union of the functions' routes", () => {
    const all = functionNames.flatMap((name) => registeredRoutes(modules[name].app)).sort();
    expect(documentedRoutes(combinedDocument(functionNames.map((name) => modules[name].docs)))).toEqual(all);
  });

  it("the comparison notices a route nobody documented", () => {
    const app = { ...modules.health.app, routes: [...modules.health.app.routes, { method: "POST", path: "/health/undocumented" }] };
    expect(registeredRoutes(app)).not.toEqual(documentedRoutes(modules.health.docs.document()));
  });
});

describe("OpenAPI: docs/openapi.json", () => {
  const committed = readFileSync(path.join(root, "docs/openapi.json"), "utf8");

  it("is what `npm run openapi` (scripts/openapi.ts under Deno) generates", () => {
    const generated = execFileSync(deno, ["run", "-A", "scripts/openapi.ts", "--stdout"], {
      cwd: root,
      encoding: "utf8",
      maxBuffer: 64 * 1024 * 1024, // the document is several MB
      env: { ...process.env, LOG_LEVEL: "silent" },
    });
    expect(generated, "docs/openapi.json is stale: run `npm run openapi` and commit it").toBe(committed);
  });

  it("is what the same registries build under Node", () => {
    const built = JSON.stringify(combinedDocument(functionNames.map((name) => modules[name].docs)), null, 2) + "\n";
    expect(built).toBe(committed);
  });

  it("scripts/openapi.ts passes deno check and deno lint", () => {
    execFileSync(deno, ["check", "scripts/openapi.ts"], { cwd: root, stdio: "pipe" });
    execFileSync(deno, ["lint", "scripts/openapi.ts"], { cwd: root, stdio: "pipe" });
  });
});

describe("OpenAPI: the document is valid OpenAPI 3.1", () => {
  const documents = () => [
    ["docs/openapi.json", JSON.parse(readFileSync(path.join(root, "docs/openapi.json"), "utf8")) as OpenApiDocument] as const,
    ...functionNames.map((name) => [name, modules[name].docs.document()] as const),
  ];

  it("has the required top-level fields", () => {
    for (const [, document] of documents()) {
      expect(document.openapi).toBe("3.1.0");
      expect(document.info.title).toEqual(expect.any(String));
      expect(document.info.version).toEqual(expect.any(String));
      expect(Object.keys(document.paths).length).toBeGreaterThan(0);
      for (const p of Object.keys(document.paths)) expect(p).toMatch(/^\//);
    }
  });

  it("resolves every $ref", () => {
    for (const [label, document] of documents()) {
      const refs: string[] = [];
      walk(document, (node, trail) => {
        if (typeof node.$ref === "string") {
          refs.push(node.$ref);
          expect(resolvePointer(document, node.$ref), `${label} ${trail}: ${node.$ref}`).toBeDefined();
        }
      });
      expect(refs).toContain("#/components/schemas/Error");
    }
  });

  it("declares every path template parameter, gives unique operation ids and known security schemes", () => {
    for (const [label, document] of documents()) {
      const ids = new Set<string>();
      for (const { path: p, method, op } of operations(document)) {
        const where = `${label}: ${method.toUpperCase()} ${p}`;
        expect(ids.has(op.operationId), `${where} repeats operationId ${op.operationId}`).toBe(false);
        ids.add(op.operationId);
        const templated = [...p.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]).sort();
        const declared = (op.parameters ?? []).filter((x) => x.in === "path");
        expect(declared.map((x) => x.name).sort(), where).toEqual(templated);
        for (const parameter of declared) expect(parameter.required, where).toBe(true);
        for (const parameter of op.parameters ?? []) {
          expect(["path", "query", "header", "cookie"], where).toContain(parameter.in);
          expect(parameter.schema, where).toBeDefined();
        }
        expect(Object.keys(op.responses).some((status) => /^2\d\d$/.test(status)), `${where} has no success response`).toBe(true);
        for (const status of Object.keys(op.responses)) expect(status, where).toMatch(/^([1-5]\d\d|4XX)$/);
        for (const requirement of op.security ?? []) {
          for (const scheme of Object.keys(requirement)) expect(document.components.securitySchemes, where).toHaveProperty(scheme);
        }
      }
    }
  });

  it("lists only stable error codes, each under its own status, in the shared error envelope", () => {
    const document = combinedDocument(functionNames.map((name) => modules[name].docs));
    let seen = 0;
    for (const { path: p, method, op } of operations(document)) {
      for (const [status, response] of Object.entries(op.responses)) {
        if (Number(status) < 400) continue;
        const schema = response.content?.["application/json"]?.schema as { allOf?: Record<string, unknown>[] };
        // A route that refuses nothing itself documents the range: any client error, same envelope.
        if (status === "4XX") {
          expect(schema, `${method} ${p}`).toEqual({ $ref: "#/components/schemas/Error" });
          continue;
        }
        // A route may document a status >= 400 with its own body (GET /health's 503).
        if (!schema.allOf && `${method} ${p}` === "get /health") continue;
        expect(schema.allOf![0]).toEqual({ $ref: "#/components/schemas/Error" });
        const codes = (schema.allOf![1] as { properties: { error: { properties: { code: { enum: string[] } } } } })
          .properties.error.properties.code.enum;
        for (const code of codes) {
          expect(errorStatus(code), `${method.toUpperCase()} ${p} lists ${code} under ${status}`).toBe(Number(status));
          seen++;
        }
      }
      // Every operation can fail on our side.
      expect(op.responses["500"], `${method.toUpperCase()} ${p}`).toBeDefined();
    }
    expect(seen).toBeGreaterThan(100);
  });

  it("documents a bearer-guarded route's 401 codes and a mutation's idempotency header", () => {
    const transfer = operations(combinedDocument(functionNames.map((name) => modules[name].docs)))
      .find((o) => o.method === "post" && o.path === "/wallets/transfers")!.op;
    expect(transfer.security).toEqual([{ bearerAuth: [] }]);
    expect(transfer.parameters).toContainEqual(expect.objectContaining({ name: "Idempotency-Key", in: "header", required: true }));
    const codes = (status: string) =>
      ((transfer.responses[status].content!["application/json"].schema as { allOf: { properties?: { error: { properties: { code: { enum: string[] } } } } }[] })
        .allOf[1].properties!.error.properties.code.enum);
    expect(codes("401")).toEqual(expect.arrayContaining(["unauthenticated", "invalid_token", "token_expired"]));
    expect(codes("409")).toContain("insufficient_funds");
    expect(codes("422")).toEqual(["idempotency_key_reused"]);
  });

  it("types every money field as a decimal string with money.ts's pattern, never a number", () => {
    const document = combinedDocument(functionNames.map((name) => modules[name].docs));
    expect(document.components.schemas.Money).toMatchObject({ type: "string", pattern: DECIMAL.source });
    const MONEY = /^(amount|fee|balance|held|available|balance_after)$/;
    let checked = 0;
    walk(document, (node, trail) => {
      const properties = node.properties as Record<string, Record<string, unknown>> | undefined;
      if (!properties || typeof properties !== "object") return;
      for (const [name, schema] of Object.entries(properties)) {
        if (!MONEY.test(name) || trail.includes("/BankEvent") || trail.includes("webhooks")) continue;
        const text = JSON.stringify(schema);
        expect(text, `${trail}/properties/${name}`).not.toMatch(/"type":"(number|integer)"|"type":\[[^\]]*"(number|integer)"/);
        expect(
          text.includes('"$ref":"#/components/schemas/Money"') || text.includes(JSON.stringify(DECIMAL.source)),
          `${trail}/properties/${name} is not a Money string`,
        ).toBe(true);
        checked++;
      }
    });
    expect(checked).toBeGreaterThan(10);
  });
});

describe("OpenAPI: error codes", () => {
  it("every `new ApiError(status, code)` in functions/ agrees with the documented status of its code", () => {
    const files: string[] = [];
    const collect = (dir: string) => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        const full = path.join(dir, entry.name);
        if (entry.isDirectory()) collect(full);
        else if (entry.name.endsWith(".ts")) files.push(full);
      }
    };
    collect(path.join(root, "functions"));
    let found = 0;
    for (const file of files) {
      for (const match of readFileSync(file, "utf8").matchAll(/new ApiError\(\s*(\d{3}),\s*"([a-z_]+)"/g)) {
        expect(errorStatus(match[2]), `${path.relative(root, file)}: ${match[2]}`).toBe(Number(match[1]));
        found++;
      }
    }
    expect(found).toBeGreaterThan(15);
  });
});

describe("OpenAPI: served by each function", () => {
  it.each(functionNames)("GET /%s/openapi.json answers without a token", async (name) => {
    const res = await modules[name].app.request(`/${name}/openapi.json`);
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body).toEqual(JSON.parse(JSON.stringify(modules[name].docs.document())));
    expect(body.info.title).toBe(`Hazina ${name}`);
  });

  it("serving the document leaves the other routes guarded", async () => {
    expect((await modules.wallets.app.request("/wallets")).status).toBe(401);
    expect((await modules.funding.app.request("/funding/00000000-0000-4000-8000-000000000001")).status).toBe(401);
  });

  it("is served over real HTTP by the Deno edge server", async () => {
    const res = await fetch(`${inject("edgeBaseUrl")}/functions/v1/wallets/openapi.json`);
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body.openapi).toBe("3.1.0");
    expect(Object.keys(body.paths)).toContain("/wallets/transfers");
  });
});

describe("docs/openapi.json under a real validator", () => {
  it("passes Redocly CLI's recommended rules with no error and no warning", () => {
    const redocly = path.join(root, "node_modules/.bin/redocly");
    let out: string;
    try {
      out = execFileSync(redocly, ["lint", "docs/openapi.json", "--format=json"], {
        cwd: root,
        encoding: "utf8",
        stdio: ["ignore", "pipe", "ignore"],
        env: { ...process.env, REDOCLY_TELEMETRY: "off", REDOCLY_SUPPRESS_UPDATE_NOTICE: "true" },
      });
    } catch (err) {
      // Exit 1 on errors: the JSON report is still on stdout.
      out = String((err as { stdout?: string }).stdout ?? "");
    }
    const report = JSON.parse(out) as { totals: { errors: number; warnings: number }; problems: { ruleId: string; message: string }[] };
    expect(report.problems.map((p) => `${p.ruleId}: ${p.message}`)).toEqual([]);
    expect(report.totals).toMatchObject({ errors: 0, warnings: 0 });
  }, 60_000);
});
