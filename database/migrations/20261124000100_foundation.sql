-- migrate:up
-- Foundation: roles, schemas, JWT helpers and the append-only audit log.
-- Everything here is written to be a no-op where Supabase already provides it,
-- so the same migrations run on plain PostgreSQL and on a Supabase project.

-- The three PostgREST roles. On Supabase they exist already.
do $$
begin
  if not exists (select from pg_roles where rolname = 'anon') then
    create role anon nologin noinherit;
  end if;
  if not exists (select from pg_roles where rolname = 'authenticated') then
    create role authenticated nologin noinherit;
  end if;
  if not exists (select from pg_roles where rolname = 'service_role') then
    create role service_role nologin noinherit bypassrls;
  end if;
  -- The connecting role must be able to `set role` to each of them (PostgREST style).
  -- (On Supabase it already can, and may not hold the admin option to grant it again.)
  if not pg_has_role(current_user, 'anon', 'member') or not pg_has_role(current_user, 'authenticated', 'member')
     or not pg_has_role(current_user, 'service_role', 'member') then
    execute format('grant anon, authenticated, service_role to %I', current_user);
  end if;
end
$$;

-- Schemas Supabase provides (owned there by its own admin roles): created and granted
-- only where missing, so the migration never touches Supabase's.
do $$
begin
  if not exists (select from pg_namespace where nspname = 'extensions') then
    create schema extensions;
    grant usage on schema extensions to anon, authenticated, service_role;
  end if;
  -- Supabase's auth.uid()/auth.jwt()/auth.role() live in `auth`; see below.
  if not exists (select from pg_namespace where nspname = 'auth') then
    create schema auth;
    grant usage on schema auth to anon, authenticated, service_role;
  end if;
end
$$;
create extension if not exists btree_gist with schema extensions;
create extension if not exists pgcrypto with schema extensions;

