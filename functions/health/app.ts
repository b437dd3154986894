// GET /functions/v1/health: version, database reachability, migrations current.
import { createFunctionApp } from "../_shared/app.ts";
import { db } from "../_shared/db.ts";
import { EXPECTED_SCHEMA_VERSION, HAZINA_VERSION } from "../_shared/version.ts";

export const app = createFunctionApp("health");

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
