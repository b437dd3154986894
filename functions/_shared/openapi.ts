// OpenAPI 3.1 from the zod schemas the handlers already parse. Each function declares its
// routes' docs next to its handlers (`docs.route({...})`), passing the very schema objects
// the handler validates with, so the documented request is the accepted request.
// `serveOpenApi` publishes GET /<name>/openapi.json; scripts/openapi.ts writes the combined
// docs/openapi.json, and tests/functions/openapi.test.ts keeps both equal to the routes the
// apps really register.
//
// Schemas named with `named(id, schema)` become components (`#/components/schemas/<id>`),
// everything else is inlined. Request schemas convert with zod's input view (defaults make a
// field optional), response schemas with the output view.
import type { Env, Hono } from "hono";
import { z } from "zod";
import { errorMessage, errorStatus } from "./errors.ts";
import { DECIMAL } from "./money.ts";
import { HAZINA_VERSION } from "./version.ts";

type JsonSchema = Record<string, unknown>;
type Method = "get" | "post" | "put" | "patch" | "delete";

/**
 * A copy of `schema` that documents as the component `#/components/schemas/<id>` (zod's
 * global registry carries the id). For response schemas: request schemas stay the
 * handlers' own objects.
 */
export function named<T extends z.ZodType>(
  id: string,
  schema: T,
  description?: string,
  examples?: unknown[],
): T {
  return schema.meta({
    id,
    ...(description ? { description } : {}),
    ...(examples ? { examples } : {}),
  }) as T;
}

/** A money amount in responses: a decimal string, never a number (pattern of money.ts). */
export const Money = named(
  "Money",
  z.string().regex(DECIMAL),
  "A decimal string with up to 4 decimals; never a JSON number.",
  ["1250.0000"],
);

export const ErrorEnvelope = named(
  "Error",
  z.object({
    error: z.object({
      code: z.string().regex(/^[a-z][a-z0-9_]*$/).describe(
        "Stable, machine-readable code (functions/_shared/errors.ts).",
      ),
      message: z.string().describe("For humans; may change."),
      details: z.record(z.string(), z.unknown()).optional().describe(
        "Structured context, e.g. `fields` for validation_failed.",
      ),
    }),
  }),
  "Every error response has this shape.",
);

const Timestamp = z.iso.datetime({ offset: true });

/** hazina.wallet_json: what the wallets and ops functions return for one wallet. */
export const Wallet = named(
  "Wallet",
  z.object({
    id: z.guid(),
    user_id: z.guid().nullable(),
    kind: z.enum(["user", "merchant", "system"]),
    currency: z.string(),
    status: z.enum(["active", "frozen", "closed"]),
    balance: Money,
    held: Money,
    available: Money,
    created_at: Timestamp,
    updated_at: Timestamp,
  }),
  "A wallet as the wallet functions return it (hazina.wallet_json).",
);

export const MerchantApplication = named(
  "MerchantApplication",
  z.object({
    id: z.guid(),
    user_id: z.guid(),
    business_name: z.string(),
    status: z.enum(["pending", "approved", "rejected"]),
    decided_by: z.guid().nullable().describe("The admin who approved or rejected it."),
    decided_at: Timestamp.nullable(),
    decision_reason: z.string().nullable(),
    created_at: Timestamp,
    updated_at: Timestamp,
  }),
  "A request to become a merchant (hazina.merchant_application_json); an admin decides it.",
);

/** `{ data: [...], next_cursor }`, the shape of every list. */
export function listOf<T extends z.ZodType>(item: T) {
  return z.object({
    data: z.array(item),
    next_cursor: z.string().nullable().describe(
      "Pass as `cursor` for the next page; null on the last page.",
    ),
  });
}

