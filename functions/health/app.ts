// GET /functions/v1/health: version, database reachability, migrations current.
import { z } from "zod";
import { createFunctionApp } from "../_shared/app.ts";
import { db } from "../_shared/db.ts";
import { apiDocs, named, serveOpenApi } from "../_shared/openapi.ts";
import { EXPECTED_SCHEMA_VERSION, HAZINA_VERSION } from "../_shared/version.ts";

export const app = createFunctionApp("health");
export const docs = apiDocs("health", "Liveness and readiness", "Version, database reachability, migrations current.");
serveOpenApi(app, docs);

const Health = named("Health", z.object({
  status: z.enum(["ok", "degraded"]),
  version: z.string(),
  database: z.object({ reachable: z.boolean() }),
  migrations: z.object({
    current: z.boolean(),
    applied: z.string().nullable().describe("Newest applied migration version; null when unknown."),
    expected: z.string().describe("Newest migration this code expects."),
  }),
}));

docs.route({
  method: "get",
  path: "/",
  summary: "Health: version, database reachability, migrations current",
  auth: "none",
  responses: {
    200: { description: "Healthy.", schema: Health },
    503: { description: "The database is unreachable or migrations are behind (`status: degraded`).", schema: Health },
  },
  errors: [],
});
app.get("/", async (c) => {
  let reachable = false;
  let applied: string | null = null;
  try {
    const [row] = await db()`
      select (select max(version) from dbmate.schema_migrations) as applied`;
    reachable = true;
    applied = row.applied ?? null;
  } catch {
    reachable = false;
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
