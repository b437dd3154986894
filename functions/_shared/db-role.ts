// What the edge's login role can do beyond becoming anon, authenticated and service_role.
// The edge must connect as a PostgREST-style `authenticator` (README "Security model"):
// every request then runs as one of the three, and no bug or injected `set role` can
// reach more. Production refuses any other connection (db.ts, scripts/serve.ts).
import type postgres from "postgres";

/** The roles a request may run as (db.ts runAs). */
export const REQUEST_ROLES = ["anon", "authenticated", "service_role"] as const;

/** Why the connection's login role is more than an authenticator; empty when it is one. */
export async function loginRoleProblems(
  sql: postgres.Sql | postgres.TransactionSql,
): Promise<string[]> {
  // session_user, not current_user: the login role, whatever role is set at the moment.
  const [role] = await sql`
    select r.rolname, r.rolsuper, r.rolbypassrls, r.rolcreaterole, r.rolreplication, r.rolinherit,
           array(select g.rolname::text from pg_catalog.pg_auth_members m
                   join pg_catalog.pg_roles g on g.oid = m.roleid
                  where m.member = r.oid and g.rolname <> all(${REQUEST_ROLES as unknown as string[]})
                  order by 1) as other_roles,
           exists(select from pg_catalog.pg_class c
                   where c.relowner = r.oid
                     and c.relnamespace in (select oid from pg_catalog.pg_namespace where nspname in ('public', 'hazina')))
             as owns_tables
      from pg_catalog.pg_roles r where r.rolname = session_user`;
  const problems: string[] = [];
  if (role.rolsuper) problems.push("is a superuser");
  if (role.rolbypassrls) problems.push("has BYPASSRLS");
  if (role.rolcreaterole) problems.push("has CREATEROLE (it could grant itself other roles)");
  if (role.rolreplication) problems.push("has REPLICATION");
  if (role.rolinherit) {
    problems.push(
      "is INHERIT (queries outside a request role would run with its members' privileges)",
    );
  }
  if (role.other_roles.length > 0) problems.push(`may become ${role.other_roles.join(", ")}`);
  if (role.owns_tables) problems.push("owns Hazina's tables (owners bypass RLS)");
  return problems.map((p) => `database login role '${role.rolname}' ${p}`);
}