export interface ResponseDoc {
  description: string;
  /** A zod schema (converted, output view) or a ready JSON Schema. */
  schema?: z.ZodType | JsonSchema;
  example?: unknown;
  /** Defaults to application/json; `null` for a response without a body (204). */
  contentType?: string | null;
  /** Other representations of the same response, by content type (e.g. text/csv). */
  alternatives?: Record<string, { schema?: JsonSchema; example?: unknown }>;
  headers?: Record<string, { description: string; schema?: JsonSchema }>;
}

export interface HeaderDoc {
  name: string;
  description: string;
  required?: boolean;
  schema?: JsonSchema;
}

export interface RouteDoc {
  method: Method;
  /** The Hono path relative to the function, exactly as registered: "/:id/ledger". */
  path: string;
  summary: string;
  description?: string;
  /** bearer: requireUser; optional: a bearer token changes what happens; none: public. */
  auth: "bearer" | "optional" | "none";
  /** Extra ways in besides a bearer token (security scheme names). */
  alternativeSecurity?: string[];
  idempotencyKey?: "required" | "optional";
  /** Path parameters: an object whose properties are the handler's schemas. */
  params?: z.ZodObject;
  query?: z.ZodObject;
  headers?: HeaderDoc[];
  /** The request body schema the handler parses. */
  body?: z.ZodType;
  /** How the body is encoded; JSON unless said (HTML forms post urlencoded). */
  bodyContentType?: "application/json" | "application/x-www-form-urlencoded";
  /** False when the handler reads its input itself and reports problems through its own codes
   * (webhooks): no implied validation_failed / invalid_json. */
  validates?: boolean;
  /** True when an empty body is accepted (treated as `{}`). */
  bodyOptional?: boolean;
  bodyExample?: unknown;
  responses: Record<number, ResponseDoc>;
  /** Stable error codes this route can answer with, besides those its auth, idempotency
   * key and body imply (added automatically). */
  errors: string[];
}

export interface FunctionDocs {
  name: string;
  title: string;
  description: string;
  routes: RouteDoc[];
  route(doc: RouteDoc): void;
  document(): OpenApiDocument;
}

export type OpenApiDocument = {
  openapi: "3.1.0";
  info: {
    title: string;
    version: string;
    description?: string;
    license?: { name: string; identifier?: string };
  };
  servers: { url: string; description?: string }[];
  tags: { name: string; description?: string }[];
  paths: Record<string, Record<string, unknown>>;
  components: { schemas: Record<string, JsonSchema>; securitySchemes: Record<string, unknown> };
};

/** The docs registry of one function; declare routes with `.route(...)` next to the handlers. */
export function apiDocs(name: string, title: string, description: string): FunctionDocs {
  const docs: FunctionDocs = {
    name,
    title,
    description,
    routes: [],
    route(doc) {
      if (docs.routes.some((r) => r.method === doc.method && r.path === doc.path)) {
        throw new Error(
          `openapi: ${doc.method.toUpperCase()} /${name}${doc.path} is documented twice`,
        );
      }
      docs.routes.push(doc);
    },
    document: () => buildDocument([docs], { title: `Hazina ${name}`, description }),
  };
  return docs;
}

/**
 * GET /<name>/openapi.json, public. Register it before `app.use("*", requireUser)`: Hono runs
 * handlers in registration order and this one answers without calling the auth middleware.
 */
export function serveOpenApi<E extends Env>(app: Hono<E>, docs: FunctionDocs): void {
  docs.route({
    method: "get",
    path: "/openapi.json",
    summary: `OpenAPI 3.1 document of the ${docs.name} function`,
    auth: "none",
    responses: {
      200: {
        description: "This document.",
        schema: {
          type: "object",
          properties: {
            openapi: { type: "string" },
            info: { type: "object" },
            paths: { type: "object" },
          },
          required: ["openapi", "paths"],
        },
      },
    },
    errors: [],
  });
  let cached: OpenApiDocument | undefined;
  app.get("/openapi.json", (c) => c.json(cached ??= docs.document()));
}

// --- building -----------------------------------------------------------------------------

