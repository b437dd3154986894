// `npm run db:dump`: migrate a scratch database and write database/schema.sql from it,
// so schema.sql always equals "all migrations applied". Unlike dbmate's own dump it keeps
// GRANT/REVOKE (privileges are part of our security model) and starts with the role
// preamble, so the file loads alone into an empty database on any server.
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import postgres from "postgres";
import { dbmate, localServerUrl, migrationsTable, schemaFile, withDatabase } from "./lib.mjs";

const serverUrl = process.env.DATABASE_URL ?? localServerUrl;
const scratch = `hazina_dump_${Date.now()}`;
const scratchUrl = withDatabase(serverUrl, scratch);
const admin = postgres(withDatabase(serverUrl, "postgres"), { max: 1, onnotice: () => {} });

const rolePreamble = `-- Roles PostgREST/Supabase use (cluster-wide, so pg_dump leaves them out).
DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'anon') THEN CREATE ROLE anon NOLOGIN NOINHERIT; END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'authenticated') THEN CREATE ROLE authenticated NOLOGIN NOINHERIT; END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'service_role') THEN CREATE ROLE service_role NOLOGIN NOINHERIT BYPASSRLS; END IF;
  -- The edge's login role (as in *_authenticator.sql).
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'authenticator') THEN
    CREATE ROLE authenticator LOGIN NOINHERIT NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS NOREPLICATION;
  END IF;
  IF NOT pg_has_role('authenticator', 'anon', 'member') OR NOT pg_has_role('authenticator', 'authenticated', 'member')
     OR NOT pg_has_role('authenticator', 'service_role', 'member') THEN
    GRANT anon, authenticated, service_role TO authenticator;
  END IF;
END
$$;
`;

await admin.unsafe(`create database "${scratch}"`);
try {
  dbmate(scratchUrl, ["--no-dump-schema", "up"], { quiet: true });
  const dump = execFileSync(
    "pg_dump",
    ["--schema-only", "--no-owner", "--no-comments", scratchUrl],
    { encoding: "utf8" },
  );
  const db = postgres(scratchUrl, { max: 1, onnotice: () => {} });
  const versions = await db.unsafe(`select version from ${migrationsTable} order by version`);
  await db.end();
  // Reference data the migrations insert (pg_dump --schema-only leaves data out): the
  // currencies, the transaction types, the job catalog, the registered reconciliation checks,
  // and the system wallets derived from the currencies.
  const referenceData = "\n-- Reference data inserted by the migrations\n\n" +
    execFileSync("pg_dump", [
      "--data-only",
      "--inserts",
      "--table=public.currencies",
      "--table=public.transaction_types",
      "--table=hazina.jobs",
      "--table=hazina.reconciliation_checks",
      scratchUrl,
    ], { encoding: "utf8" })
      .split("\n").filter((line) => line.startsWith("INSERT INTO")).join("\n") +
    "\nSELECT hazina.ensure_system_wallets(code) FROM public.currencies;\n";
  const migrationsInsert =
    `\n-- Migrations already contained in this file\n\nINSERT INTO ${migrationsTable} (version) VALUES\n` +
    versions.map((v) => `    ('${v.version}')`).join(",\n") + ";\n";
  writeFileSync(
    schemaFile,
    rolePreamble + "\n" + dump.replace(/^-- Dumped (from|by).*\n/gm, "") + referenceData +
      migrationsInsert,
  );
  console.log(`wrote database/schema.sql (${versions.length} migrations)`);
} finally {
  await admin.unsafe(`drop database if exists "${scratch}" with (force)`);
  await admin.end();
}
