-- migrate:up
-- The edge's login role: `authenticator`, as PostgREST and Supabase use it. It can log in
-- and become anon, authenticated or service_role (`set role`, transaction-local, per
-- request) and nothing else: not a superuser, no BYPASSRLS/CREATEROLE/CREATEDB/REPLICATION,
-- no privileges of its own, and NOINHERIT, so a query that forgot to set a role can read
-- nothing. The owner/superuser is for migrations only (README "Configuration").
--
-- Roles are cluster-wide: the role is created only where missing (Supabase has its own,
-- with a password Supabase manages; many databases share one server in tests, migrating
-- at the same time). No password is set here: secrets come from the environment, so the
-- operator (or `npm start`, for its embedded server) sets one where the server asks.
do $$
begin
  if not exists (select from pg_roles where rolname = 'authenticator') then
    begin
      create role authenticator login noinherit nosuperuser nocreatedb nocreaterole nobypassrls noreplication;
    exception when duplicate_object or unique_violation then
      null; -- another database on this server created it a moment ago
    end;
  end if;
  -- Granted only when missing: on Supabase it already holds them, and the migrating role
  -- may not hold the admin option to grant them again.
  if not pg_has_role('authenticator', 'anon', 'member') or not pg_has_role('authenticator', 'authenticated', 'member')
     or not pg_has_role('authenticator', 'service_role', 'member') then
    begin
      grant anon, authenticated, service_role to authenticator;
    exception when unique_violation then
      null; -- granted concurrently by another database's migration
    end;
  end if;
end
$$;

-- GET /health reads the newest applied migration. The edge asks as service_role, which has
-- no business in the dbmate schema: this function answers that one question.
create function hazina.applied_schema_version() returns text
  language sql stable
  security definer
  set search_path = ''
  as $$ select max(version)::text from dbmate.schema_migrations $$;

revoke execute on all functions in schema hazina from public, anon, authenticated;
grant execute on function hazina.applied_schema_version() to service_role;

-- migrate:down
drop function if exists hazina.applied_schema_version();
-- The role stays: it is cluster-wide, so other databases on this server may use it.
