-- Lint every PL/pgSQL function (and trigger function) in public and hazina with
-- plpgsql_check: unknown columns, type mismatches, unreachable code, unused variables.
begin;
select plan(1);

create extension if not exists plpgsql_check with schema extensions;

-- The Supabase Auth mirror's trigger function is checked against a stand-in auth.users
-- with the columns of Supabase's table it reads (as in 11_supabase_auth_mirror).
create table auth.users (id uuid primary key, email text, email_confirmed_at timestamptz, phone text,
                         raw_app_meta_data jsonb, raw_user_meta_data jsonb);
select hazina.install_supabase_auth_mirror();

select is(
  array(select format('%s line %s: %s: %s', p.oid::regprocedure, c.lineno, c.level, c.message)
          from pg_proc p
          join pg_language l on l.oid = p.prolang and l.lanname = 'plpgsql'
          cross join lateral extensions.plpgsql_check_function_tb(
            p.oid, coalesce((select t.tgrelid from pg_trigger t where t.tgfoid = p.oid limit 1), 0)::regclass,
            fatal_errors => false, extra_warnings => true, other_warnings => true) c
         where p.pronamespace in ('hazina'::regnamespace, 'public'::regnamespace)
         order by 1),
  array[]::text[],
  'plpgsql_check finds nothing in any function');

select * from finish();
rollback;
