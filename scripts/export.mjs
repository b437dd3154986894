// `npm run export`: a logical (pg_dump) export, for portability: to move to another server,
// to hand a merchant their data, to keep outside the backup tool.
//
//   npm run export                         the whole platform: one pg_dump archive (custom
//                                          format) of the database, restorable with pg_restore
//   npm run export -- --merchant <user id> one user's data: a folder with one CSV per table of
//                                          exactly the rows that user may read (their wallets,
//                                          ledger entries, transactions, fees, sources, …),
//                                          schema.sql (pg_dump of those tables) and manifest.json
//   [--out <path>]                         where to write (default exports/…)
//
// "A merchant's rows" is the platform's own definition: what row-level security lets that
// user read (the policies every API read goes through), with the columns granted to
// `authenticated` (never password hashes or token secrets). Every table is read in one
// snapshot, which pg_dump shares, so the files agree with each other.
//
// The database: DATABASE_URL (the owner's), else the running embedded cluster of `npm start`.
import { execFile } from "node:child_process";
import { createWriteStream, existsSync, mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { pipeline } from "node:stream/promises";
import { promisify } from "node:util";
import { parseArgs } from "node:util";
import postgres from "postgres";
import { defaultDataDir, migrationsTable, root, shownUrl, which, withDatabase } from "./lib.mjs";
import { runningPort } from "./pgbackrest.mjs";

const run = promisify(execFile);
const { values } = parseArgs({
  options: { merchant: { type: "string" }, out: { type: "string" } },
});
const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
if (values.merchant !== undefined && !uuid.test(values.merchant)) {
  console.error(
    `--merchant takes the merchant's user id (a UUID), got ${JSON.stringify(values.merchant)}`,
  );
  process.exit(2);
}
if (!which("pg_dump")) {
  console.error(
    "pg_dump is not installed (Debian/Ubuntu: apt-get install postgresql-client-15; macOS: brew install libpq)",
  );
  process.exit(1);
}

function databaseUrl() {
  if (process.env.DATABASE_URL) return process.env.DATABASE_URL;
  const port = runningPort(defaultDataDir());
  if (!port) {
    throw new Error(
      "no database: set DATABASE_URL, or start the embedded cluster with `npm start`",
    );
  }
  return withDatabase(`postgres://postgres:postgres@127.0.0.1:${port}/postgres`, "hazina");
}

/** Identifier quoting for the SQL we build from catalog names. */
const ident = (name) => `"${name.replaceAll('"', '""')}"`;
const stamp = new Date().toISOString().replace(/[-:]/g, "").replace(/\..*/, "").replace("T", "-");

try {
  const url = databaseUrl();
  if (values.merchant) await exportMerchant(url, values.merchant);
  else await exportPlatform(url);
} catch (err) {
  console.error(`export failed: ${err.message}`);
  process.exit(1);
}

async function exportPlatform(url) {
  const file = path.resolve(values.out ?? path.join(root, "exports", `hazina-${stamp}.dump`));
  mkdirSync(path.dirname(file), { recursive: true });
  const started = Date.now();
  await run("pg_dump", ["--format=custom", "--file", file, url]);
  console.log(
    `exported ${shownUrl(url)} to ${file} in ${((Date.now() - started) / 1000).toFixed(1)} s
Load it into an empty database (create the roles first: the first block of database/schema.sql):
  pg_restore --no-owner --exit-on-error --dbname <postgres://…/new> ${file}`,
  );
}

async function exportMerchant(url, userId) {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    const [user] = await sql`select id, email, role from public.auth_users where id = ${userId}`;
    if (!user) throw new Error(`no user ${userId} in ${shownUrl(url)}`);
    const dir = path.resolve(
      values.out ?? path.join(root, "exports", `merchant-${userId}-${stamp}`),
    );
    if (existsSync(dir)) throw new Error(`${dir} already exists`);
    mkdirSync(dir, { recursive: true });

    const manifest = await sql.begin("isolation level repeatable read read only", async (tx) => {
      const [{ snapshot }] = await tx`select pg_export_snapshot() as snapshot`;
      const [{ version }] = await tx.unsafe(
        `select max(version) as version from ${migrationsTable}`,
      );
      // Every table of the API schema, and the columns `authenticated` may read.
      const tables = await tx`
        select c.relname as name,
               array_agg(a.attname order by a.attnum) filter (where has_column_privilege('authenticated', c.oid, a.attnum, 'SELECT')) as columns
          from pg_class c
          join pg_namespace n on n.oid = c.relnamespace and n.nspname = 'public'
          join pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
         where c.relkind in ('r', 'p') and not c.relispartition
         group by c.relname order by c.relname`;
      const exported = {};
      const notReadable = [];
      // From here on the snapshot is read as that user, under row-level security.
      await tx`select set_config('role', 'authenticated', true),
                      set_config('request.jwt.claims', ${
        JSON.stringify({ sub: userId, role: "authenticated" })
      }, true)`;
      for (const table of tables) {
        if (!table.columns?.length) {
          notReadable.push(table.name);
          continue;
        }
        const file = `${table.name}.csv`;
        const query = `select ${table.columns.map(ident).join(", ")} from public.${
          ident(table.name)
        }`;
        const stream = await tx.unsafe(`copy (${query}) to stdout with (format csv, header)`)
          .readable();
        await pipeline(stream, createWriteStream(path.join(dir, file)));
        const [{ rows }] = await tx.unsafe(`select count(*)::int as rows from (${query}) t`);
        exported[table.name] = { file, rows, columns: table.columns };
      }
      await tx`reset role`;
      // The same snapshot, for the definitions of the exported tables.
      const schema = await run("pg_dump", [
        "--schema-only",
        "--no-owner",
        "--no-privileges",
        `--snapshot=${snapshot}`,
        ...Object.keys(exported).map((name) => `--table=public.${ident(name)}`),
        url,
      ], { maxBuffer: 64 * 1024 * 1024 });
      writeFileSync(path.join(dir, "schema.sql"), schema.stdout);
      return {
        user_id: userId,
        role: user.role,
        email: user.email,
        exported_at: new Date().toISOString(),
        schema_version: version,
        rule:
          "rows this user may read under row-level security (as the API serves them), columns granted to authenticated, one snapshot",
        format:
          "CSV with a header row (PostgreSQL csv: NULL is an empty unquoted field; amounts exact decimals); schema.sql defines the tables",
        tables: exported,
        not_readable_by_the_user: notReadable,
      };
    });
    writeFileSync(path.join(dir, "manifest.json"), JSON.stringify(manifest, null, 2) + "\n");
    const counts = Object.entries(manifest.tables).filter(([, t]) => t.rows > 0).map(([name, t]) =>
      `${name} ${t.rows}`
    );
    console.log(`exported ${user.role} ${userId} to ${dir}: ${counts.join(", ")}`);
  } finally {
    await sql.end();
  }
}