-- Supabase's auth.uid()/auth.jwt()/auth.role(), defined only when the database lacks them,
-- so RLS policies read the caller the same way everywhere.
do $$
begin
  if to_regprocedure('auth.jwt()') is null then
    create function auth.jwt() returns jsonb
      language sql stable
      as $f$
        select coalesce(
          nullif(current_setting('request.jwt.claim', true), ''),
          nullif(current_setting('request.jwt.claims', true), '')
        )::jsonb
      $f$;
  end if;
  if to_regprocedure('auth.uid()') is null then
    create function auth.uid() returns uuid
      language sql stable
      as $f$
        select coalesce(
          nullif(current_setting('request.jwt.claim.sub', true), ''),
          (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub')
        )::uuid
      $f$;
  end if;
  if to_regprocedure('auth.role()') is null then
    create function auth.role() returns text
      language sql stable
      as $f$
        select coalesce(
          nullif(current_setting('request.jwt.claim.role', true), ''),
          (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'role')
        )::text
      $f$;
  end if;
end
$$;

-- Internal schema: posting functions and helpers that clients must never call directly.
-- It is not in PostgREST's exposed schemas and clients have no usage on it.
create schema if not exists hazina;
revoke all on schema hazina from public;
grant usage on schema hazina to service_role;

-- PostgreSQL grants EXECUTE on new functions to PUBLIC (and Supabase adds anon and
-- authenticated in `public`). So every migration ends by revoking execute on the internal
-- schema from those roles and grants public-schema functions explicitly; the guard tests
-- in tests/database/00_guards.test.sql fail when a migration forgets.

-- The request id the edge sets, PostgREST style, in request.headers.
create function hazina.request_id() returns text
  language sql stable
  set search_path = ''
  as $$ select nullif(current_setting('request.headers', true), '')::jsonb ->> 'x-request-id' $$;

grant execute on function hazina.request_id() to service_role;

-- Time-ordered UUIDs (version 7: 48-bit Unix milliseconds, then random bits) for
-- append-mostly tables: new keys land at the right edge of their indexes instead of on a
-- random page, which keeps index pages hot and full-page WAL images rare.
-- No SET clause, unlike other functions: it would stop PostgreSQL inlining this into the
-- INSERTs that use it as a default (a 30 µs call each); it names only pg_catalog functions.
create function hazina.uuid_v7() returns uuid
  language sql volatile
  as $$
  select encode(
           set_bit(set_bit(                                   -- version nibble 0100 -> 0111
             overlay(uuid_send(gen_random_uuid())             -- random bits, RFC 4122 variant
                     placing substring(int8send((extract(epoch from clock_timestamp()) * 1000)::bigint) from 3)
                     from 1 for 6),
             52, 1), 53, 1),
           'hex')::uuid
$$;
grant execute on function hazina.uuid_v7() to service_role;

-- Stable error scheme: every business error is SQLSTATE P0001 with the machine code as
-- the message and optional JSON details in DETAIL. The edge maps codes to HTTP statuses.
create function hazina.raise_error(p_code text, p_details jsonb default '{}'::jsonb)
  returns void
  language plpgsql
  set search_path = ''
  as $$
begin
  raise exception using errcode = 'P0001', message = p_code, detail = p_details::text;
end
$$;

-- Audit log (spec: audit_logs). Append-only for every role, including table owners:
-- a trigger refuses UPDATE, DELETE and TRUNCATE.
create table public.audit_logs (
  id          bigint generated always as identity primary key,
  actor_id    uuid,
  actor_role  text,
  action      text not null check (action in ('INSERT', 'UPDATE', 'DELETE')),
  table_name  text not null,
  row_id      text,
  old_values  jsonb,
  new_values  jsonb,
  request_id  text,
  created_at  timestamptz not null default now()
);
create index audit_logs_table_row_idx on public.audit_logs (table_name, row_id);
create index audit_logs_actor_idx on public.audit_logs (actor_id, created_at);

alter table public.audit_logs enable row level security;
revoke all on table public.audit_logs from public, anon, authenticated;
grant select on table public.audit_logs to service_role;

-- Admins read it: the policy "admins read audit logs" is created with the admin rule,
-- public.is_admin() (*_auth_caller.sql), once the tables it reads exist. Until then the
-- grant below lets authenticated query the table and RLS shows them nothing.
grant select on table public.audit_logs to authenticated;

create function hazina.audit_logs_are_append_only() returns trigger
  language plpgsql
  set search_path = ''
  as $$
begin
  raise exception using errcode = 'P0001', message = 'audit_log_append_only',
    detail = jsonb_build_object('operation', tg_op)::text;
end
$$;

create trigger audit_logs_append_only
  before update or delete on public.audit_logs
  for each row execute function hazina.audit_logs_are_append_only();
create trigger audit_logs_no_truncate
  before truncate on public.audit_logs
  for each statement execute function hazina.audit_logs_are_append_only();

-- Generic row audit trigger: attach with
--   create trigger <t>_audit after insert or update or delete on public.<t>
--     for each row execute function hazina.audit_row_change('secret_column', ...);
-- Trigger arguments name columns that must never be copied into the log (hashes, tokens).
create function hazina.audit_row_change() returns trigger
  language plpgsql
  security definer
  set search_path = ''
  as $$
declare
  v_old jsonb := case when tg_op in ('UPDATE', 'DELETE') then to_jsonb(old) - coalesce(tg_argv, '{}') end;
  v_new jsonb := case when tg_op in ('INSERT', 'UPDATE') then to_jsonb(new) - coalesce(tg_argv, '{}') end;
begin
  insert into public.audit_logs (actor_id, actor_role, action, table_name, row_id,
                                 old_values, new_values, request_id)
  values (auth.uid(), coalesce(auth.role(), current_user), tg_op, tg_table_name,
          coalesce(v_new ->> 'id', v_old ->> 'id'), v_old, v_new, hazina.request_id());
  return null;
end
$$;

revoke execute on all functions in schema hazina from public, anon, authenticated;

-- migrate:down
drop function if exists hazina.audit_row_change();
drop table if exists public.audit_logs;
drop function if exists hazina.audit_logs_are_append_only();
drop function if exists hazina.raise_error(text, jsonb);
drop function if exists hazina.request_id();
drop function if exists hazina.uuid_v7();
drop schema if exists hazina;
