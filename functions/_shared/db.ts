// The one database module. Every request runs its SQL the way PostgREST does:
// one transaction, `role` set to the caller's database role and `request.jwt.claims`
// set to the verified JWT claims, so RLS and the PL/pgSQL functions decide who may do what.
import postgres from "postgres";
import { config } from "./config.ts";

export type Sql = postgres.Sql;
export type Tx = postgres.TransactionSql;
export type JwtClaims = Record<string, unknown> & { sub?: string; role?: string };

let pool: Sql | undefined;

/** The shared connection pool (lazy, so importing this module never connects). */
export function db(): Sql {
  if (!pool) {
    const cfg = config();
    pool = postgres(cfg.DATABASE_URL, {
      max: cfg.DB_POOL_MAX,
      idle_timeout: 30,
      connect_timeout: 10,
      onnotice: () => {},
      // numeric and bigint stay strings: money never becomes a JS number.
      connection: { application_name: "hazina-edge" },
    });
  }
  return pool;
}

export async function closeDb(): Promise<void> {
  const current = pool;
  pool = undefined;
  await current?.end({ timeout: 5 });
}

async function runAs<T>(
  role: "anon" | "authenticated" | "service_role",
  claims: JwtClaims,
  requestId: string | undefined,
  fn: (tx: Tx) => Promise<T>,
): Promise<T> {
  const result = await db().begin(async (tx) => {
    // One round trip sets the role, the claims and the request headers (for audit logs),
    // all transaction-local, exactly as PostgREST does.
    await tx`select set_config('role', ${role}, true),
                    set_config('request.jwt.claims', ${JSON.stringify(claims)}, true),
                    set_config('request.headers', ${JSON.stringify({ "x-request-id": requestId ?? null })}, true)`;
    return await fn(tx);
  });
  return result as T;
}

/** Run `fn` as the verified caller (`authenticated`, or `anon` when there are no claims). */
export function asUser<T>(claims: JwtClaims | undefined, requestId: string | undefined, fn: (tx: Tx) => Promise<T>): Promise<T> {
  if (!claims?.sub) return runAs("anon", { role: "anon" }, requestId, fn);
  return runAs("authenticated", { ...claims, role: "authenticated" }, requestId, fn);
}

/** Run `fn` as `service_role`: for webhooks, jobs and the auth service, never for client input alone. */
export function asService<T>(requestId: string | undefined, fn: (tx: Tx) => Promise<T>): Promise<T> {
  return runAs("service_role", { role: "service_role" }, requestId, fn);
}
