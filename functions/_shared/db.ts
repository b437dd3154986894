// The one database module. Every request runs its SQL the way PostgREST does:
// one transaction, `role` set to the caller's database role and `request.jwt.claims`
// set to the verified JWT claims, so RLS and the PL/pgSQL functions decide who may do what.
import postgres from "postgres";
import { config } from "./config.ts";
import { loginRoleProblems, REQUEST_ROLES } from "./db-role.ts";
import { ApiError, isConnectionError } from "./errors.ts";
import { log } from "./log.ts";

export type Sql = postgres.Sql;
export type Tx = postgres.TransactionSql;
export type JwtClaims = Record<string, unknown> & { sub?: string; role?: string };

let pool: Sql | undefined;
let roleChecked: Promise<void> | undefined;

/** The shared connection pool (lazy, so importing this module never connects). */
export function db(): Sql {
  if (!pool) {
    installDriverCrashGuard();
    const cfg = config();
    pool = postgres(cfg.DATABASE_URL, {
      max: cfg.DB_POOL_MAX,
      // Named prepared statements, unless a transaction-mode pooler sits in between (DB_PREPARE).
      prepare: cfg.DB_PREPARE,
      idle_timeout: 30,
      connect_timeout: 10,
      onnotice: () => {},
      // numeric and bigint stay strings: money never becomes a JS number.
      connection: { application_name: "hazina-edge" },
    });
  }
  return pool;
}

/**
 * Replace the pool after its connection broke (a database restart, a dropped connection):
 * new requests get fresh connections, while the old pool lets its in-flight queries finish.
 * A fresh pool also sheds a connection left wedged by the driver bug guarded below (its
 * write buffer and timer never reset). Only once per pool: `broken` is the pool that failed.
 */
function replacePool(broken: Sql | undefined): void {
  if (!broken || pool !== broken) return;
  pool = undefined;
  broken.end({ timeout: 30 }).catch(() => {});
}

let guardInstalled = false;

/**
 * postgres.js 3.4.9 (the latest) may write to a socket it has just closed, from a
 * setImmediate callback, when a connection drops under load: "Cannot read properties of
 * null (reading 'write')" at nextWrite in connection.js, an uncaught exception that kills
 * the whole process (porsager/postgres#1066, #1154; fix proposed in #1168). Nothing awaits
 * that callback, so no try/catch can see it: under Deno (our server and Supabase) we stop
 * exactly this error from ending the process, and replace the pool. Remove once fixed upstream.
 */
function installDriverCrashGuard(): void {
  if (guardInstalled || !("Deno" in globalThis)) return;
  guardInstalled = true;
  globalThis.addEventListener("error", (event: ErrorEvent) => {
    const err = event.error;
    if (
      !(err instanceof TypeError) || !/reading 'write'/.test(err.message) ||
      !/nextWrite/.test(err.stack ?? "") || !/connection\.js/.test(err.stack ?? "")
    ) return;
    event.preventDefault();
    log(
      "warn",
      "database driver wrote to a closed connection (postgres.js bug); replacing the pool",
      { error: err.message },
    );
    replacePool(pool);
  });
}

export async function closeDb(): Promise<void> {
  const current = pool;
  pool = undefined;
  roleChecked = undefined;
  await current?.end({ timeout: 5 });
}

/**
 * Problems with the login role `db()` connects as (empty: a proper authenticator). Throws
 * when the database cannot be reached.
 */
export function databaseRoleProblems(): Promise<string[]> {
  return loginRoleProblems(db());
}

/**
 * In production, no request runs until the login role is known to be an authenticator
 * (checked once per pool). This covers Supabase, where each function serves itself;
 * scripts/serve.ts also refuses to start. ALLOW_PRIVILEGED_DB_ROLE=true waives it.
 */
function ensureSafeLoginRole(): Promise<void> {
  const cfg = config();
  if (cfg.HAZINA_ENV !== "production" || cfg.ALLOW_PRIVILEGED_DB_ROLE) return Promise.resolve();
  roleChecked ??= databaseRoleProblems().then((problems) => {
    if (problems.length === 0) return;
    log("error", "refusing requests: unsafe database login role", { problems });
    throw new ApiError(
      503,
      "database_role_unsafe",
      "The service's database connection is misconfigured; an operator has to fix it.",
    );
  }, (err) => {
    roleChecked = undefined; // unreachable: ask again on the next request
    throw err;
  });
  return roleChecked;
}

/**
 * Run `fn` in one transaction on the pool, with no role set yet (the caller sets it, as
 * runAs does). A broken connection replaces the pool; the error goes on to the caller.
 */
export async function inTransaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
  await ensureSafeLoginRole();
  const current = db();
  try {
    return await current.begin(fn) as T;
  } catch (err) {
    // Unreachable, restarting, or the connection dropped (even at COMMIT, so the work may
    // have committed): the caller answers 503 database_unavailable (errors.ts), and the
    // next request gets a fresh pool, so service resumes once the database is back.
    if (isConnectionError(err)) replacePool(current);
    throw err;
  }
}

/** The database role and the `request.jwt.claims` a request runs with (`anon` without a subject). */
export function callerRole(
  claims: JwtClaims | undefined,
): { role: typeof REQUEST_ROLES[number]; claims: JwtClaims } {
  if (!claims?.sub) return { role: "anon", claims: { role: "anon" } };
  return { role: "authenticated", claims: { ...claims, role: "authenticated" } };
}

function runAs<T>(
  role: typeof REQUEST_ROLES[number],
  claims: JwtClaims,
  requestId: string | undefined,
  fn: (tx: Tx) => Promise<T>,
): Promise<T> {
  return inTransaction(async (tx) => {
    // One statement sets the role, the claims and the request headers (for audit logs), all
    // transaction-local, exactly as PostgREST does. It is sent at once but not awaited, so
    // it travels with fn's first statement: one round trip fewer per request. Should it
    // fail, the transaction is aborted and fn's statements fail after it: its error is the
    // one reported.
    const setup = tx`select set_config('role', ${role}, true),
                    set_config('request.jwt.claims', ${JSON.stringify(claims)}, true),
                    set_config('request.headers', ${
      JSON.stringify({ "x-request-id": requestId ?? null })
    }, true)`.then(() => undefined, (err: unknown) => ({ err }));
    let result: T;
    try {
      result = await fn(tx);
    } catch (err) {
      throw (await setup)?.err ?? err;
    }
    const failed = await setup;
    if (failed) throw failed.err;
    return result;
  });
}

/** Run `fn` as the verified caller (`authenticated`, or `anon` when there are no claims). */
export function asUser<T>(
  claims: JwtClaims | undefined,
  requestId: string | undefined,
  fn: (tx: Tx) => Promise<T>,
): Promise<T> {
  const caller = callerRole(claims);
  return runAs(caller.role, caller.claims, requestId, fn);
}

/** Run `fn` as `service_role`: for webhooks, jobs and the auth service, never for client input alone. */
export function asService<T>(
  requestId: string | undefined,
  fn: (tx: Tx) => Promise<T>,
): Promise<T> {
  return runAs("service_role", { role: "service_role" }, requestId, fn);
}