/** Hono path → OpenAPI path: "/wallets/:id/ledger" → "/wallets/{id}/ledger". An optional
 * trailing parameter (":token?") is documented as present: OpenAPI has no optional path params. */
export function openApiPath(honoPath: string): string {
  return honoPath.replace(/:([A-Za-z0-9_]+)(\{[^}]*\})?\??/g, "{$1}");
}

function fullPath(name: string, path: string): string {
  return openApiPath(`/${name}${path === "/" ? "" : path}`);
}

function operationId(name: string, method: Method, path: string): string {
  const words = path.split("/").filter(Boolean).map((part) =>
    part.startsWith(":")
      ? `by_${part.slice(1).replace(/\?$/, "")}`
      : part.replace(/[^A-Za-z0-9]+/g, "_")
  );
  return [name, method, ...words].join("_");
}

class ComponentCollector {
  readonly schemas: Record<string, JsonSchema> = {};

  private add(id: string, schema: JsonSchema) {
    const existing = this.schemas[id];
    if (existing && JSON.stringify(existing) !== JSON.stringify(schema)) {
      throw new Error(`openapi: two different schemas are named ${id}`);
    }
    this.schemas[id] = schema;
  }

  /** Convert a zod schema; named sub-schemas go to components, their refs are rewritten. */
  convert(schema: z.ZodType | JsonSchema, io: "input" | "output"): JsonSchema {
    if (!(schema instanceof z.ZodType)) return schema;
    const json = z.toJSONSchema(schema, { io, target: "draft-2020-12" }) as JsonSchema;
    delete json.$schema;
    const defs = (json.$defs ?? {}) as Record<string, JsonSchema>;
    delete json.$defs;
    for (const [id, def] of Object.entries(defs)) this.add(id, rewriteRefs(def) as JsonSchema);
    return rewriteRefs(json) as JsonSchema;
  }
}

function rewriteRefs(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(rewriteRefs);
  if (value && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value).map(([key, inner]) =>
        key === "$ref" && typeof inner === "string"
          ? [key, inner.replace(/^#\/\$defs\//, "#/components/schemas/")]
          : [key, rewriteRefs(inner)]
      ),
    );
  }
  return value;
}

const IDEMPOTENCY_KEY_SCHEMA = { type: "string", pattern: "^[A-Za-z0-9_.:-]{8,255}$" };

/** Codes implied by how a route is guarded and what it reads. */
function impliedErrors(route: RouteDoc): string[] {
  const codes: string[] = [];
  if (route.auth === "bearer" || route.auth === "optional") {
    codes.push("unauthenticated", "invalid_token", "token_expired");
  }
  // Acting as a user (anything but a read) also needs an account that is not suspended.
  if ((route.auth === "bearer" || route.auth === "optional") && route.method !== "get") {
    codes.push("account_disabled");
  }
  if (route.idempotencyKey) {
    if (route.idempotencyKey === "required") codes.push("idempotency_key_required");
    codes.push(
      "invalid_idempotency_key",
      "idempotency_key_reused",
      "idempotency_key_in_use",
      "rate_limited",
    );
  }
  const validates = route.validates ?? true;
  if (validates && (route.params || route.query || route.body)) {
    // invalid_argument: text the database cannot hold (a NUL character), wherever input reaches it.
    codes.push("validation_failed", "invalid_argument");
  }
  if (
    validates && route.body && (route.bodyContentType ?? "application/json") === "application/json"
  ) codes.push("invalid_json");
  if (route.body) codes.push("payload_too_large");
  codes.push("internal_error");
  // Every route reads the database; one that documents its own 503 (health) says so itself.
  if (!route.responses[503]) codes.push("database_unavailable");
  return codes;
}

