// Guards for the project layout: schema.sql matches the migrations, and every function
// folder is in the registry (functions/registry.ts), which the local server serves, and is
// deployable through supabase/config.toml.
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import process from "node:process";
import postgres from "postgres";
import { afterAll, describe, expect, it } from "vitest";
import { functionNames as registeredFunctions } from "../../functions/registry.ts";

const root = path.resolve(import.meta.dirname, "../..");
const functionNames = readdirSync(path.join(root, "functions"), { withFileTypes: true })
  .filter((d) => d.isDirectory() && !d.name.startsWith("_")).map((d) => d.name).sort();

function dumpSchema(url: string): string {
  return execFileSync("pg_dump", ["--schema-only", "--no-owner", "--exclude-schema=dbmate", url], { encoding: "utf8" })
    .split("\n").filter((line) => !line.startsWith("--") && !line.startsWith("\\restrict") && !line.startsWith("\\unrestrict") && line.trim() !== "" &&
      !/EXTENSION.*pgtap/.test(line)) // npm test adds pgTAP to the test database only
    .join("\n");
}

describe("project layout", () => {
  const scratch = `hazina_schema_${Date.now()}_${process.pid}`;
  const server = new URL(process.env.DATABASE_URL!);
  const adminUrl = new URL(server);
  adminUrl.pathname = "/postgres";
  const admin = postgres(adminUrl.toString(), { max: 1, onnotice: () => {} });

  afterAll(async () => {
    await admin.unsafe(`drop database if exists "${scratch}" with (force)`);
    await admin.end();
  });

  it("database/schema.sql alone gives the same schema as the migrations", async () => {
    await admin.unsafe(`create database "${scratch}"`);
    const scratchUrl = new URL(server);
    scratchUrl.pathname = `/${scratch}`;
    execFileSync("psql", ["-X", "-q", "-v", "ON_ERROR_STOP=1", "-f", path.join(root, "database/schema.sql"), scratchUrl.toString()], { stdio: "pipe" });
    expect(dumpSchema(scratchUrl.toString())).toBe(dumpSchema(server.toString()));
    // and the same reference data: currencies, their system wallets, transaction types
    const referenceData = async (url: string) => {
      const db = postgres(url, { max: 1, onnotice: () => {} });
      const rows = await db`select (select string_agg(code || minor_units, ',' order by code) from public.currencies) as currencies,
                                   (select string_agg(system_code || currency, ',' order by system_code, currency)
                                      from public.wallets where kind = 'system') as system_wallets,
                                   (select string_agg(concat_ws('|', code, fee_payer, description), ',' order by code)
                                      from public.transaction_types) as transaction_types`;
      await db.end();
      return rows[0];
    };
    expect(await referenceData(scratchUrl.toString())).toEqual(await referenceData(server.toString()));
  });

  it("every migration rolls back (migrate:down) and applies again", async () => {
    const roundTrip = `${scratch}_down`;
    await admin.unsafe(`create database "${roundTrip}"`);
    try {
      const url = new URL(server);
      url.pathname = `/${roundTrip}`;
      url.searchParams.set("sslmode", "disable");
      const dbmate = (...args: string[]) => execFileSync(path.join(root, "node_modules/.bin/dbmate"), [
        "--migrations-dir", path.join(root, "database/migrations"), "--migrations-table", "dbmate.schema_migrations",
        "--no-dump-schema", ...args,
      ], { env: { ...process.env, DATABASE_URL: url.toString() }, stdio: "pipe" });
      dbmate("up");
      const count = readdirSync(path.join(root, "database/migrations")).filter((f) => f.endsWith(".sql")).length;
      for (let i = 0; i < count; i++) dbmate("rollback");
      const db = postgres(url.toString(), { max: 1, onnotice: () => {} });
      const left = await db`select count(*)::int as n from pg_tables where schemaname = 'public'`;
      await db.end();
      expect(left[0].n).toBe(0);
      dbmate("up");
    } finally {
      await admin.unsafe(`drop database if exists "${roundTrip}" with (force)`);
    }
  });

  it("supabase/config.toml declares every function with its entrypoint", () => {
    const toml = readFileSync(path.join(root, "supabase/config.toml"), "utf8");
    expect([...toml.matchAll(/^\[functions\.([a-z0-9_-]+)\]$/gm)].map((m) => m[1]).sort()).toEqual(registeredFunctions);
    for (const name of functionNames) {
      expect(toml).toContain(`[functions.${name}]`);
      expect(toml).toContain(`entrypoint = "../functions/${name}/index.ts"`);
    }
    expect(toml).not.toMatch(/import_map = "(?!\.\/import_map\.json")/);
    const denoImports = JSON.parse(readFileSync(path.join(root, "deno.json"), "utf8")).imports;
    const deployImports = JSON.parse(readFileSync(path.join(root, "supabase/import_map.json"), "utf8")).imports;
    expect(deployImports).toEqual(denoImports);
  });

  it("npm start's development JWT secret is the one production refuses", async () => {
    const { DEV_JWT_SECRET } = await import("../../functions/_shared/config.ts");
    expect(readFileSync(path.join(root, "scripts/start.mjs"), "utf8")).toContain(`"${DEV_JWT_SECRET}"`);
  });

  it("the local edge server serves every function", () => {
    expect(registeredFunctions).toEqual(functionNames);
    const serve = readFileSync(path.join(root, "scripts/serve.ts"), "utf8");
    expect(serve).toContain(`from "../functions/registry.ts"`);
    expect(serve).toMatch(/\bdispatch\(req\b/);
  });
});
