-- The edge's login role (20261124000960_authenticator.sql): it logs in, may become anon,
-- authenticated and service_role, and nothing else; it holds no privileges of its own.
begin;
select plan(8);

select has_role('authenticator', 'the authenticator role exists');

select is(
  (select row(rolcanlogin, rolinherit, rolsuper, rolbypassrls, rolcreaterole, rolcreatedb, rolreplication)::text
     from pg_roles where rolname = 'authenticator'),
  row(true, false, false, false, false, false, false)::text,
  'authenticator: LOGIN NOINHERIT, not a superuser, no BYPASSRLS/CREATEROLE/CREATEDB/REPLICATION');

select is(
  array(select g.rolname::text from pg_auth_members m join pg_roles g on g.oid = m.roleid
         where m.member = 'authenticator'::regrole order by 1),
  array['anon', 'authenticated', 'service_role'],
  'authenticator is a member of exactly anon, authenticated and service_role');

select is(
  array(select g.rolname::text from pg_auth_members m join pg_roles g on g.oid = m.roleid
         where m.member = 'authenticator'::regrole and m.admin_option),
  array[]::text[],
  'authenticator cannot grant those roles to anyone');

-- NOINHERIT: a query that forgot `set role` runs with authenticator's own privileges, none.
select is(
  array(select format('%s.%s', c.relnamespace::regnamespace, c.relname) from pg_class c
         where c.relnamespace in ('public'::regnamespace, 'hazina'::regnamespace, 'dbmate'::regnamespace, 'auth'::regnamespace)
           and c.relkind in ('r', 'p', 'v', 'm', 'S')
           and (has_table_privilege('authenticator', c.oid, 'SELECT, INSERT, UPDATE, DELETE, TRUNCATE')
                or c.relowner = 'authenticator'::regrole)
         order by 1),
  array[]::text[],
  'authenticator owns no table and holds no privilege on any');

select is(
  array(select p.oid::regprocedure::text from pg_proc p
         where p.pronamespace in ('public'::regnamespace, 'hazina'::regnamespace)
           and has_function_privilege('authenticator', p.oid, 'EXECUTE')
         order by 1),
  array[]::text[],
  'authenticator itself can execute no Hazina function');

-- GET /health asks for the applied migration as service_role, and only service_role may.
select is(
  array(select r from unnest(array['anon', 'authenticated', 'service_role', 'authenticator']) r
         where has_function_privilege(r, 'hazina.applied_schema_version()', 'EXECUTE')),
  array['service_role'],
  'only service_role may ask for the applied schema version');

select is(hazina.applied_schema_version(), (select max(version)::text from dbmate.schema_migrations),
  'hazina.applied_schema_version() is the newest applied migration');

select * from finish();
rollback;