function errorResponses(collector: ComponentCollector, route: RouteDoc, where: string) {
  const byStatus = new Map<number, string[]>();
  for (const code of [...new Set([...impliedErrors(route), ...route.errors])]) {
    const status = errorStatus(code);
    if (status === undefined) throw new Error(`openapi: ${where} lists unknown error code ${code}`);
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  collector.convert(ErrorEnvelope, "output");
  const responses: Record<string, unknown> = {};
  for (const [status, codes] of [...byStatus].sort(([a], [b]) => a - b)) {
    codes.sort();
    responses[String(status)] = {
      description: codes.map((code) => `\`${code}\`: ${errorMessage(code)}`).join("\n\n"),
      content: {
        "application/json": {
          schema: {
            allOf: [
              { $ref: "#/components/schemas/Error" },
              {
                type: "object",
                properties: { error: { type: "object", properties: { code: { enum: codes } } } },
              },
            ],
          },
        },
      },
    };
  }
  return responses;
}

function parameters(
  collector: ComponentCollector,
  location: "path" | "query",
  schema: z.ZodObject,
): unknown[] {
  const json = collector.convert(schema, "input");
  const properties = (json.properties ?? {}) as Record<string, JsonSchema>;
  const required = new Set((json.required ?? []) as string[]);
  return Object.entries(properties).map(([name, property]) => {
    const { description, ...rest } = property;
    return {
      name,
      in: location,
      required: location === "path" ? true : required.has(name),
      ...(description ? { description } : {}),
      schema: rest,
    };
  });
}

function operation(collector: ComponentCollector, docs: FunctionDocs, route: RouteDoc) {
  const where = `${route.method.toUpperCase()} /${docs.name}${route.path}`;
  const pathParams = [...route.path.matchAll(/:([A-Za-z0-9_]+)/g)].map((m) => m[1]);
  const documentedParams = route.params ? Object.keys(route.params.shape) : [];
  if (pathParams.join() !== documentedParams.join()) {
    throw new Error(
      `openapi: ${where} has path parameters [${pathParams}] but documents [${documentedParams}]`,
    );
  }
  const params: unknown[] = [
    ...(route.params ? parameters(collector, "path", route.params) : []),
    ...(route.query ? parameters(collector, "query", route.query) : []),
  ];
  if (route.idempotencyKey) {
    params.push({
      name: "Idempotency-Key",
      in: "header",
      required: route.idempotencyKey === "required",
      description:
        "Makes the call safe to retry: the same key with the same request returns the stored " +
        "response (`Idempotent-Replayed: true`) for 24 h; with a different request it is a 422.",
      schema: IDEMPOTENCY_KEY_SCHEMA,
    });
  }
  for (const header of route.headers ?? []) {
    params.push({
      name: header.name,
      in: "header",
      required: header.required ?? false,
      description: header.description,
      schema: header.schema ?? { type: "string" },
    });
  }

  const responses: Record<string, unknown> = {};
  for (const [status, response] of Object.entries(route.responses)) {
    const contentType = response.contentType === undefined
      ? "application/json"
      : response.contentType;
    const headers = { ...response.headers };
    if (route.idempotencyKey && Number(status) < 300) {
      headers["Idempotent-Replayed"] = {
        description:
          "`true` when this is the stored response of an earlier request with the same Idempotency-Key.",
        schema: { type: "string", enum: ["true"] },
      };
    }
    const content: Record<string, unknown> = {};
    if (contentType) {
      content[contentType] = {
        ...(response.schema ? { schema: collector.convert(response.schema, "output") } : {}),
        ...(response.example !== undefined ? { example: response.example } : {}),
      };
    }
    Object.assign(content, response.alternatives);
    responses[status] = {
      description: response.description,
      ...(Object.keys(headers).length
        ? {
          headers: Object.fromEntries(
            Object.entries(headers).map(([header, value]) => [header, {
              description: value.description,
              schema: value.schema ?? { type: "string" },
            }]),
          ),
        }
        : {}),
      ...(Object.keys(content).length ? { content } : {}),
    };
  }
  for (const [status, response] of Object.entries(errorResponses(collector, route, where))) {
    if (responses[status]) {
      throw new Error(`openapi: ${where} documents ${status} as both success and error`);
    }
    responses[status] = response;
  }
  // A route that refuses nothing itself (health, the documents) still answers client errors
  // in the one envelope, e.g. route_not_found beside it: say so rather than list none.
  if (!Object.keys(responses).some((status) => status.startsWith("4"))) {
    responses["4XX"] = {
      description:
        "Any client error, in the error envelope (e.g. `route_not_found` for a path that does not exist).",
      content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } },
    };
  }

  const security = route.auth === "bearer"
    ? [{ bearerAuth: [] }, ...(route.alternativeSecurity ?? []).map((s) => ({ [s]: [] }))]
    : route.auth === "optional"
    ? [{}, { bearerAuth: [] }]
    : (route.alternativeSecurity ?? []).length
    ? (route.alternativeSecurity ?? []).map((s) => ({ [s]: [] }))
    : [];

  return {
    operationId: operationId(docs.name, route.method, route.path),
    tags: [docs.name],
    summary: route.summary,
    ...(route.description ? { description: route.description } : {}),
    ...(params.length ? { parameters: params } : {}),
    ...(route.body
      ? {
        requestBody: {
          required: !route.bodyOptional,
          content: {
            [route.bodyContentType ?? "application/json"]: {
              schema: collector.convert(route.body, "input"),
              ...(route.bodyExample !== undefined ? { example: route.bodyExample } : {}),
            },
          },
        },
      }
      : {}),
    responses,
    security,
  };
}

