// GET /functions/v1/health: version, database reachability, migrations current.
import { z } from "zod";
import { createFunctionApp } from "../_shared/app.ts";
import { asService } from "../_shared/db.ts";
import { apiDocs, named, serveOpenApi } from "../_shared/openapi.ts";
import { EXPECTED_SCHEMA_VERSION, HAZINA_VERSION } from "../_shared/version.ts";

export const app = createFunctionApp("health");
export const docs = apiDocs(
  "health",
  "Liveness and readiness",
  "Version, database reachability, migrations current.",
);
serveOpenApi(app, docs);

const Health = named(
  "Health",
  z.object({
    status: z.enum(["ok", "degraded"]),
    version: z.string(),
    database: z.object({ reachable: z.boolean() }),
    migrations: z.object({
      current: z.boolean(),
      applied: z.string().nullable().describe(
        "Newest applied migration version; null when unknown.",
      ),
      expected: z.string().describe("Newest migration this code expects."),
    }),
  }),
);

docs.route({
  method: "get",
  path: "/",
  summary: "Health: version, database reachability, migrations current",
  auth: "none",
  responses: {
    200: { description: "Healthy.", schema: Health },
    503: {
      description: "The database is unreachable or migrations are behind (`status: degraded`).",
      schema: Health,
    },
  },
  errors: [],
});
app.get("/", async (c) => {
  let reachable = false;
  let applied: string | null = null;
  try {
    // The edge's login role (authenticator) holds no privileges itself, so even this
    // runs as a request role: service_role, through a function that answers only this.
    const [row] = await asService(
      c.get("requestId"),
      (tx) => tx`select hazina.applied_schema_version() as applied`,
    );
    reachable = true;
    applied = row.applied ?? null;
  } catch (err) {
    // Reachable, but migrations older than the function: versions unknown.
    reachable = (err as { code?: string }).code === "42883";
  }
  const current = applied === EXPECTED_SCHEMA_VERSION;
  const healthy = reachable && current;
  return c.json({
    status: healthy ? "ok" : "degraded",
    version: HAZINA_VERSION,
    database: { reachable },
    migrations: { current, applied, expected: EXPECTED_SCHEMA_VERSION },
  }, healthy ? 200 : 503);
});