/** One OpenAPI 3.1 document for the given functions (one, or all for docs/openapi.json). */
export function buildDocument(
  all: FunctionDocs[],
  info: { title: string; description: string },
): OpenApiDocument {
  const collector = new ComponentCollector();
  const paths: Record<string, Record<string, unknown>> = {};
  for (const docs of all) {
    for (const route of docs.routes) {
      const path = fullPath(docs.name, route.path);
      paths[path] ??= {};
      if (paths[path][route.method]) {
        throw new Error(`openapi: ${route.method} ${path} is documented twice`);
      }
      paths[path][route.method] = operation(collector, docs, route);
    }
  }
  collector.convert(Money, "output");
  const schemas = Object.fromEntries(
    Object.entries(collector.schemas).sort(([a], [b]) => a.localeCompare(b)),
  );
  return {
    openapi: "3.1.0",
    info: {
      title: info.title,
      version: HAZINA_VERSION,
      description: info.description,
      license: { name: "MIT", identifier: "MIT" },
    },
    servers: [{
      url: "/functions/v1",
      description: "Supabase Edge Functions, or `npm start` on :8000",
    }],
    tags: all.map((docs) => ({ name: docs.name, description: docs.title })),
    paths: Object.fromEntries(Object.entries(paths).sort(([a], [b]) => a.localeCompare(b))),
    components: {
      schemas,
      securitySchemes: {
        bearerAuth: {
          type: "http",
          scheme: "bearer",
          bearerFormat: "JWT",
          description: "An access token from POST /auth/token (Supabase-compatible JWT).",
        },
        sweepSecret: {
          type: "apiKey",
          in: "header",
          name: "X-Sweep-Secret",
          description: "SWEEP_SECRET, for schedulers calling POST /webhooks/sweep.",
        },
      },
    },
  };
}

/** The combined document of every function (docs/openapi.json). */
export function combinedDocument(all: FunctionDocs[]): OpenApiDocument {
  const sorted = [...all].sort((a, b) => a.name.localeCompare(b.name));
  return buildDocument(sorted, {
    title: "Hazina API",
    description:
      "Every edge function of Hazina under /functions/v1. JSON is snake_case; money is a decimal " +
      "string (components/schemas/Money); errors are `{ error: { code, message, details? } }` " +
      "(components/schemas/Error) with stable codes. Generated from the zod schemas by scripts/openapi.ts.",
  });
}
